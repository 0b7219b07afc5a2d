/**
 * The decode plan every `VideoDecoder` follows, as pure code: which options are valid, the output
 * size and pixel layout, the frames to keep, the byte budget checked before anything is
 * allocated, the frame count a header announces, and the final tensor layout. The command-line
 * and the in-process decoders both import it, so they agree on what a decode returns.
 *
 * @since 0.2.0
 */
import { constants as BufferConstants } from "node:buffer"
import * as FrameSelection from "./FrameSelection.ts"
import type { DecodeOptions } from "./Video.ts"
import type { DType, Layout } from "./VideoTensor.ts"

/**
 * The largest tensor decoded when no `maxBytes` is given: 2 GiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxBytes = 2 * 1024 ** 3

/**
 * The rate a folder of images decodes at: image `k` is shown at `k / folderFps` seconds.
 *
 * @since 0.2.0
 * @category constants
 */
export const folderFps = 25

/**
 * Image extensions read from a folder, and the decoder family of each.
 *
 * @since 0.2.0
 * @category folders
 */
export const imageFamilies: Readonly<Record<string, string>> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
  ".bmp": "bmp",
  ".webp": "webp"
}

/**
 * The images among a folder's entry names, in the order they decode (code point order of the
 * name); `[]` when there is none.
 *
 * @since 0.2.0
 * @category folders
 */
export const imagesOf = (names: ReadonlyArray<string>): Array<string> =>
  names
    .filter((name) => {
      const dot = name.lastIndexOf(".")
      return dot > 0 && imageFamilies[name.slice(dot).toLowerCase()] !== undefined
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * What a decoder says of a folder that holds no image.
 *
 * @since 0.2.0
 * @category folders
 */
export const noImages = "the folder holds no images (png, jpg, jpeg, bmp, webp)"

/**
 * The reason a failed file system call gives a decode: `NotFound`, `PermissionDenied`, or
 * `InvalidData` with the call's own words.
 *
 * @since 0.2.0
 * @category validation
 */
export const errnoReason = (error: { readonly code?: string | undefined; readonly message: string }):
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "PermissionDenied" }
  | { readonly _tag: "InvalidData"; readonly detail: string } =>
{
  switch (error.code) {
    case "ENOENT":
    case "ENOTDIR":
      return { _tag: "NotFound" }
    case "EACCES":
    case "EPERM":
      return { _tag: "PermissionDenied" }
    default:
      return { _tag: "InvalidData", detail: `${error.code ?? "error"}: ${error.message}` }
  }
}

/**
 * The largest side, in pixels, FFmpeg scales a frame to.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxSide = 16384

/**
 * Whether FFmpeg makes a picture of `width` x `height` (its image size check: the padded pixel
 * count within a signed 32-bit byte count of 8 bytes a pixel).
 *
 * @since 0.2.0
 * @category geometry
 */
export const fitsImage = (width: number, height: number): boolean =>
  width <= maxSide && height <= maxSide && (width + 128) * (height + 128) < 2 ** 31 / 8

/**
 * What is wrong with the numeric and enumerated options, one sentence each (empty when nothing
 * is). Decoders report them as `InvalidData` naming the option.
 *
 * @since 0.2.0
 * @category validation
 */
export const problems = (options: DecodeOptions): Array<string> => {
  const positive = (name: string, value: number | undefined, integer: boolean) =>
    value === undefined || (Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))
      ? undefined
      : `option ${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`
  return [
    positive("width", options.width, true),
    positive("height", options.height, true),
    positive("numFrames", options.numFrames, true),
    positive("maxFrames", options.maxFrames, true),
    positive("fps", options.fps, false),
    positive("end", options.end, false),
    positive("timeout", options.timeout, false),
    positive("maxBytes", options.maxBytes, false),
    options.start !== undefined && !(Number.isFinite(options.start) && options.start >= 0)
      ? `option start must be a number >= 0, got ${options.start}`
      : undefined,
    options.start !== undefined && options.end !== undefined && options.end <= options.start
      ? `option end (${options.end}) must be after start (${options.start})`
      : undefined,
    options.width !== undefined && options.width > maxSide ? `option width must be at most ${maxSide} (FFmpeg's limit), got ${options.width}` : undefined,
    options.height !== undefined && options.height > maxSide ? `option height must be at most ${maxSide} (FFmpeg's limit), got ${options.height}` : undefined,
    options.width !== undefined && options.height !== undefined && options.width <= maxSide && options.height <= maxSide &&
      !fitsImage(options.width, options.height)
      ? `option width x height (${options.width}x${options.height}) is over FFmpeg's limit for one picture`
      : undefined,
    options.repeatFrames !== undefined && typeof options.repeatFrames !== "boolean"
      ? `option repeatFrames must be true or false, got ${String(options.repeatFrames)}`
      : undefined,
    options.pixelFormat !== undefined && options.pixelFormat !== "rgb24" && options.pixelFormat !== "gray"
      ? `option pixelFormat must be "rgb24" or "gray", got ${String(options.pixelFormat)}`
      : undefined
  ].filter((problem): problem is string => problem !== undefined)
}

/**
 * The pixel side of a decode: what each frame is made of and the byte budget.
 *
 * @since 0.2.0
 * @category models
 */
export interface Output {
  readonly pixelFormat: "rgb24" | "gray"
  readonly channels: 1 | 3
  readonly dtype: DType
  readonly layout: Layout
  /** Bytes per element of the tensor: 1 for uint8, 4 for float32. */
  readonly elementBytes: 1 | 4
  /** The largest tensor allowed, in bytes. */
  readonly maxBytes: number
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const output = (options: DecodeOptions): Output => {
  const pixelFormat = options.pixelFormat ?? "rgb24"
  const dtype = options.dtype ?? "uint8"
  return {
    pixelFormat,
    channels: pixelFormat === "gray" ? 1 : 3,
    dtype,
    layout: options.layout ?? "THWC",
    elementBytes: dtype === "float32" ? 4 : 1,
    maxBytes: options.maxBytes ?? defaultMaxBytes
  }
}

/** `a * b / c` rounded to the nearest integer, halves up, as FFmpeg's `av_rescale`. */
const rescale = (a: number, b: number, c: number): number => Math.floor((a * b + Math.floor(c / 2)) / c)

/**
 * The size of the output frames for an input of `width` x `height` (as displayed, after
 * rotation), as FFmpeg's scale filter computes it.
 *
 * @since 0.2.0
 * @category geometry
 */
export const outputSize = (
  width: number,
  height: number,
  options: DecodeOptions
): { readonly width: number; readonly height: number } => {
  const w = options.width
  const h = options.height
  if (w !== undefined && h !== undefined) {
    switch (options.resize ?? "exact") {
      case "fit":
        return { width: Math.min(rescale(h, width, height), w), height: Math.min(rescale(w, height, width), h) }
      default:
        return { width: w, height: h }
    }
  }
  if (w !== undefined) return { width: w, height: rescale(w, height, width) }
  if (h !== undefined) return { width: rescale(h, width, height), height: h }
  return { width, height }
}

/**
 * How a frame of `width` x `height` (as displayed) becomes the output: scaled to `scaled`, then
 * the centre `crop` of it kept (for `resize: "crop"`; otherwise the crop is the whole scaled
 * frame).
 *
 * @since 0.2.0
 * @category geometry
 */
export const geometry = (width: number, height: number, options: DecodeOptions): {
  readonly scaled: { readonly width: number; readonly height: number }
  readonly crop: { readonly x: number; readonly y: number; readonly width: number; readonly height: number }
} => {
  const size = outputSize(width, height, options)
  if (options.resize !== "crop" || options.width === undefined || options.height === undefined) {
    return { scaled: size, crop: { x: 0, y: 0, ...size } }
  }
  // Scale to cover the box keeping the aspect ratio (`force_original_aspect_ratio=increase`),
  // then crop its centre, as FFmpeg's crop filter rounds it.
  const w = options.width
  const h = options.height
  const scaled = { width: Math.max(rescale(h, width, height), w), height: Math.max(rescale(w, height, width), h) }
  return { scaled, crop: { x: (scaled.width - w) >> 1, y: (scaled.height - h) >> 1, width: w, height: h } }
}

/**
 * The gray value FFmpeg's swscale (BT.601) makes of an rgb24 pixel: a gray tensor is exactly this
 * function of the rgb24 tensor of the same video and options.
 *
 * @since 0.2.0
 * @category pixels
 */
export const grayOf = (r: number, g: number, b: number): number => {
  const limited = (8414 * r + 16519 * g + 3208 * b + (32 << 14) + (1 << 8)) >> 9
  const full = (Math.min(limited, 15094) * 19077 - 19528680) >> 14
  return Math.max(0, Math.min(255, (full + 32) >> 6))
}

/**
 * The bytes of a tensor of `frames` frames of `width` x `height`, and whether it fits the budget
 * (`maxBytes`, and the largest typed array Node can make). `limit` is what a `TooLarge` reports.
 *
 * @since 0.2.0
 * @category budget
 */
export const budget = (frames: number, width: number, height: number, out: Output): {
  readonly bytes: number
  readonly fits: boolean
  readonly limit: number
} => {
  const elements = frames * width * height * out.channels
  const bytes = elements * out.elementBytes
  return {
    bytes,
    fits: bytes <= out.maxBytes && elements <= BufferConstants.MAX_LENGTH,
    limit: Math.min(out.maxBytes, BufferConstants.MAX_LENGTH)
  }
}

/**
 * What a header says of the frames to expect, read by either decoder.
 *
 * @since 0.2.0
 * @category models
 */
export interface Header {
  /** Seconds, when known. */
  readonly duration?: number | undefined
  /** Average frame rate; 0 when unknown. */
  readonly fps: number
  /** Streams in the container (audio may outlast the video). */
  readonly streams: number
}

/**
 * How many frames the header announces for the `start`/`end` range (capped at `frameLimit`), and
 * how many fewer still count as complete. For a folder, `images` counts its images. With other
 * streams the container's duration says little about the video, so only a shortfall together
 * with decode errors counts (`slack` is then infinite). `undefined` when the header cannot tell.
 *
 * @since 0.2.0
 * @category frames
 */
export const expectedFrames = (
  header: Header,
  images: number | undefined,
  options: DecodeOptions,
  frameLimit: number | undefined
): { readonly frames: number; readonly slack: number } | undefined => {
  let frames: number
  let slack: number
  if (images !== undefined) {
    frames = 0
    for (let k = 0; k < images; k++) {
      const t = k * (1 / folderFps)
      if ((options.start === undefined || t >= options.start) && (options.end === undefined || t < options.end)) frames++
    }
    slack = options.start !== undefined || options.end !== undefined ? 1 : 0
  } else {
    if (header.duration === undefined || header.fps <= 0) return undefined
    const from = options.start ?? 0
    const to = Math.min(options.end ?? Infinity, header.duration)
    frames = Math.max(0, Math.round((to - from) * header.fps))
    slack = header.streams > 1 ? Infinity : 1
    if (options.start !== undefined || options.end !== undefined) slack += 1
  }
  return { frames: frameLimit === undefined ? frames : Math.min(frames, frameLimit), slack }
}

/**
 * Whether `decoded` frames fall short of what was `expected` (see `expectedFrames`): the file is
 * cut short or damaged.
 *
 * @since 0.2.0
 * @category frames
 */
export const cutShort = (
  decoded: number,
  expected: { readonly frames: number; readonly slack: number } | undefined,
  errorsSeen: boolean
): boolean =>
  expected !== undefined && (decoded < expected.frames - expected.slack || (errorsSeen && decoded < expected.frames))

/**
 * Whether a decode whose frames in the range ended at `last` seconds, with `gap` the largest
 * step between two of its frames, reached the end of what it was asked for (`to`: the range's
 * end or the clip's duration, whichever comes first). What tells a variable-frame-rate clip
 * (fewer frames than duration x average rate, spread to the end) from a file cut short (its
 * frames stop early): a count alone cannot, once a range is asked for.
 *
 * @since 0.2.0
 * @category frames
 */
export const reachesEnd = (last: number | undefined, gap: number, fps: number, to: number): boolean => {
  if (last === undefined) return false
  if (!Number.isFinite(to)) return true
  const step = Math.max(gap, fps > 0 ? 1 / fps : 0)
  return last + 2 * step + 1e-3 >= to
}

/**
 * Why a tensor of `frames` frames of `width` x `height` cannot be made, by arithmetic on the
 * numbers alone (nothing is allocated): `TooLarge` with its true size over the budget, or
 * `InvalidData` for more frames than a selection lists (`FrameSelection.maxSelected`);
 * `undefined` when it can.
 *
 * @since 0.2.0
 * @category budget
 */
export const refusal = (frames: number, width: number, height: number, out: Output):
  | { readonly _tag: "TooLarge"; readonly bytes: number; readonly limit: number }
  | { readonly _tag: "InvalidData"; readonly detail: string }
  | undefined =>
{
  const need = budget(frames, width, height, out)
  if (!need.fits) return { _tag: "TooLarge", bytes: need.bytes, limit: need.limit }
  if (frames > FrameSelection.maxSelected) {
    return {
      _tag: "InvalidData",
      detail: `the options select ${frames} frames, more than the ${FrameSelection.maxSelected} a tensor may hold`
    }
  }
  return undefined
}

/**
 * The frames kept from `decoded` frames at `fps` (see `FrameSelection.select`), or why a tensor
 * of them, at `width` x `height`, cannot be made: counted before any array of that many frames
 * exists, so no option sizes memory before it is checked.
 *
 * @since 0.2.0
 * @category frames
 */
export const selectFrames = (
  decoded: number,
  fps: number,
  options: DecodeOptions,
  width: number,
  height: number,
  out: Output
): FrameSelection.Selection | NonNullable<ReturnType<typeof refusal>> =>
  refusal(FrameSelection.count(decoded, fps, options), width, height, out) ?? FrameSelection.select(decoded, fps, options)

/**
 * Whether `selectFrames` answered with a refusal rather than a selection.
 *
 * @since 0.2.0
 * @category frames
 */
export const isRefusal = (
  planned: FrameSelection.Selection | NonNullable<ReturnType<typeof refusal>>
): planned is NonNullable<ReturnType<typeof refusal>> => "_tag" in planned

/**
 * The shape of a tensor in its layout.
 *
 * @since 0.2.0
 * @category tensors
 */
export const shape = (
  layout: Layout,
  frames: number,
  height: number,
  width: number,
  channels: number
): readonly [number, number, number, number] =>
  layout === "THWC" ? [frames, height, width, channels] : [frames, channels, height, width]

/** 0..255 as float32 in [0, 1]: `value / 255`. */
const unit = Float32Array.from({ length: 256 }, (_, value) => value / 255)

/**
 * THWC uint8 frames in the requested dtype and layout: `bytes` itself when nothing changes, else
 * one new array.
 *
 * @since 0.2.0
 * @category tensors
 */
export const arrange = (
  bytes: Uint8Array,
  frames: number,
  height: number,
  width: number,
  channels: number,
  dtype: DType,
  layout: Layout
): Uint8Array | Float32Array => {
  const planar = layout === "TCHW" && channels > 1
  if (!planar) {
    if (dtype === "uint8") return bytes
    const out = new Float32Array(bytes.length)
    for (let i = 0; i < bytes.length; i++) out[i] = unit[bytes[i]]
    return out
  }
  const pixels = height * width
  const frameSize = pixels * channels
  const out = dtype === "uint8" ? new Uint8Array(bytes.length) : new Float32Array(bytes.length)
  for (let t = 0; t < frames; t++) {
    const base = t * frameSize
    for (let c = 0; c < channels; c++) {
      const plane = base + c * pixels
      if (dtype === "uint8") {
        for (let p = 0, src = base + c; p < pixels; p++, src += channels) out[plane + p] = bytes[src]
      } else {
        for (let p = 0, src = base + c; p < pixels; p++, src += channels) out[plane + p] = unit[bytes[src]]
      }
    }
  }
  return out
}

/**
 * Presentation timestamps, in seconds, of the selected frames of a constant-rate decode: frame
 * `i` of the decoded range starts at `start + i / fps`.
 *
 * @since 0.2.0
 * @category frames
 */
export const constantRateTimestamps = (indices: ReadonlyArray<number>, fps: number, start: number): Array<number> =>
  indices.map((i) => (fps > 0 ? start + i / fps : start))
