/**
 * Mean squared error and peak signal-to-noise ratio, per frame on the 0-255 scale over every
 * channel, then averaged over frames.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import * as Kernels from "./internal/Kernels.ts"

/**
 * The PSNR given to a frame pair with no difference at all (where the formula is infinite): 100 dB.
 *
 * @since 0.1.0
 * @category constants
 */
export const PSNR_CAP = 100

/**
 * Per-frame MSE with the JavaScript kernel: what `mseFrames` computes where the WebAssembly
 * kernels do not load, and the baseline the benchmark measures them against.
 *
 * @since 0.2.0
 * @category kernels
 */
export const mseFramesJs = (a: VideoTensor, b: VideoTensor): Float64Array => {
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

/** MSE with the WebAssembly kernel: two tensors of one dtype, a frame of each copied in at a time. */
const mseFramesWasm = (kernels: Kernels.Exports) => (a: VideoTensor, b: VideoTensor): Float64Array => {
  if (a.dtype !== b.dtype) return mseFramesJs(a, b)
  const ga = geometry(a)
  const gb = geometry(b)
  const n = ga.frameSize
  const bytes = Kernels.frameBytes(a, ga)
  const frameA = Kernels.reserve(kernels, 2 * Kernels.align(bytes))
  if (frameA === undefined) return mseFramesJs(a, b)
  const frameB = frameA + Kernels.align(bytes)
  const out = new Float64Array(ga.frames)
  for (let f = 0; f < ga.frames; f++) {
    Kernels.copyFrame(kernels, a, f, bytes, frameA)
    Kernels.copyFrame(kernels, b, f, bytes, frameB)
    const sum = a.dtype === "uint8" ? kernels.sqdiffU8(frameA, frameB, n) : kernels.sqdiffF32(frameA, frameB, n, ga.scale, gb.scale)
    out[f] = sum / n
  }
  return out
}

/**
 * Per-frame MSE of two tensors of the same geometry, on the 0-255 scale, over all channels: with
 * the WebAssembly kernel where it loads (for uint8 the very same values as `mseFramesJs`, for
 * float32 the same to rounding), else the JavaScript one.
 *
 * @since 0.1.0
 * @category kernels
 */
export const mseFrames: (a: VideoTensor, b: VideoTensor) => Float64Array = Kernels.wasm === undefined
  ? mseFramesJs
  : mseFramesWasm(Kernels.wasm)

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
