/**
 * Preprocessing for models, with torch's semantics: frames to float32 planes on [0, 1], bilinear
 * resizing as `F.interpolate(mode="bilinear", align_corners=False)` without antialiasing, the
 * shorter-side size of torchvision's `resize(img, size)`, normalisation, and NCHW / NCTHW batches.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"

/**
 * ImageNet's per-channel mean and standard deviation (R, G, B), as torchvision gives them.
 *
 * @since 0.3.0
 * @category constants
 */
export const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const

/**
 * torchvision's `resize(img, size)` with one number: the shorter side becomes `size`, the longer
 * `floor(size * long / short)` (a square stays square).
 *
 * @since 0.3.0
 * @category geometry
 */
export const shorterSideSize = (height: number, width: number, size: number): { readonly height: number; readonly width: number } =>
  width <= height
    ? { width: size, height: Math.floor((size * height) / width) }
    : { height: size, width: Math.floor((size * width) / height) }

/**
 * The source positions and weights of one axis of a bilinear resize, as torch computes them for
 * `align_corners=False` (`upsample_bilinear2d`): source `(i + 0.5) * in / out - 0.5`, clamped at
 * 0, the lower index, whether there is a next one, and the weight of that next one.
 *
 * @since 0.3.0
 * @category resize
 */
export interface AxisTaps {
  readonly lower: Int32Array
  readonly upper: Int32Array
  readonly weight: Float32Array
}

/**
 * @since 0.3.0
 * @category resize
 */
export const axisTaps = (inSize: number, outSize: number): AxisTaps => {
  const lower = new Int32Array(outSize)
  const upper = new Int32Array(outSize)
  const weight = new Float32Array(outSize)
  // torch computes the scale and the source index in float32 for float tensors.
  const scale = Math.fround(inSize / outSize)
  for (let i = 0; i < outSize; i++) {
    let src = Math.fround(Math.fround(scale * Math.fround(i + 0.5)) - 0.5)
    if (src < 0) src = 0
    const l = Math.floor(src)
    lower[i] = l
    upper[i] = l < inSize - 1 ? l + 1 : l
    weight[i] = Math.fround(src - l)
  }
  return { lower, upper, weight }
}

/**
 * Resizes one plane (`inH x inW`, row-major, read from `src` at `srcOffset`) into `out` at
 * `outOffset` (`rows.lower.length x cols.lower.length`), bilinear, torch's `align_corners=False`
 * weights, no antialiasing.
 *
 * @since 0.3.0
 * @category resize
 */
export const resizePlane = (
  src: Float32Array,
  srcOffset: number,
  inW: number,
  rows: AxisTaps,
  cols: AxisTaps,
  out: Float32Array,
  outOffset: number
): void => {
  const outH = rows.lower.length
  const outW = cols.lower.length
  for (let y = 0; y < outH; y++) {
    const r0 = srcOffset + rows.lower[y] * inW
    const r1 = srcOffset + rows.upper[y] * inW
    const hy = rows.weight[y]
    const ly = 1 - hy
    const o = outOffset + y * outW
    for (let x = 0; x < outW; x++) {
      const c0 = cols.lower[x]
      const c1 = cols.upper[x]
      const hx = cols.weight[x]
      const lx = 1 - hx
      out[o + x] = ly * (lx * src[r0 + c0] + hx * src[r0 + c1]) + hy * (lx * src[r1 + c0] + hx * src[r1 + c1])
    }
  }
}

/**
 * Writes frame `frame` of `video` into `out` at `offset` as three float32 planes (R, G, B; a grey
 * video's one channel repeated) on [0, 1] (bytes divided by 255), then each value `v` as
 * `v * scale + shift` (`2v - 1` for I3D's [-1, 1]).
 *
 * @since 0.3.0
 * @category layout
 */
export const framePlanes = (
  video: VideoTensor,
  frame: number,
  out: Float32Array,
  offset: number,
  scale = 1,
  shift = 0
): void => {
  const { height, width, channels, frameSize } = geometry(video)
  const data = video.data
  const plane = height * width
  const base = frame * frameSize
  const bytes = video.dtype === "uint8"
  const chw = video.layout === "TCHW"
  for (let c = 0; c < 3; c++) {
    const ch = Math.min(c, channels - 1)
    const o = offset + c * plane
    for (let p = 0; p < plane; p++) {
      const raw = chw ? data[base + ch * plane + p] : data[base + p * channels + ch]
      const unit = bytes ? Math.fround(raw / 255) : raw
      out[o + p] = scale === 1 && shift === 0 ? unit : Math.fround(Math.fround(unit * scale) + shift)
    }
  }
}

/**
 * Normalises three planes of `size` values at `offset` in place: `(v - mean[c]) / std[c]`.
 *
 * @since 0.3.0
 * @category normalise
 */
export const normalizePlanes = (
  data: Float32Array,
  offset: number,
  size: number,
  mean: ReadonlyArray<number>,
  std: ReadonlyArray<number>
): void => {
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c])
    const s = Math.fround(std[c])
    for (let i = offset + c * size, end = i + size; i < end; i++) data[i] = Math.fround(data[i] - m) / s
  }
}

/**
 * Frames `start` to `start + count - 1` of `video` as one NCHW float32 batch for an image model:
 * on [0, 1], resized bilinear to `height x width` (torch's semantics, no antialiasing), then
 * normalised by `mean` and `std`.
 *
 * @since 0.3.0
 * @category batches
 */
export const imageBatch = (
  video: VideoTensor,
  start: number,
  count: number,
  size: { readonly height: number; readonly width: number },
  norm: { readonly mean: ReadonlyArray<number>; readonly std: ReadonlyArray<number> }
): Float32Array => {
  const { height, width } = geometry(video)
  const plane = size.height * size.width
  const out = new Float32Array(count * 3 * plane)
  const same = height === size.height && width === size.width
  const scratch = same ? out : new Float32Array(3 * height * width)
  const rows = axisTaps(height, size.height)
  const cols = axisTaps(width, size.width)
  for (let n = 0; n < count; n++) {
    const offset = n * 3 * plane
    if (same) {
      framePlanes(video, start + n, out, offset)
    } else {
      framePlanes(video, start + n, scratch, 0)
      for (let c = 0; c < 3; c++) resizePlane(scratch, c * height * width, width, rows, cols, out, offset + c * plane)
    }
    normalizePlanes(out, offset, plane, norm.mean, norm.std)
  }
  return out
}

/**
 * A whole clip as one NCTHW float32 batch (N = 1) for a video model: each frame on [0, 1], then
 * `v * scale + shift`, then resized bilinear to `height x width` (torch's semantics).
 *
 * @since 0.3.0
 * @category batches
 */
export const clipBatch = (
  video: VideoTensor,
  size: { readonly height: number; readonly width: number },
  scale = 1,
  shift = 0
): Float32Array => {
  const { frames, height, width } = geometry(video)
  const plane = size.height * size.width
  const out = new Float32Array(3 * frames * plane)
  const scratch = new Float32Array(3 * height * width)
  const rows = axisTaps(height, size.height)
  const cols = axisTaps(width, size.width)
  const same = height === size.height && width === size.width
  for (let t = 0; t < frames; t++) {
    framePlanes(video, t, scratch, 0, scale, shift)
    for (let c = 0; c < 3; c++) {
      // NCTHW: channel c, frame t.
      const o = (c * frames + t) * plane
      if (same) out.set(scratch.subarray(c * plane, (c + 1) * plane), o)
      else resizePlane(scratch, c * height * width, width, rows, cols, out, o)
    }
  }
  return out
}
