/**
 * Tensor memory that does not move between threads. Each decode thread owns a slab: a bounded set
 * of `SharedArrayBuffer` slots, created on demand and reused. A tensor decoded into a slot reaches
 * the main thread as a view of that memory (no transfer, no copy, and no new memory for the main
 * thread's garbage collector to account); the main thread hands the slot back when the tensor is
 * recycled (the decoder's `buffers.recycle`, or the end of a `Pool.lease`) or garbage-collected, by clearing the slot's cell in an
 * `Int32Array` both threads share. When no slot is free and the slab is full, a decode uses
 * ordinary memory, transferred as before, so a consumer that holds every tensor never waits.
 *
 * @since 0.2.0
 */

/**
 * Slots per decode thread (the cells of the shared state array).
 *
 * @since 0.2.0
 * @category constants
 */
export const maxSlots = 64

/**
 * The default bound of one decode thread's slab: 128 MiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultBytes = 128 * 1024 ** 2

/** A slot's cell: free, or holding a tensor (set by the decode thread, cleared by the main thread). */
const FREE = 0
const HELD = 1

/**
 * The memory of one decode: what it takes is freed when it ends, except the tensor it returns.
 *
 * @since 0.2.0
 * @category models
 */
export interface Lease {
  /** `bytes` of memory whose contents are undefined (every byte is written before it is read). */
  readonly take: (bytes: number) => ArrayBuffer | SharedArrayBuffer
  /**
   * Ends the decode: every slot it took goes back, except the one under `kept`, whose index is
   * returned (undefined when `kept` is not slab memory). Called again with `undefined` (the
   * tensor could not be handed over), it releases that slot too.
   */
  readonly finish: (kept: ArrayBufferLike | undefined) => number | undefined
}

/**
 * A decode thread's slab, over the state cells the main thread shares with it, bounded by `limit`
 * bytes (0: no slab, every tensor in ordinary memory).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (states: Int32Array, limit: number) => {
  const slots: Array<SharedArrayBuffer | undefined> = []
  const index = new Map<SharedArrayBuffer, number>()
  let total = 0
  const free = (k: number) => Atomics.load(states, k) === FREE
  const drop = (k: number) => {
    const slot = slots[k]!
    slots[k] = undefined
    index.delete(slot)
    total -= slot.byteLength
  }
  /** A free slot of at least `bytes` (the smallest), a new one when the bound allows, or none. */
  const claim = (bytes: number): SharedArrayBuffer | undefined => {
    if (bytes === 0 || bytes > limit) return undefined
    let best: number | undefined
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]
      if (slot === undefined || slot.byteLength < bytes || !free(k)) continue
      if (best === undefined || slot.byteLength < slots[best]!.byteLength) best = k
    }
    // A slot much larger than needed is left for a larger tensor, when a fitting one can be made.
    if (best !== undefined && (slots[best]!.byteLength <= 2 * bytes || total + bytes > limit)) {
      Atomics.store(states, best, HELD)
      return slots[best]
    }
    // Room for a new slot: free slots that are too small make way for it, but only when dropping
    // them makes room (bytes and a slot index); otherwise they stay for the tensors they fit.
    const small: Array<number> = []
    let smallBytes = 0
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]
      if (slot !== undefined && free(k) && slot.byteLength < bytes) {
        small.push(k)
        smallBytes += slot.byteLength
      }
    }
    if (total - smallBytes + bytes > limit) return undefined
    const capacity = Math.min(maxSlots, states.length)
    const hasIndex = () => slots.length < capacity || slots.some((slot) => slot === undefined)
    if (!hasIndex() && small.length === 0) return undefined
    // Smallest first, so as few and as small slots as possible are dropped.
    small.sort((a, b) => slots[a]!.byteLength - slots[b]!.byteLength)
    for (const k of small) {
      if (total + bytes <= limit && hasIndex()) break
      drop(k)
    }
    let k = slots.findIndex((slot) => slot === undefined)
    if (k < 0) k = slots.length
    const slot = new SharedArrayBuffer(bytes)
    slots[k] = slot
    index.set(slot, k)
    total += bytes
    Atomics.store(states, k, HELD)
    return slot
  }
  const release = (buffer: ArrayBufferLike) => {
    const k = buffer instanceof SharedArrayBuffer ? index.get(buffer) : undefined
    if (k !== undefined) Atomics.store(states, k, FREE)
  }

  /** The memory of one decode; `spare` (ordinary memory a consumer gave back) is used when it fits exactly. */
  const lease = (spare: { buffer: ArrayBuffer | undefined }): Lease => {
    const taken: Array<ArrayBufferLike> = []
    return {
      take: (bytes) => {
        const slot = claim(bytes)
        if (slot !== undefined) {
          taken.push(slot)
          return slot
        }
        if (spare.buffer !== undefined && spare.buffer.byteLength === bytes) {
          const buffer = spare.buffer
          spare.buffer = undefined
          return buffer
        }
        return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer
      },
      finish: (kept) => {
        for (const buffer of taken) if (buffer !== kept) release(buffer)
        return kept instanceof SharedArrayBuffer ? index.get(kept) : undefined
      }
    }
  }

  return {
    lease,
    /** Bytes in slots, held or free. */
    bytes: () => total
  }
}
