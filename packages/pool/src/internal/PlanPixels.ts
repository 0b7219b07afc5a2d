/**
 * The pixels of a decoded tensor, as pure code: the gray value of an rgb24 pixel, the shape in a
 * layout, and THWC uint8 frames arranged into the requested dtype and layout. Part of `DecodePlan`.
 *
 * @since 0.2.0
 */
import type { DType, Layout } from "../VideoTensor.ts"

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
