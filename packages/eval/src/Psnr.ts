/**
 * Mean squared error and peak signal-to-noise ratio, per frame on the 0-255 scale over every
 * channel, then averaged over frames.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"

/**
 * The PSNR given to a frame pair with no difference at all (where the formula is infinite): 100 dB.
 *
 * @since 0.1.0
 * @category constants
 */
export const PSNR_CAP = 100

/**
 * Per-frame MSE of two tensors of the same geometry, on the 0-255 scale, over all channels.
 *
 * @since 0.1.0
 * @category kernels
 */
export const mseFrames = (a: VideoTensor, b: VideoTensor): Float64Array => {
  const ga = geometry(a)
  const gb = geometry(b)
  const out = new Float64Array(ga.frames)
  const da = a.data
  const db = b.data
  const n = ga.frameSize
  const sa = ga.scale
  const sb = gb.scale
  for (let f = 0; f < ga.frames; f++) {
    let sum = 0
    const base = f * n
    if (sa === 1 && sb === 1) {
      for (let i = base, end = base + n; i < end; i++) {
        const d = da[i] - db[i]
        sum += d * d
      }
    } else {
      for (let i = base, end = base + n; i < end; i++) {
        const d = da[i] * sa - db[i] * sb
        sum += d * d
      }
    }
    out[f] = sum / n
  }
  return out
}

/**
 * PSNR in dB of one MSE value for 8-bit data (peak 255), capped at `PSNR_CAP`.
 *
 * @since 0.1.0
 * @category kernels
 */
export const psnrFromMse = (mse: number): number =>
  mse <= 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10((255 * 255) / mse))

/**
 * Per-frame PSNR in dB.
 *
 * @since 0.1.0
 * @category kernels
 */
export const psnrFrames = (a: VideoTensor, b: VideoTensor): Float64Array => mseFrames(a, b).map(psnrFromMse)
