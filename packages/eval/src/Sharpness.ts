/**
 * Sharpness as the variance of the Laplacian of the luma, per frame.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry, lumaFrame } from "./Frames.ts"
import * as Kernels from "./internal/Kernels.ts"

/**
 * Variance of the 4-neighbour Laplacian (`[0 1 0; 1 -4 1; 0 1 0]`) of a luma plane, over the
 * interior pixels (the plane must be at least 3x3).
 *
 * @since 0.1.0
 * @category kernels
 */
export const laplacianVariance = (plane: Float64Array, width: number, height: number): number => {
  let sum = 0
  let sumSq = 0
  for (let r = 1; r < height - 1; r++) {
    for (let c = 1, i = r * width + 1; c < width - 1; c++, i++) {
      const l = plane[i - width] + plane[i + width] + plane[i - 1] + plane[i + 1] - 4 * plane[i]
      sum += l
      sumSq += l * l
    }
  }
  const n = (width - 2) * (height - 2)
  const mean = sum / n
  return Math.max(0, sumSq / n - mean * mean)
}

/**
 * `sharpnessFrames` with the JavaScript kernel: what it computes where the WebAssembly kernels do
 * not load, and the baseline the benchmark measures them against.
 *
 * @since 0.2.0
 * @category kernels
 */
export const sharpnessFramesJs = (tensor: VideoTensor): Float64Array => {
  const { frames, width, height } = geometry(tensor)
  const plane = new Float64Array(width * height)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    lumaFrame(tensor, f, plane)
    out[f] = laplacianVariance(plane, width, height)
  }
  return out
}

/** With the WebAssembly kernel: each frame copied in, its luma plane made and scored there. */
const sharpnessFramesWasm = (kernels: Kernels.Exports) => (tensor: VideoTensor): Float64Array => {
  const g = geometry(tensor)
  const { frames, width, height } = g
  const bytes = Kernels.frameBytes(tensor, g)
  const plane = Kernels.reserve(kernels, Kernels.align(width * height * 8) + Kernels.align(bytes))
  if (plane === undefined) return sharpnessFramesJs(tensor)
  const frame = plane + Kernels.align(width * height * 8)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    Kernels.copyFrame(kernels, tensor, f, bytes, frame)
    Kernels.lumaAt(kernels, tensor, g, frame, plane)
    out[f] = kernels.laplacianVariance(plane, width, height)
  }
  return out
}

/**
 * Per-frame variance of the Laplacian of the luma: with the WebAssembly kernel where it loads (the
 * same values as `sharpnessFramesJs` to rounding), else the JavaScript one.
 *
 * @since 0.1.0
 * @category kernels
 */
export const sharpnessFrames: (tensor: VideoTensor) => Float64Array = Kernels.wasm === undefined
  ? sharpnessFramesJs
  : sharpnessFramesWasm(Kernels.wasm)
