/**
 * The kernels of Physics-IQ's pair metrics, FastVideo's definitions: the clips' windows, their
 * quarter-size frames and MSE, the motion masks, and the three IoUs of masks.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { gaussianBlur5, greyFromRgb, openThenClose5, resizeLinear, roundHalfEven } from "./CvKernels.ts"
import { geometry, UNIT_LEVELS } from "../Frames.ts"

/**
 * Frames Physics-IQ reads of each clip: the first 5 s at 30 fps (FastVideo's `target_fps *
 * duration_seconds`), whatever the clip's rate.
 *
 * @since 0.3.0
 * @category constants
 */
export const WINDOW_FRAMES = 150

/**
 * The motion-mask settings: a pixel moves when its blurred grey level differs from the running
 * average (`average = 0.3 grey + 0.7 average`) by more than 10.
 *
 * @since 0.3.0
 * @category constants
 */
export const MOTION = { threshold: 10, alpha: 0.3 } as const

/**
 * `x` rounded to `digits` decimals as Python's `round(x, digits)` rounds: the exact value, halves
 * to even (FastVideo rounds each frame's MSE and IoU to 4 decimals).
 *
 * @since 0.3.0
 * @category kernels
 */
export const roundDecimals = (x: number, digits: number): number => {
  const nearest = Number(x.toFixed(digits))
  if (!Number.isFinite(x) || x < 0) return nearest
  // `toFixed` rounds the exact value, and a tie up; Python rounds a tie to even.
  const exact = x.toFixed(60)
  const point = exact.indexOf(".")
  if (!/^50*$/.test(exact.slice(point + 1 + digits))) return nearest
  const kept = exact.slice(0, point + 1 + digits)
  return Number(kept[kept.length - 1]) % 2 === 0 ? Number(kept) : nearest
}

/**
 * Frame `f` of `tensor` as interleaved RGB `uint8`, as FastVideo turns a tensor into frames
 * (`float32` values clamped to [0, 1], times 255, rounded half to even). `scratch` holds the
 * copy when the tensor is not THWC `uint8`.
 */
const rgbFrame = (tensor: VideoTensor, f: number, scratch: Uint8Array): Uint8Array => {
  const { height, width, frameSize } = geometry(tensor)
  const data = tensor.data
  const base = f * frameSize
  if (tensor.dtype === "uint8" && tensor.layout === "THWC") return (data as Uint8Array).subarray(base, base + frameSize)
  const plane = height * width
  const level = tensor.dtype === "uint8"
    ? (i: number) => data[i]
    : (i: number) => roundHalfEven(Math.fround(Math.min(1, Math.max(0, data[i])) * 255))
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      scratch[p * 3 + c] = level(tensor.layout === "THWC" ? base + p * 3 + c : base + c * plane + p)
    }
  }
  return scratch
}

/**
 * The quarter size of a reference: `(max(W // 4, 1), max(H // 4, 1))`, the size every frame and
 * mask of the pair is resized to.
 *
 * @since 0.3.0
 * @category kernels
 */
export const quarterSize = (reference: VideoTensor): { readonly width: number; readonly height: number } => {
  const { width, height } = geometry(reference)
  return { width: Math.max(Math.floor(width / 4), 1), height: Math.max(Math.floor(height / 4), 1) }
}

/**
 * The frames of a clip Physics-IQ reads: at most `WINDOW_FRAMES`.
 *
 * @since 0.3.0
 * @category kernels
 */
export const windowFrames = (tensor: VideoTensor): number => Math.min(geometry(tensor).frames, WINDOW_FRAMES)

/**
 * Per-frame MSE of the two clips' frames resized to `size` (`cv2.resize`, bilinear), on [0, 1]
 * (`v / 255` in float32), every channel, each rounded to 4 decimals as FastVideo rounds it; the
 * clips must have as many frames in the window.
 *
 * @since 0.3.0
 * @category kernels
 */
export const quarterMseFrames = (
  video: VideoTensor,
  reference: VideoTensor,
  size: { readonly width: number; readonly height: number } = quarterSize(reference)
): Float64Array => {
  const gv = geometry(video)
  const gr = geometry(reference)
  const n = Math.min(windowFrames(video), windowFrames(reference))
  const length = size.width * size.height * 3
  const a = new Uint8Array(length)
  const b = new Uint8Array(length)
  const scratchA = new Uint8Array(gv.height * gv.width * 3)
  const scratchB = new Uint8Array(gr.height * gr.width * 3)
  const out = new Float64Array(n)
  for (let f = 0; f < n; f++) {
    resizeLinear(rgbFrame(video, f, scratchA), gv.width, gv.height, 3, size.width, size.height, a)
    resizeLinear(rgbFrame(reference, f, scratchB), gr.width, gr.height, 3, size.width, size.height, b)
    let sum = 0
    for (let i = 0; i < length; i++) {
      const d = UNIT_LEVELS[a[i]] - UNIT_LEVELS[b[i]]
      sum += d * d
    }
    out[f] = roundDecimals(sum / length, 4)
  }
  return out
}

/**
 * The motion masks of a clip's window at `size`, one `0`/`1` plane per frame: FastVideo's
 * `generate_motion_mask` (grey, 5x5 Gaussian blur, running average `accumulateWeighted` with
 * alpha 0.3, `|grey - round(average)| > 10`, opening then closing by a 5x5 square; the first
 * frame's mask empty) at the clip's size, resized to `size` (bilinear) and kept where above 127.
 *
 * @since 0.3.0
 * @category kernels
 */
export const motionMasks = (
  tensor: VideoTensor,
  size: { readonly width: number; readonly height: number }
): ReadonlyArray<Uint8Array> => {
  const { width, height } = geometry(tensor)
  const n = windowFrames(tensor)
  const plane = width * height
  const scratch = new Uint8Array(plane * 3)
  const grey = new Uint8Array(plane)
  const blurred = new Uint8Array(plane)
  const mask = new Uint8Array(plane)
  const average = new Float64Array(plane)
  const beta = 1 - MOTION.alpha
  const masks: Array<Uint8Array> = []
  const small = size.width * size.height
  for (let f = 0; f < n; f++) {
    greyFromRgb(rgbFrame(tensor, f, scratch), grey)
    gaussianBlur5(grey, width, height, blurred)
    if (f === 0) {
      for (let p = 0; p < plane; p++) average[p] = blurred[p]
      masks.push(new Uint8Array(small))
      continue
    }
    for (let p = 0; p < plane; p++) {
      const avg = blurred[p] * MOTION.alpha + average[p] * beta
      average[p] = avg
      const level = Math.min(255, roundHalfEven(Math.abs(avg)))
      mask[p] = Math.abs(blurred[p] - level) > MOTION.threshold ? 255 : 0
    }
    openThenClose5(mask, width, height)
    const resized = new Uint8Array(small)
    resizeLinear(mask, width, height, 1, size.width, size.height, resized)
    for (let p = 0; p < small; p++) resized[p] = resized[p] > 127 ? 1 : 0
    masks.push(resized)
  }
  return masks
}

/** `|a and b| / |a or b|` over the set pixels of two planes; 1 when neither has any. */
const iou = (a: Uint8Array, b: Uint8Array): number => {
  let inter = 0
  let union = 0
  for (let p = 0; p < a.length; p++) {
    if (a[p] !== 0 && b[p] !== 0) inter++
    if (a[p] !== 0 || b[p] !== 0) union++
  }
  return union === 0 ? 1 : inter / union
}

/**
 * Per frame over the shorter of two mask sequences, the IoU of the frames' masks, rounded to 4
 * decimals.
 *
 * @since 0.3.0
 * @category kernels
 */
export const spatiotemporalIouFrames = (a: ReadonlyArray<Uint8Array>, b: ReadonlyArray<Uint8Array>): Float64Array => {
  const n = Math.min(a.length, b.length)
  const out = new Float64Array(n)
  for (let f = 0; f < n; f++) out[f] = roundDecimals(iou(a[f], b[f]), 4)
  return out
}

/** The union over frames of a mask sequence. */
const everMoved = (masks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(masks[0].length)
  for (const m of masks) for (let p = 0; p < m.length; p++) out[p] |= m[p]
  return out
}

/**
 * The IoU of the pixels that move in any frame of each sequence.
 *
 * @since 0.3.0
 * @category kernels
 */
export const spatialIou = (a: ReadonlyArray<Uint8Array>, b: ReadonlyArray<Uint8Array>): number =>
  iou(everMoved(a), everMoved(b))

/** Per pixel, the share of a sequence's frames in which it moves. */
const moving = (masks: ReadonlyArray<Uint8Array>): Float64Array => {
  const counts = new Float64Array(masks[0].length)
  for (const m of masks) for (let p = 0; p < m.length; p++) counts[p] += m[p]
  return counts.map((c) => c / masks.length)
}

/**
 * `sum min(w_a, w_b) / sum max(w_a, w_b)` over the pixels where either moves, `w` the share of a
 * sequence's frames in which the pixel moves; 1 when none moves.
 *
 * @since 0.3.0
 * @category kernels
 */
export const weightedSpatialIou = (a: ReadonlyArray<Uint8Array>, b: ReadonlyArray<Uint8Array>): number => {
  const wa = moving(a)
  const wb = moving(b)
  let inter = 0
  let union = 0
  let any = false
  for (let p = 0; p < wa.length; p++) {
    const hi = Math.max(wa[p], wb[p])
    if (hi > 0) {
      any = true
      inter += Math.min(wa[p], wb[p])
      union += hi
    }
  }
  return any ? inter / union : 1
}

/**
 * The motion masks of each tensor at the size last asked, kept while the tensor lives: the three
 * IoUs of a sample read the same tensors, and compute each clip's masks once.
 */
const memo = new WeakMap<VideoTensor, { readonly width: number; readonly height: number; readonly masks: ReadonlyArray<Uint8Array> }>()

/**
 * `motionMasks`, computed once per tensor and size (the masks of a tensor are kept while the
 * tensor lives; a tensor's data never changes).
 *
 * @since 0.3.0
 * @category kernels
 */
export const motionMasksOf = (
  tensor: VideoTensor,
  size: { readonly width: number; readonly height: number }
): ReadonlyArray<Uint8Array> => {
  const kept = memo.get(tensor)
  if (kept !== undefined && kept.width === size.width && kept.height === size.height) return kept.masks
  const masks = motionMasks(tensor, size)
  memo.set(tensor, { width: size.width, height: size.height, masks })
  return masks
}
