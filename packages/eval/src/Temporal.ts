/**
 * Temporal statistics of one video: mean absolute difference of consecutive frames (motion),
 * and VBench's temporal flickering score built on it.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"

/**
 * Mean absolute difference between each frame and the next, on the 0-255 scale over every
 * channel: `frames - 1` values.
 *
 * @since 0.1.0
 * @category kernels
 */
export const frameDifferences = (tensor: VideoTensor): Float64Array => {
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

/**
 * VBench's temporal flickering score for a mean absolute frame difference `mad` (0-255 scale):
 * `(255 - mad) / 255`, in [0, 1], 1 for a perfectly still video.
 *
 * @since 0.1.0
 * @category kernels
 */
export const flickeringScore = (mad: number): number => (255 - mad) / 255
