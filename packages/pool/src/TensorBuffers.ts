/**
 * Reusable tensor memory, as a service whose free list belongs to its layer. Every decode needs
 * one large array; allocating a fresh one per video makes V8 run a full garbage collection about
 * once per video and the kernel fault in and zero every page. A consumer that is done with a
 * tensor hands it back with `recycle`, and the next decode of the same size reuses its memory.
 * Opt-in: only recycle a tensor nothing reads any more (its data will be overwritten).
 *
 * A decoder may also lend memory it owns (a decode thread's shared slab, say) with
 * `TensorBuffers.adopt`: recycling such a tensor, or its data being garbage-collected, hands that
 * memory back to the decoder instead of keeping it in a free list. What is lent is known by the
 * buffer object itself (a weak mark), so it goes back to its decoder whichever free list it meets.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
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

/** Memory lent by a decoder, by the buffer object of the tensors' data: how to hand it back. */
const lent = new WeakMap<object, () => void>()
const collected = new FinalizationRegistry<() => void>((release) => release())

/**
 * Hands lent memory back to its decoder; `false` when `data` is not lent memory.
 *
 * @since 0.2.0
 * @category constructors
 */
export const releaseLentUnsafe = (data: Uint8Array | Float32Array): boolean => {
  const buffer = data.buffer
  const release = lent.get(buffer)
  if (release === undefined) return false
  lent.delete(buffer)
  collected.unregister(buffer)
  release()
  return true
}

/**
 * A new, empty free list (mutable state: a layer owns it, see `TensorBuffers.layer`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeUnsafe = (maxBytes: number = maxKeptBytes): TensorBuffersShape => {
  const free = new Map<number, Array<ArrayBuffer>>()
  let kept = 0
  const giveUnsafe = (data: Uint8Array | Float32Array): void => {
    if (releaseLentUnsafe(data)) return
    const buffer = data.buffer
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return
    if (kept + buffer.byteLength > maxBytes) return
    const list = free.get(buffer.byteLength) ?? []
    if (list.includes(buffer)) return
    list.push(buffer)
    free.set(buffer.byteLength, list)
    kept += buffer.byteLength
  }
  return {
    takeUnsafe: (length) => {
      const reusable = free.get(length)?.pop()
      if (reusable !== undefined) {
        kept -= length
        return new Uint8Array(reusable)
      }
      // No zero-fill: the read that follows overwrites every byte.
      const buffer = Buffer.allocUnsafeSlow(length)
      return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
    },
    takeSpareUnsafe: () => {
      for (const [length, list] of free) {
        const buffer = list.pop()
        if (list.length === 0) free.delete(length)
        if (buffer !== undefined) {
          kept -= length
          return buffer
        }
      }
      return undefined
    },
    giveUnsafe,
    recycle: (tensor) => Effect.sync(() => giveUnsafe(tensor.data)),
    keptBytes: Effect.sync(() => kept),
    clear: Effect.sync(() => {
      free.clear()
      kept = 0
    })
  }
}

/**
 * Marks `data` as memory lent by a decoder: `release` hands it back, once, when the tensor is
 * recycled or when its buffer object (shared by every view of it on this thread) is
 * garbage-collected. A tensor over lent memory that is sent to another thread must stay
 * referenced here until that thread is done with it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const adoptUnsafe = (data: Uint8Array | Float32Array, release: () => void): void => {
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
 * Whether `data` is memory lent by a decoder (see `adoptUnsafe`).
 *
 * @since 0.2.0
 * @category getters
 */
export const isLent = (data: Uint8Array | Float32Array): boolean => lent.has(data.buffer)

/**
 * Hands the memory of a tensor lent by a decoder back to it (nothing for other memory): what a
 * consumer without a free list of its own does with a tensor it is done with.
 *
 * @since 0.2.0
 * @category constructors
 */
export const releaseLent = (tensor: VideoTensor): Effect.Effect<void> => Effect.sync(() => releaseLentUnsafe(tensor.data))

/**
 * The free list shared by the decoders and the consumers of one program. A decoder layer built
 * without one in context keeps a free list of its own (nothing else can recycle into it); provide
 * `TensorBuffers.layer` under both the decoder and the code that recycles (`Evaluator.layerDefault`
 * does) for recycled memory to reach the next decode.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Option } from "effect"
 * import { TensorBuffers, Video, VideoPool } from "@vidpool/pool"
 * import { FfmpegDecoder } from "@vidpool/ffmpeg"
 *
 * const program = Effect.gen(function*() {
 *   const buffers = yield* TensorBuffers
 *   const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("a.mp4") }]))
 *   const next = yield* pool.take
 *   if (Option.isSome(next)) yield* buffers.recycle(next.value[1].video)
 * })
 * const Live = VideoPool.layer.pipe(Layer.provide(FfmpegDecoder.layer), Layer.provideMerge(TensorBuffers.layer))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class TensorBuffers extends Context.Service<TensorBuffers, TensorBuffersShape>()("@vidpool/pool/TensorBuffers") {
  /**
   * A free list of up to `maxKeptBytes`, emptied when the layer's scope closes.
   *
   * @since 0.2.0
   */
  static readonly layer: Layer.Layer<TensorBuffers> = Layer.effect(
    TensorBuffers,
    Effect.acquireRelease(Effect.sync(() => makeUnsafe()), (buffers) => buffers.clear)
  )

  /**
   * The free list in context, or a new one owned by the caller (a decoder layer built without a
   * shared one).
   *
   * @since 0.2.0
   */
  static readonly orNew: Effect.Effect<TensorBuffersShape> = Effect.map(
    Effect.serviceOption(TensorBuffers),
    (found) => found._tag === "Some" ? found.value : makeUnsafe()
  )

  /** @since 0.2.0 */
  static readonly makeUnsafe = makeUnsafe
  /** @since 0.2.0 */
  static readonly adoptUnsafe = adoptUnsafe
  /** @since 0.2.0 */
  static readonly isLent = isLent
  /** @since 0.2.0 */
  static readonly releaseLent = releaseLent
  /** @since 0.2.0 */
  static readonly releaseLentUnsafe = releaseLentUnsafe
  /** @since 0.1.0 */
  static readonly maxKeptBytes = maxKeptBytes
}
