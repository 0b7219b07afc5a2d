/**
 * Bicubic resizing and centre cropping with torchvision's semantics, for CLIP's preprocessing:
 * `resize(img, size, BICUBIC, antialias=False)` (torch's `upsample_bicubic2d`, A = -0.75,
 * `align_corners=False`) followed by `center_crop(img, size)`, computing only the kept pixels.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "../Frames.ts"
import { framePlanes, normalizePlanes } from "../Preprocess.ts"

/**
 * CLIP's per-channel mean and standard deviation (R, G, B), as OpenAI's CLIP and FastVideo give them.
 *
 * @since 0.3.0
 * @category constants
 */
export const CLIP_NORM = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711]
} as const

/**
 * The four source indices and weights of each output position of one axis, as torch computes
 * them for a bicubic resize (`align_corners=False`): source `(i + 0.5) * in / out - 0.5`, not
 * clamped, its floor and fraction, Keys' cubic with A = -0.75, indices clamped to the edges.
 *
 * @since 0.3.0
 * @category resize
 */
export interface CubicTaps {
  /** `4 * count` source indices. */
  readonly index: Int32Array
  /** `4 * count` weights. */
  readonly weight: Float32Array
  readonly count: number
}

const A = -0.75
const near = (x: number): number => Math.fround(Math.fround(Math.fround(Math.fround(A + 2) * x - (A + 3)) * x) * x + 1)
const far = (x: number): number => Math.fround(Math.fround(Math.fround(Math.fround(A * x - 5 * A) * x) + 8 * A) * x - 4 * A)

/**
 * The taps of output positions `from` to `from + count - 1` of a resize of `inSize` to `outSize`.
 *
 * @since 0.3.0
 * @category resize
 */
export const cubicTaps = (inSize: number, outSize: number, from = 0, count = outSize - from): CubicTaps => {
  const index = new Int32Array(4 * count)
  const weight = new Float32Array(4 * count)
  // torch computes the scale, the source position and the weights in float32 for float tensors.
  const scale = Math.fround(inSize / outSize)
  for (let k = 0; k < count; k++) {
    const src = Math.fround(Math.fround(scale * Math.fround(from + k + 0.5)) - 0.5)
    const lower = Math.min(Math.floor(src), inSize - 1)
    const t = Math.min(Math.max(Math.fround(src - lower), 0), 1)
    const w = [far(Math.fround(t + 1)), near(t), near(Math.fround(1 - t)), far(Math.fround(Math.fround(1 - t) + 1))]
    for (let j = 0; j < 4; j++) {
      index[4 * k + j] = Math.max(0, Math.min(inSize - 1, lower - 1 + j))
      weight[4 * k + j] = w[j]
    }
  }
  return { index, weight, count }
}

/**
 * Resizes one plane (`inH x inW`, row-major, at `srcOffset` of `src`) with the given row and
 * column taps into `out` at `outOffset`. Each output value is the sum over its four source rows
 * of the row weight times that row's sum over its four source columns (torch's order; each sum in
 * float64, stored as float32); the row sums are
 * computed once per source row into `rowSums` (`inH x cols.count`).
 *
 * @since 0.3.0
 * @category resize
 */
export const resizePlaneCubic = (
  src: Float32Array,
  srcOffset: number,
  inW: number,
  rows: CubicTaps,
  cols: CubicTaps,
  out: Float32Array,
  outOffset: number,
  rowSums: Float32Array = new Float32Array((Math.max(...rows.index) + 1) * cols.count)
): void => {
  const outW = cols.count
  const ri = rows.index
  const rw = rows.weight
  const ci = cols.index
  const cw = cols.weight
  let first = Infinity
  let last = -1
  for (let k = 0; k < ri.length; k++) {
    if (ri[k] < first) first = ri[k]
    if (ri[k] > last) last = ri[k]
  }
  // The horizontal pass, over the source rows the kept output rows read.
  for (let r = first; r <= last; r++) {
    const s = srcOffset + r * inW
    const o = r * outW
    for (let x = 0, c = 0; x < outW; x++, c += 4) {
      rowSums[o + x] = cw[c] * src[s + ci[c]] + cw[c + 1] * src[s + ci[c + 1]] + cw[c + 2] * src[s + ci[c + 2]] +
        cw[c + 3] * src[s + ci[c + 3]]
    }
  }
  // The vertical pass.
  for (let y = 0; y < rows.count; y++) {
    const r0 = ri[4 * y] * outW
    const r1 = ri[4 * y + 1] * outW
    const r2 = ri[4 * y + 2] * outW
    const r3 = ri[4 * y + 3] * outW
    const w0 = rw[4 * y]
    const w1 = rw[4 * y + 1]
    const w2 = rw[4 * y + 2]
    const w3 = rw[4 * y + 3]
    const o = outOffset + y * outW
    for (let x = 0; x < outW; x++) {
      out[o + x] = w0 * rowSums[r0 + x] + w1 * rowSums[r1 + x] + w2 * rowSums[r2 + x] + w3 * rowSums[r3 + x]
    }
  }
}

/** Python's `round` (half to even), as torchvision's `center_crop` rounds the offsets. */
const roundHalfEven = (x: number): number => {
  const f = Math.floor(x)
  const d = x - f
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1
}

/**
 * The size of torchvision's `resize(img, size)` (shorter side to `size`, the longer one
 * `floor(size * long / short)`) and the offsets of `center_crop(img, size)` in it.
 *
 * @since 0.3.0
 * @category geometry
 */
export const resizeCropGeometry = (height: number, width: number, size: number) => {
  const resized = width <= height
    ? { width: size, height: Math.floor((size * height) / width) }
    : { height: size, width: Math.floor((size * width) / height) }
  return {
    resized,
    top: roundHalfEven((resized.height - size) / 2),
    left: roundHalfEven((resized.width - size) / 2)
  }
}

/**
 * Frames `start` to `start + count - 1` of `video` as one NCHW float32 batch the way CLIP takes
 * them (FastVideo's `_clip_transform`): on [0, 1], the shorter side resized bicubic to `size`
 * (torch's semantics, no antialiasing, values not clamped), the centre `size x size` kept, then
 * normalised by CLIP's mean and std.
 *
 * @since 0.3.0
 * @category batches
 */
export const clipImageBatch = (video: VideoTensor, start: number, count: number, size = 224): Float32Array => {
  const { height, width } = geometry(video)
  const { left, resized, top } = resizeCropGeometry(height, width, size)
  const rows = cubicTaps(height, resized.height, top, size)
  const cols = cubicTaps(width, resized.width, left, size)
  const plane = size * size
  const out = new Float32Array(count * 3 * plane)
  const scratch = new Float32Array(3 * height * width)
  const rowSums = new Float32Array(height * size)
  for (let n = 0; n < count; n++) {
    const offset = n * 3 * plane
    framePlanes(video, start + n, scratch, 0)
    for (let c = 0; c < 3; c++) resizePlaneCubic(scratch, c * height * width, width, rows, cols, out, offset + c * plane, rowSums)
    normalizePlanes(out, offset, plane, CLIP_NORM.mean, CLIP_NORM.std)
  }
  return out
}
