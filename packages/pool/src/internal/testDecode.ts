/**
 * The fake decode behind `VideoDecoder.layerTest`: tensors of one pixel value per path, shaped as
 * a real decoder would shape them, with a per-path script of delays and failures. Published as
 * `@vidpool/pool/testing`.
 */
import { type Duration, Effect } from "effect"
import { DecodeError, InvalidData, type Reason, TooLarge } from "../DecodeError.ts"
import * as DecodePlan from "../DecodePlan.ts"
import type { Video } from "../Video.ts"
import type { TensorBuffersShape } from "../TensorBuffers.ts"
import { VideoTensor } from "../VideoTensor.ts"

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
  /**
   * `[frames, height, width, channels]` of the fake clip every path names, THWC. Default
   * `[2, 4, 4, 3]`. Each video's options then shape its tensor as a real decoder's would (pixel
   * format, size, dtype, layout, frame selection, byte budget).
   */
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
 * The decode function behind `layerTest`, for building other fakes on top of it. Given the
 * decoder's free list (`buffers`), it decodes into memory taken from there, as a real decoder
 * does; without it, every tensor is new memory.
 *
 * @since 0.1.0
 * @category test kit
 */
export const makeTestDecode = (options: TestDecoderOptions = {}, buffers?: TensorBuffersShape) => {
  const shape = options.shape ?? [2, 4, 4, 3]
  const fps = options.fps ?? 25
  const bytes = (length: number): Uint8Array => buffers === undefined ? new Uint8Array(length) : buffers.takeUnsafe(length)
  const floats = (length: number): Float32Array => {
    if (buffers === undefined) return new Float32Array(length)
    const taken = buffers.takeUnsafe(length * 4)
    return new Float32Array(taken.buffer, taken.byteOffset, length)
  }
  return (video: Video): Effect.Effect<VideoTensor, DecodeError> => {
    const step = options.script?.[video.path] ?? options.defaultStep ?? {}
    const answer = Effect.suspend(() => {
      if (step.die !== undefined) return Effect.die(step.die)
      const fail = (reason: Reason) => Effect.fail(new DecodeError({ path: video.path, reason }))
      if (step.fail !== undefined) return fail(step.fail)
      // The fake "clip": `frames` frames of the shape's size at `fps`; the video's options shape
      // the tensor as a real decoder's would (the shared decode plan).
      const opts = video.options
      const found = DecodePlan.problems(opts)
      if (found.length > 0) return fail(new InvalidData({ detail: found.join("; ") }))
      const frames = step.frames ?? shape[0]
      // A one-channel shape means gray, unless the options say otherwise.
      const out = DecodePlan.output(opts.pixelFormat === undefined && shape[3] === 1 ? { ...opts, pixelFormat: "gray" } : opts)
      const size = DecodePlan.outputSize(shape[2], shape[1], opts)
      const start = opts.start ?? 0
      const inRange = DecodePlan.expectedFrames({ duration: frames / fps, fps, streams: 1 }, undefined, opts, undefined)?.frames ?? frames
      if (inRange === 0) return fail(new InvalidData({ detail: "no frame in the requested start/end range" }))
      const subsampled = opts.numFrames !== undefined || opts.fps !== undefined
      const refuse = (refused: NonNullable<ReturnType<typeof DecodePlan.refusal>>) =>
        fail(refused._tag === "TooLarge" ? new TooLarge(refused) : new InvalidData(refused))
      const kept = Math.min(inRange, opts.maxFrames ?? Infinity)
      const tooMany = subsampled ? undefined : DecodePlan.refusal(kept, size.width, size.height, out)
      if (tooMany !== undefined) return refuse(tooMany)
      const selection = subsampled
        ? DecodePlan.selectFrames(inRange, fps, opts, size.width, size.height, out)
        : { indices: Array.from({ length: kept }, (_, i) => i), fps }
      if (DecodePlan.isRefusal(selection)) return refuse(selection)
      const count = selection.indices.length
      const length = count * size.height * size.width * out.channels
      // Gray is what a real decoder makes of the rgb24 pixel (BT.601), so the two stay related.
      const pixel = out.channels === 1 ? DecodePlan.grayOf(testPixel(video.path), testPixel(video.path), testPixel(video.path)) : testPixel(video.path)
      const data = out.dtype === "float32" ? floats(length).fill(pixel / 255) : bytes(length).fill(pixel)
      return Effect.succeed(VideoTensor.makeUnsafe({
        data,
        shape: DecodePlan.shape(out.layout, count, size.height, size.width, out.channels),
        layout: out.layout,
        dtype: out.dtype,
        fps: selection.fps,
        timestamps: DecodePlan.constantRateTimestamps(selection.indices, fps, start),
        source: { path: video.path, width: shape[2], height: shape[1], fps, frameCount: frames }
      }))
    })
    return step.delay === undefined ? answer : Effect.delay(answer, step.delay)
  }
}
