/**
 * Reusable tensor memory: the free list a decoder owns. Every decode needs one large array;
 * allocating a fresh one per video makes V8 run a full garbage collection about once per video and
 * the kernel fault in and zero every page. Each decoder layer makes one free list in its scope
 * (`VideoDecoder`'s `buffers`), so the memory a consumer gives back always reaches the decoder that
 * takes from it: there is no free list to wire apart from its decoder.
 *
 * A decoder may also lend memory it owns (a decode thread's shared slab, say) with `lendUnsafe`:
 * giving such a tensor back, or its data being garbage-collected, hands that memory back to the
 * decoder instead of keeping it in the free list. What is lent is known by the free list that lent
 * it, not by the process.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import type { VideoTensor } from "./VideoTensor.ts"

/**
 * What a free list of tensor memory offers.
 *
 * @since 0.2.0
 * @category models
 */
export interface TensorBuffersShape {
  /**
   * A byte array of `length` whose contents are undefined (reused memory, or fresh memory that
   * the main thread never touched): the caller must overwrite every byte.
   */
  readonly takeUnsafe: (length: number) => Uint8Array
  /**
   * Any kept buffer (the one given back last), whatever its size: for a decoder that learns the
   * size only where it decodes (another thread), and sends the buffer there to be used if it
   * fits, or handed back with `giveUnsafe` if not.
   */
  readonly takeSpareUnsafe: () => ArrayBuffer | undefined
  /**
   * Gives an array's memory back for the next decode. Only arrays that cover their whole buffer
   * are kept, up to `maxKeptBytes`; memory lent by a decoder goes back to it.
   */
  readonly giveUnsafe: (data: Uint8Array | Float32Array) => void
  /**
   * Hands a decoded tensor's memory back for reuse by later decodes. Call it only when nothing
   * reads the tensor (or any view of its data) any more.
   */
  readonly recycle: (tensor: VideoTensor) => Effect.Effect<void>
  /**
   * Marks `data` as memory lent by the decoder: `release` hands it back, once, when the data is
   * given back here or when its buffer object (shared by every view of it on this thread) is
   * garbage-collected. A tensor over lent memory that is sent to another thread must stay
   * referenced here until that thread is done with it.
   */
  readonly lendUnsafe: (data: Uint8Array | Float32Array, release: () => void) => void
  /** Whether `data` is memory this free list's decoder lent (and did not get back yet). */
  readonly isLent: (data: Uint8Array | Float32Array) => boolean
  /** How many bytes are waiting for reuse. */
  readonly keptBytes: Effect.Effect<number>
  /** Drops every kept buffer. */
  readonly clear: Effect.Effect<void>
}

/**
 * At most this many bytes are kept for reuse by one free list: 256 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxKeptBytes = 256 * 1024 ** 2

/**
 * A new, empty free list (mutable state: the decoder layer that makes it owns it, as `VideoDecoder.buffers`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeUnsafe = (maxBytes: number = maxKeptBytes): TensorBuffersShape => {
  const lent = makeLentUnsafe()
  const kept = makeKeptUnsafe(maxBytes)
  const giveUnsafe = (data: Uint8Array | Float32Array): void => {
    if (!lent.releaseUnsafe(data)) kept.keepUnsafe(data)
  }
  return {
    takeUnsafe: kept.takeUnsafe,
    takeSpareUnsafe: kept.takeSpareUnsafe,
    giveUnsafe,
    lendUnsafe: lent.lendUnsafe,
    isLent: lent.isLent,
    recycle: (tensor) => Effect.sync(() => giveUnsafe(tensor.data)),
    keptBytes: Effect.sync(kept.bytesUnsafe),
    clear: Effect.sync(kept.clearUnsafe)
  }
}

/**
 * Memory a decoder lent, known by the buffer object of the tensors' data: how to hand it back,
 * once, when it is given back or when that buffer is garbage-collected.
 */
const makeLentUnsafe = () => {
  const lent = new WeakMap<object, () => void>()
  const collected = new FinalizationRegistry<() => void>((release) => release())
  const releaseUnsafe = (data: Uint8Array | Float32Array): boolean => {
    const buffer = data.buffer
    const release = lent.get(buffer)
    if (release === undefined) return false
    lent.delete(buffer)
    collected.unregister(buffer)
    release()
    return true
  }
  const lendUnsafe = (data: Uint8Array | Float32Array, release: () => void): void => {
    const buffer = data.buffer
    let done = false
    // The registry holds this function strongly: it must not reach `buffer`, or the buffer could
    // never be collected.
    const once = () => {
      if (done) return
      done = true
      release()
    }
    lent.set(buffer, once)
    collected.register(buffer, once, buffer)
  }
  return { releaseUnsafe, lendUnsafe, isLent: (data: Uint8Array | Float32Array) => lent.has(data.buffer) }
}

/** Whole `ArrayBuffer`s kept by size for the next decodes, at most `maxBytes` in all. */
const makeKeptUnsafe = (maxBytes: number) => {
  const free = new Map<number, Array<ArrayBuffer>>()
  let kept = 0
  const keepUnsafe = (data: Uint8Array | Float32Array): void => {
    const buffer = data.buffer
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return
    if (kept + buffer.byteLength > maxBytes) return
    const list = free.get(buffer.byteLength) ?? []
    if (list.includes(buffer)) return
    list.push(buffer)
    free.set(buffer.byteLength, list)
    kept += buffer.byteLength
  }
  const takeUnsafe = (length: number): Uint8Array => {
    const reusable = free.get(length)?.pop()
    if (reusable !== undefined) {
      kept -= length
      return new Uint8Array(reusable)
    }
    // No zero-fill: the read that follows overwrites every byte.
    const buffer = Buffer.allocUnsafeSlow(length)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
  }
  const takeSpareUnsafe = (): ArrayBuffer | undefined => {
    for (const [length, list] of free) {
      const buffer = list.pop()
      if (list.length === 0) free.delete(length)
      if (buffer !== undefined) {
        kept -= length
        return buffer
      }
    }
    return undefined
  }
  const clearUnsafe = (): void => {
    free.clear()
    kept = 0
  }
  return { keepUnsafe, takeUnsafe, takeSpareUnsafe, clearUnsafe, bytesUnsafe: () => kept }
}

/**
 * A new free list owned by the current Scope: emptied when it closes. What a decoder layer makes.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (maxBytes: number = maxKeptBytes): Effect.Effect<TensorBuffersShape, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => makeUnsafe(maxBytes)), (buffers) => buffers.clear)
