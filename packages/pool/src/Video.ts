/**
 * A sample field that names a video to decode: a file, or a folder of images read in name order.
 * The pool decodes every `Video` value in a sample and passes every other value through untouched.
 *
 * @since 0.1.0
 */
import type { Layout, DType } from "./VideoTensor.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@vidpool/pool/Video")

/**
 * How frames are resized when `width` and/or `height` are given.
 * - `"exact"`: scale to exactly `width` x `height` (aspect ratio may change).
 * - `"fit"`: scale to fit inside `width` x `height`, keeping the aspect ratio.
 * - `"crop"`: scale to cover `width` x `height`, then crop the center.
 *
 * @since 0.1.0
 * @category models
 */
export type ResizeMode = "exact" | "fit" | "crop"

/**
 * Options a decoder reads for one video. Every field is optional; a decoder fills the rest from
 * its own defaults. Times are in seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions {
  /** `"rgb24"` (3 channels, default) or `"gray"` (1 channel). */
  readonly pixelFormat?: "rgb24" | "gray"
  readonly width?: number
  readonly height?: number
  readonly resize?: ResizeMode
  /**
   * Take this many frames spread uniformly over the (selected part of the) clip. A clip with no
   * more frames than this is kept as it is (FastVideo's `extract_frames`), unless `repeatFrames`.
   */
  readonly numFrames?: number
  /** With `numFrames` over the clip's frame count, repeat frames to give exactly `numFrames`. */
  readonly repeatFrames?: boolean
  /** Resample the clip to this frame rate. */
  readonly fps?: number
  readonly start?: number
  readonly end?: number
  /** Keep at most this many frames (after the other selections). */
  readonly maxFrames?: number
  readonly dtype?: DType
  readonly layout?: Layout
  /** Give up after this many milliseconds. */
  readonly timeout?: number
  /**
   * Give up when the input gives no data within this many milliseconds of being opened: a file
   * (or an image of a folder) on a stalled network file system. Default 30000
   * (`InputCheck.defaultOpenTimeout`). Since 0.3.0.
   */
  readonly openTimeout?: number
  /** Refuse a tensor larger than this many bytes, before allocating it. */
  readonly maxBytes?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type Source = "file" | "folder"

/**
 * A reference to a video, with optional decode options.
 *
 * @since 0.1.0
 * @category models
 */
export class Video {
  readonly [TypeId] = TypeId
  private constructor(
    readonly path: string,
    readonly source: Source,
    readonly options: DecodeOptions
  ) {}

  /**
   * A video file (any container ffmpeg reads).
   *
   * @example
   * ```ts
   * import { Video } from "@vidpool/pool"
   *
   * const sample = { video: Video.file("out/clip.mp4", { numFrames: 16 }), prompt: "a cat" }
   * ```
   */
  static file(path: string, options: DecodeOptions = {}): Video {
    return new Video(path, "file", options)
  }

  /** A folder of images (png, jpg, jpeg, bmp, webp), decoded as a video in name order. */
  static folder(path: string, options: DecodeOptions = {}): Video {
    return new Video(path, "folder", options)
  }

  static is(u: unknown): u is Video {
    return isVideo(u)
  }

  /** A copy of this video reference with more decode options (the new ones win). */
  withOptions(options: DecodeOptions): Video {
    return new Video(this.path, this.source, { ...this.options, ...options })
  }

  toJSON(): unknown {
    return { _id: "Video", path: this.path, source: this.source, options: this.options }
  }
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isVideo = (u: unknown): u is Video => typeof u === "object" && u !== null && TypeId in u

/**
 * A sample after decoding: each `Video` field is replaced by its tensor type `T`.
 *
 * @since 0.1.0
 * @category models
 */
export type Decoded<S, T> = { readonly [K in keyof S]: DecodedValue<S[K], T> }

/**
 * One field after decoding, distributed over unions: `Video | undefined` becomes `T | undefined`.
 *
 * @since 0.1.0
 * @category models
 */
export type DecodedValue<V, T> = V extends Video ? T : V
