/**
 * The service that turns one `Video` into a `VideoTensor`. The ffmpeg package provides the real
 * one; `VideoDecoder.layerTest` is a scriptable fake for tests that need no ffmpeg.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer } from "effect"
import { DecodeError, type Reason } from "./DecodeError.ts"
import type { Video } from "./Video.ts"
import { VideoTensor } from "./VideoTensor.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class VideoDecoder extends Context.Service<VideoDecoder, {
  readonly decode: (video: Video) => Effect.Effect<VideoTensor, DecodeError>
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
    Layer.succeed(VideoDecoder, VideoDecoder.of({ decode: makeTestDecode(options) }))
}

/**
 * What the fake decoder does for one path.
 *
 * @since 0.1.0
 * @category test kit
 */
export interface TestStep {
  /** Wait this long (on the Effect clock, so `TestClock` controls it) before answering. */
  readonly delay?: Duration.Input
  /** Fail with this reason instead of producing a tensor. */
  readonly fail?: Reason
  /** Die with this defect instead (a bug in a decoder, not bad input). */
  readonly die?: unknown
  /** Frames of the tensor made for this path (overrides the shape's first dimension). */
  readonly frames?: number
}

/**
 * @since 0.1.0
 * @category test kit
 */
export interface TestDecoderOptions {
  /** `[frames, height, width, channels]` of every tensor, THWC. Default `[2, 4, 4, 3]`. */
  readonly shape?: readonly [number, number, number, number]
  readonly fps?: number
  /** Per-path behaviour, keyed by `Video.path`. */
  readonly script?: Readonly<Record<string, TestStep>>
  /** Applied to paths the script does not name. */
  readonly defaultStep?: TestStep
}

/**
 * The value every pixel of a fake tensor holds for a given path, so that tests can tell which
 * video a tensor came from: a hash of the path, 0-255.
 *
 * @since 0.1.0
 * @category test kit
 */
export const testPixel = (path: string): number => {
  let h = 2166136261
  for (let i = 0; i < path.length; i++) {
    h = Math.imul(h ^ path.charCodeAt(i), 16777619)
  }
  return (h >>> 0) % 256
}

/**
 * The decode function behind `layerTest`, for building other fakes on top of it.
 *
 * @since 0.1.0
 * @category test kit
 */
export const makeTestDecode = (options: TestDecoderOptions = {}) => {
  const shape = options.shape ?? [2, 4, 4, 3]
  const fps = options.fps ?? 25
  return (video: Video): Effect.Effect<VideoTensor, DecodeError> => {
    const step = options.script?.[video.path] ?? options.defaultStep ?? {}
    const answer = Effect.suspend(() => {
      if (step.die !== undefined) return Effect.die(step.die)
      if (step.fail !== undefined) return Effect.fail(new DecodeError({ path: video.path, reason: step.fail }))
      const dims = [step.frames ?? shape[0], shape[1], shape[2], shape[3]] as const
      const data = new Uint8Array(dims[0] * dims[1] * dims[2] * dims[3]).fill(testPixel(video.path))
      return Effect.succeed(VideoTensor.make({
        data,
        shape: dims,
        layout: "THWC",
        dtype: "uint8",
        fps,
        source: { path: video.path, width: dims[2], height: dims[1], fps, frameCount: dims[0] }
      }))
    })
    return step.delay === undefined ? answer : Effect.delay(answer, step.delay)
  }
}
