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

/** A slab's slots, their indices, the bytes they hold, over the cells both threads share. */
interface Slots {
  readonly states: Int32Array
  readonly limit: number
  readonly slots: Array<SharedArrayBuffer | undefined>
  readonly index: Map<SharedArrayBuffer, number>
  total: number
}

const isFree = (slab: Slots, k: number) => Atomics.load(slab.states, k) === FREE

const drop = (slab: Slots, k: number) => {
  const slot = slab.slots[k]!
  slab.slots[k] = undefined
  slab.index.delete(slot)
  slab.total -= slot.byteLength
}

/** The index of the smallest free slot of at least `bytes`, or undefined. */
const smallestFree = (slab: Slots, bytes: number): number | undefined => {
  const { slots } = slab
  let best: number | undefined
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]
    if (slot === undefined || slot.byteLength < bytes || !isFree(slab, k)) continue
    if (best === undefined || slot.byteLength < slots[best]!.byteLength) best = k
  }
  return best
}

/**
 * Room for a new slot of `bytes`: free slots that are too small make way for it, but only when
 * dropping them makes room (bytes and a slot index); otherwise they stay for the tensors they fit.
 * Whether there is room now.
 */
const makeRoom = (slab: Slots, bytes: number): boolean => {
  const { limit, slots } = slab
  const small: Array<number> = []
  let smallBytes = 0
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]
    if (slot !== undefined && isFree(slab, k) && slot.byteLength < bytes) {
      small.push(k)
      smallBytes += slot.byteLength
    }
  }
  if (slab.total - smallBytes + bytes > limit) return false
  const capacity = Math.min(maxSlots, slab.states.length)
  const hasIndex = () => slots.length < capacity || slots.some((slot) => slot === undefined)
  if (!hasIndex() && small.length === 0) return false
  // Smallest first, so as few and as small slots as possible are dropped.
  small.sort((a, b) => slots[a]!.byteLength - slots[b]!.byteLength)
  for (const k of small) {
    if (slab.total + bytes <= limit && hasIndex()) break
    drop(slab, k)
  }
  return true
}

/** A new slot of `bytes`, held, at the first free index. */
const addSlot = (slab: Slots, bytes: number): SharedArrayBuffer => {
  let k = slab.slots.findIndex((slot) => slot === undefined)
  if (k < 0) k = slab.slots.length
  const slot = new SharedArrayBuffer(bytes)
  slab.slots[k] = slot
  slab.index.set(slot, k)
  slab.total += bytes
  Atomics.store(slab.states, k, HELD)
  return slot
}

/** A free slot of at least `bytes` (the smallest), a new one when the bound allows, or none. */
const claim = (slab: Slots, bytes: number): SharedArrayBuffer | undefined => {
  if (bytes === 0 || bytes > slab.limit) return undefined
  const best = smallestFree(slab, bytes)
  // A slot much larger than needed is left for a larger tensor, when a fitting one can be made.
  if (best !== undefined && (slab.slots[best]!.byteLength <= 2 * bytes || slab.total + bytes > slab.limit)) {
    Atomics.store(slab.states, best, HELD)
    return slab.slots[best]
  }
  return makeRoom(slab, bytes) ? addSlot(slab, bytes) : undefined
}

const release = (slab: Slots, buffer: ArrayBufferLike) => {
  const k = buffer instanceof SharedArrayBuffer ? slab.index.get(buffer) : undefined
  if (k !== undefined) Atomics.store(slab.states, k, FREE)
}

/** The memory of one decode; `spare` (ordinary memory a consumer gave back) is used when it fits exactly. */
const lease = (slab: Slots, spare: { buffer: ArrayBuffer | undefined }): Lease => {
  const taken: Array<ArrayBufferLike> = []
  return {
    take: (bytes) => {
      const slot = claim(slab, bytes)
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
      for (const buffer of taken) if (buffer !== kept) release(slab, buffer)
      return kept instanceof SharedArrayBuffer ? slab.index.get(kept) : undefined
    }
  }
}

/**
 * A decode thread's slab, over the state cells the main thread shares with it, bounded by `limit`
 * bytes (0: no slab, every tensor in ordinary memory).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (states: Int32Array, limit: number) => {
  const slab: Slots = { states, limit, slots: [], index: new Map(), total: 0 }
  return {
    /** The memory of one decode; `spare` (ordinary memory a consumer gave back) is used when it fits exactly. */
    lease: (spare: { buffer: ArrayBuffer | undefined }): Lease => lease(slab, spare),
    /** Bytes in slots, held or free. */
    bytes: () => slab.total
  }
}
