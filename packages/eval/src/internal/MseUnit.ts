/**
 * Mean squared error and PSNR as FastVideo computes them (`common.mse`, `common.psnr`): per frame,
 * over every channel and pixel of frames on [0, 1]; PSNR with a peak of 1 and the MSE floored at
 * 1e-10, so that identical frames score 100 dB.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry, UNIT_LEVELS } from "../Frames.ts"

/**
 * The floor FastVideo puts under a frame's MSE before its PSNR (`mse.clamp(min=1e-10)`): the
 * PSNR of identical frames is `10 log10(1 / 1e-10)` = 100 dB.
 *
 * @since 0.3.0
 * @category constants
 */
export const MSE_FLOOR = 1e-10

/**
 * The [0, 1] value of every element of a tensor, read through `UNIT_LEVELS` for uint8, by its
 * index in `layout` (the other layout's elements are found where they are).
 */
const unitAt = (tensor: VideoTensor, layout: VideoTensor["layout"]): (i: number) => number => {
  const data = tensor.data
  const value = tensor.dtype === "uint8" ? (i: number) => UNIT_LEVELS[data[i]] : (i: number) => data[i]
  if (tensor.layout === layout) return value
  const { height, width, channels, frameSize } = geometry(tensor)
  const plane = height * width
  return tensor.layout === "TCHW"
    // asked for THWC index f * size + p * channels + ch
    ? (i) => {
      const f = Math.floor(i / frameSize), r = i - f * frameSize
      return value(f * frameSize + (r % channels) * plane + Math.floor(r / channels))
    }
    // asked for TCHW index f * size + ch * plane + p
    : (i) => {
      const f = Math.floor(i / frameSize), r = i - f * frameSize
      return value(f * frameSize + (r % plane) * channels + Math.floor(r / plane))
    }
}

/**
 * Per-frame MSE on [0, 1] over every channel and pixel (`uint8` levels as `v / 255` in float32,
 * `float32` values as they are), of two videos of one frame size and channels, over the frames of
 * the shorter one.
 *
 * @since 0.3.0
 * @category kernels
 */
export const mseUnitFrames = (a: VideoTensor, b: VideoTensor): Float64Array => {
  const ga = geometry(a)
  const n = Math.min(ga.frames, geometry(b).frames)
  const size = ga.frameSize
  const out = new Float64Array(n)
  const da = a.data
  const db = b.data
  if (a.dtype === "uint8" && b.dtype === "uint8" && a.layout === b.layout) {
    const levels = UNIT_LEVELS
    for (let f = 0; f < n; f++) {
      let sum = 0
      for (let i = f * size, end = i + size; i < end; i++) {
        const d = levels[da[i]] - levels[db[i]]
        sum += d * d
      }
      out[f] = sum / size
    }
    return out
  }
  const va = unitAt(a, a.layout)
  const vb = unitAt(b, a.layout)
  for (let f = 0; f < n; f++) {
    let sum = 0
    for (let i = f * size, end = i + size; i < end; i++) {
      const d = va(i) - vb(i)
      sum += d * d
    }
    out[f] = sum / size
  }
  return out
}

/**
 * The PSNR in dB of one MSE on [0, 1]: `10 log10(1 / max(mse, 1e-10))`.
 *
 * @since 0.3.0
 * @category kernels
 */
export const psnrFromUnitMse = (mse: number): number => 10 * Math.log10(1 / Math.max(mse, MSE_FLOOR))
