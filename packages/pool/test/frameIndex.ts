// The frame-numbered test pattern: which source frame a decoded frame shows, for the tests of
// both decoders.
import type { VideoTensor } from "../src/index.ts"

/** The source frame index a `frameIndex` clip or folder encodes in frame `t` (red + 256 * green,
 * blue 128), or -1 when its pixels disagree. */
export const frameIndexOf = (tensor: VideoTensor, t: number): number => {
  const [, h, w, ch] = tensor.shape
  const size = h * w * ch
  const r = tensor.data[t * size]
  const g = tensor.data[t * size + 1]
  for (let i = t * size; i < (t + 1) * size; i += ch) {
    if (tensor.data[i] !== r || tensor.data[i + 1] !== g || tensor.data[i + 2] !== 128) return -1
  }
  return r + 256 * g
}
