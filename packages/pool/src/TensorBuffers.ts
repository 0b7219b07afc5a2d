/**
 * Reusable tensor memory. Every decode needs one large array; allocating a fresh one per video
 * makes V8 run a full garbage collection about once per video and the kernel fault in and zero
 * every page. A consumer that is done with a tensor can hand it back with `recycle`, and the next
 * decode of the same size reuses its memory instead. Opt-in: only recycle a tensor nothing reads
 * any more (its data will be overwritten).
 *
 * A decoder may also lend memory it owns (a decode thread's shared slab, say) with `adopt`:
 * recycling such a tensor, or its data being garbage-collected, hands that memory back to the
 * decoder instead of keeping it here.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "./VideoTensor.ts"

/**
 * At most this many bytes are kept for reuse: 256 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxKeptBytes = 256 * 1024 ** 2

const free = new Map<number, Array<ArrayBuffer>>()
let kept = 0

/** Memory lent by a decoder, by the buffer object of the tensors' data: how to hand it back. */
const lent = new WeakMap<object, () => void>()
const collected = new FinalizationRegistry<() => void>((release) => release())

/**
 * Marks `data` as memory lent by a decoder: `release` hands it back, once, when the tensor is
 * recycled or when its buffer object (shared by every view of it on this thread) is
 * garbage-collected. A tensor over lent memory that is sent to another thread must stay
 * referenced here until that thread is done with it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const adopt = (data: Uint8Array | Float32Array, release: () => void): void => {
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

/**
 * Whether `data` is memory lent by a decoder (see `adopt`).
 *
 * @since 0.2.0
 * @category getters
 */
export const isLent = (data: Uint8Array | Float32Array): boolean => lent.has(data.buffer)

/**
 * A byte array of `length` whose contents are undefined (reused memory, or fresh memory that the
 * main thread never touched): the caller must overwrite every byte.
 *
 * @since 0.1.0
 * @category constructors
 */
export const take = (length: number): Uint8Array => {
  const reusable = free.get(length)?.pop()
  if (reusable !== undefined) {
    kept -= length
    return new Uint8Array(reusable)
  }
  // No zero-fill: the read that follows overwrites every byte, in libuv's threads.
  const buffer = Buffer.allocUnsafeSlow(length)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
}

/**
 * Takes any kept buffer (the one given back last), whatever its size: for a decoder that learns
 * the size only where it decodes (another thread), and sends the buffer there to be used if it
 * fits, or handed back with `give` if not.
 *
 * @since 0.2.0
 * @category constructors
 */
export const takeSpare = (): ArrayBuffer | undefined => {
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

/**
 * Gives an array's memory back for the next decode. Only arrays that cover their whole buffer
 * are kept, up to `maxKeptBytes`; memory lent by a decoder goes back to it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const give = (data: Uint8Array | Float32Array): void => {
  const buffer = data.buffer
  const release = lent.get(buffer)
  if (release !== undefined) {
    lent.delete(buffer)
    collected.unregister(buffer)
    return release()
  }
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return
  if (kept + buffer.byteLength > maxKeptBytes) return
  const list = free.get(buffer.byteLength) ?? []
  if (list.includes(buffer)) return
  list.push(buffer)
  free.set(buffer.byteLength, list)
  kept += buffer.byteLength
}

/**
 * Hands a decoded tensor's memory back for reuse by later decodes. Call it only when nothing
 * reads the tensor (or any view of its data) any more.
 *
 * @example
 * ```ts
 * import { TensorBuffers } from "@vidpool/pool"
 *
 * // after scoring a sample:
 * TensorBuffers.recycle(sample.video)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const recycle = (tensor: VideoTensor): void => give(tensor.data)

/**
 * How many bytes are waiting for reuse.
 *
 * @since 0.1.0
 * @category getters
 */
export const keptBytes = (): number => kept

/**
 * Drops every kept buffer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clear = (): void => {
  free.clear()
  kept = 0
}
