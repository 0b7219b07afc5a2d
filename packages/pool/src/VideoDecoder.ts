/**
 * The service that turns one `Video` into a `VideoTensor`. The ffmpeg package provides the real
 * one; `VideoDecoder.layerTest` is a scriptable fake for tests that need no ffmpeg.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { DecodeError, InvalidData, type Reason, Timeout, TooLarge } from "./DecodeError.ts"
import * as DecodePlan from "./DecodePlan.ts"
import * as TensorBuffers from "./TensorBuffers.ts"
import type { TensorBuffersShape } from "./TensorBuffers.ts"
import type { DecodeOptions, Video } from "./Video.ts"
import { VideoTensor } from "./VideoTensor.ts"
import { makeTestDecode, type TestDecoderOptions } from "./internal/testDecode.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class VideoDecoder extends Context.Service<VideoDecoder, {
  /**
   * Decodes one video. Real decoders build it with `decodeWith`, which gives each decode its span
   * (data-first `withSpan` without a stack trace, as `Effect.fn` would cost per sample on the
   * pool's hot path); the test fake stays untraced.
   */
  readonly decode: (video: Video) => Effect.Effect<VideoTensor, DecodeError>
  /**
   * This decoder's free list, made in its layer's scope: the memory it decodes into, where a
   * consumer gives a tensor back (`VideoPool`'s leases do) for the next decode.
   */
  readonly buffers: TensorBuffersShape
}>()("@vidpool/pool/VideoDecoder") {
  /**
   * A fake decoder for tests: synthetic tensors, per-path delays and failures.
   *
   * @example
   * ```ts
   * import { Effect, Layer } from "effect"
   * import { InvalidData, VideoPool, VideoDecoder } from "@vidpool/pool"
   *
   * const decoder = VideoDecoder.layerTest({
   *   shape: [4, 8, 8, 3],
   *   script: {
   *     "slow.mp4": { delay: "50 millis" },
   *     "broken.mp4": { fail: new InvalidData({ detail: "moov atom not found" }) }
   *   }
   * })
   * const PoolLive = VideoPool.layer.pipe(Layer.provide(decoder))
   * ```
   */
  static readonly layerTest = (options: TestDecoderOptions = {}): Layer.Layer<VideoDecoder> =>
    Layer.effect(VideoDecoder, Effect.map(TensorBuffers.make(), (buffers) => VideoDecoder.of({ decode: makeTestDecode(options, buffers), buffers })))
}

/**
 * How many decodes of one decoder are running: `counted` adds one for the life of the current
 * Scope; `countUnsafe()` reads how many now. Decoders share the cores between the decodes running by it.
 *
 * @since 0.2.0
 * @category decoder kit
 */
export const makeRunning = (): {
  /** The decodes running now (a read of mutable state). */
  readonly countUnsafe: () => number
  readonly counted: Effect.Effect<void, never, Scope.Scope>
} => {
  let running = 0
  const countUnsafe = () => running
  return {
    countUnsafe,
    counted: Effect.acquireRelease(
      Effect.sync(() => {
        running++
      }),
      () =>
        Effect.sync(() => {
          running--
        })
    )
  }
}

/**
 * A decoder's `decode` from its scoped decode of one video: the video's options over the
 * decoder's defaults, a Scope per decode (closing it frees what the decode holds), `timeout` as a
 * `Timeout` reason, and a span named `span`.
 *
 * @since 0.2.0
 * @category decoder kit
 */
export const decodeWith = (
  span: string,
  defaults: DecodeOptions,
  decodeScoped: (video: Video, options: DecodeOptions) => Effect.Effect<VideoTensor, DecodeError, Scope.Scope>
) =>
(video: Video): Effect.Effect<VideoTensor, DecodeError> => {
  const options: DecodeOptions = { ...defaults, ...video.options }
  const scoped = Effect.scoped(decodeScoped(video, options))
  const limited = options.timeout === undefined ? scoped : scoped.pipe(
    Effect.timeoutOrElse({
      duration: options.timeout,
      orElse: () => Effect.fail(new DecodeError({ path: video.path, reason: new Timeout({ millis: options.timeout ?? 0 }) }))
    })
  )
  // data-first: the form in which effect 4.1 honours `captureStackTrace: false` (a stack trace per
  // decode costs more main-thread time than the rest of the span)
  return Effect.withSpan(limited, span, { attributes: { path: video.path }, captureStackTrace: false })
}
