/**
 * Temporal statistics of one video: mean absolute difference of consecutive frames (motion),
 * and VBench's temporal flickering score built on it.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import * as Kernels from "./internal/Kernels.ts"

/**
 * `frameDifferences` with the JavaScript kernel: what it computes where the WebAssembly kernels do
 * not load, and the baseline the benchmark measures them against.
 *
 * @since 0.2.0
 * @category kernels
 */
export const frameDifferencesJs = (tensor: VideoTensor): Float64Array => {
  const { frames, frameSize: n, scale } = geometry(tensor)
  const data = tensor.data
  const out = new Float64Array(Math.max(0, frames - 1))
  for (let f = 0; f + 1 < frames; f++) {
    let sum = 0
    for (let i = f * n, j = i + n, end = i + n; i < end; i++, j++) {
      sum += Math.abs(data[j] - data[i])
    }
    out[f] = (sum * scale) / n
  }
  return out
}

/** With the WebAssembly kernel: each frame copied in once, into one of two alternating slots. */
const frameDifferencesWasm = (kernels: Kernels.Exports) => (tensor: VideoTensor): Float64Array => {
  const g = geometry(tensor)
  const { frames, frameSize: n, scale } = g
  const bytes = Kernels.frameBytes(tensor, g)
  const first = Kernels.reserve(kernels, 2 * Kernels.align(bytes))
  if (first === undefined) return frameDifferencesJs(tensor)
  const slots = [first, first + Kernels.align(bytes)]
  const out = new Float64Array(Math.max(0, frames - 1))
  if (frames > 1) Kernels.copyFrame(kernels, tensor, 0, bytes, slots[0])
  for (let f = 0; f + 1 < frames; f++) {
    const previous = slots[f & 1]
    const next = slots[(f + 1) & 1]
    Kernels.copyFrame(kernels, tensor, f + 1, bytes, next)
    const sum = tensor.dtype === "uint8" ? kernels.absdiffU8(previous, next, n) : kernels.absdiffF32(previous, next, n)
    out[f] = (sum * scale) / n
  }
  return out
}

/**
 * Mean absolute difference between each frame and the next, on the 0-255 scale over every
 * channel: `frames - 1` values. With the WebAssembly kernel where it loads (for uint8 the very
 * same values as `frameDifferencesJs`, for float32 the same to rounding), else the JavaScript one.
 *
 * @since 0.1.0
 * @category kernels
 */
export const frameDifferences: (tensor: VideoTensor) => Float64Array = Kernels.wasm === undefined
  ? frameDifferencesJs
  : frameDifferencesWasm(Kernels.wasm)

/**
 * VBench's temporal flickering score for a mean absolute frame difference `mad` (0-255 scale):
 * `(255 - mad) / 255`, in [0, 1], 1 for a perfectly still video.
 *
 * @since 0.1.0
 * @category kernels
 */
export const flickeringScore = (mad: number): number => (255 - mad) / 255
