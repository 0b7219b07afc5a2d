/**
 * The geometry of a decode, as pure code: the output frame size for an input and the options, the
 * crop of `resize: "crop"`, and the largest picture FFmpeg scales to. Part of `DecodePlan`.
 *
 * @since 0.2.0
 */
import type { DecodeOptions } from "../Video.ts"

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
