/**
 * Structural similarity as FastVideo computes it (`common.ssim`): on every channel of frames on
 * [0, 1], an 11x11 Gaussian window (sigma 1.5) at every pixel with zeros outside the frame
 * ("same" size), C1 = 0.01^2, C2 = 0.03^2; a frame's value is the mean of the map over channels
 * and pixels.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry, UNIT_LEVELS } from "../Frames.ts"
import { RADIUS, WEIGHTS, WINDOW } from "../Ssim.ts"

const C1 = 0.01 ** 2
const C2 = 0.03 ** 2

/**
 * Buffers for frames of one width, so that scoring a clip allocates nothing per frame: one input
 * row of each video and its products, zero-padded by the window's radius on both sides, and a ring
 * of the last 11 horizontally filtered rows of mu_x, mu_y, E[x^2], E[y^2], E[xy].
 *
 * @since 0.3.0
 * @category models
 */
export interface SsimRgbScratch {
  readonly width: number
  /** Padded rows (width + 10): x, y, x^2, y^2, xy. */
  readonly rows: ReadonlyArray<Float64Array>
  /** Ring of filtered rows (11 x width each): mu_x, mu_y, E[x^2], E[y^2], E[xy]. */
  readonly ring: ReadonlyArray<Float64Array>
}

/**
 * @since 0.3.0
 * @category constructors
 */
export const makeScratch = (width: number): SsimRgbScratch => ({
  width,
  rows: Array.from({ length: 5 }, () => new Float64Array(width + 2 * RADIUS)),
  ring: Array.from({ length: 5 }, () => new Float64Array(WINDOW * width))
})

/** What reading a tensor's rows needs, worked out once per clip. */
interface Rows {
  readonly data: VideoTensor["data"]
  /** The [0, 1] value of each uint8 level, or `undefined` for float32 data (taken as it is). */
  readonly levels: Float64Array | undefined
  readonly frameSize: number
  /** Offset of channel 1 from channel 0, of row 1 from row 0, of a pixel from the one before. */
  readonly channel: number
  readonly row: number
  readonly step: number
}

const rowsOf = (tensor: VideoTensor): Rows => {
  const { width, height, channels, frameSize } = geometry(tensor)
  const planar = tensor.layout === "TCHW"
  return {
    data: tensor.data,
    levels: tensor.dtype === "uint8" ? UNIT_LEVELS : undefined,
    frameSize,
    channel: planar ? height * width : 1,
    row: planar ? width : width * channels,
    step: planar ? 1 : channels
  }
}

/** Writes row `row` of channel `channel` of frame `frame`, on [0, 1], into `out` from `RADIUS`. */
const readRow = (rows: Rows, width: number, frame: number, channel: number, row: number, out: Float64Array): void => {
  const { data, levels, step } = rows
  const start = frame * rows.frameSize + channel * rows.channel + row * rows.row
  if (levels !== undefined) {
    for (let c = 0, i = start; c < width; c++, i += step) out[RADIUS + c] = levels[data[i]]
  } else {
    for (let c = 0, i = start; c < width; c++, i += step) out[RADIUS + c] = data[i]
  }
}

/** The horizontal pass of one input row (already in `rows[0]`, `rows[1]`) into ring slot `slot`. */
const filterRow = (scratch: SsimRgbScratch, slot: number): void => {
  const { width } = scratch
  const [x, y, xx, yy, xy] = scratch.rows
  const n = width + 2 * RADIUS
  for (let i = 0; i < n; i++) {
    const a = x[i]
    const b = y[i]
    xx[i] = a * a
    yy[i] = b * b
    xy[i] = a * b
  }
  const w = WEIGHTS
  const w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5]
  const out = slot * width
  for (let p = 0; p < 5; p++) {
    const src = scratch.rows[p]
    const dst = scratch.ring[p]
    for (let c = 0; c < width; c++) {
      dst[out + c] = w5 * src[c + 5] + w0 * (src[c] + src[c + 10]) + w1 * (src[c + 1] + src[c + 9]) +
        w2 * (src[c + 2] + src[c + 8]) + w3 * (src[c + 3] + src[c + 7]) + w4 * (src[c + 4] + src[c + 6])
    }
  }
}

/** The vertical pass of output row `row` from the ring: the sum of its SSIM map over the row. */
const rowSum = (scratch: SsimRgbScratch, row: number, height: number): number => {
  const { width } = scratch
  const [hx, hy, hxx, hyy, hxy] = scratch.ring
  const lo = Math.max(0, row - RADIUS)
  const hi = Math.min(height - 1, row + RADIUS)
  let total = 0
  if (hi - lo + 1 === WINDOW) {
    // Every row of the window is inside the frame: the window's symmetry, 6 multiplies a sum.
    const o = Array.from({ length: WINDOW }, (_, k) => ((lo + k) % WINDOW) * width)
    const w = WEIGHTS
    const w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5]
    const o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5]
    const o6 = o[6], o7 = o[7], o8 = o[8], o9 = o[9], o10 = o[10]
    for (let c = 0; c < width; c++) {
      const mx = w5 * hx[o5 + c] + w0 * (hx[o0 + c] + hx[o10 + c]) + w1 * (hx[o1 + c] + hx[o9 + c]) +
        w2 * (hx[o2 + c] + hx[o8 + c]) + w3 * (hx[o3 + c] + hx[o7 + c]) + w4 * (hx[o4 + c] + hx[o6 + c])
      const my = w5 * hy[o5 + c] + w0 * (hy[o0 + c] + hy[o10 + c]) + w1 * (hy[o1 + c] + hy[o9 + c]) +
        w2 * (hy[o2 + c] + hy[o8 + c]) + w3 * (hy[o3 + c] + hy[o7 + c]) + w4 * (hy[o4 + c] + hy[o6 + c])
      const exx = w5 * hxx[o5 + c] + w0 * (hxx[o0 + c] + hxx[o10 + c]) + w1 * (hxx[o1 + c] + hxx[o9 + c]) +
        w2 * (hxx[o2 + c] + hxx[o8 + c]) + w3 * (hxx[o3 + c] + hxx[o7 + c]) + w4 * (hxx[o4 + c] + hxx[o6 + c])
      const eyy = w5 * hyy[o5 + c] + w0 * (hyy[o0 + c] + hyy[o10 + c]) + w1 * (hyy[o1 + c] + hyy[o9 + c]) +
        w2 * (hyy[o2 + c] + hyy[o8 + c]) + w3 * (hyy[o3 + c] + hyy[o7 + c]) + w4 * (hyy[o4 + c] + hyy[o6 + c])
      const exy = w5 * hxy[o5 + c] + w0 * (hxy[o0 + c] + hxy[o10 + c]) + w1 * (hxy[o1 + c] + hxy[o9 + c]) +
        w2 * (hxy[o2 + c] + hxy[o8 + c]) + w3 * (hxy[o3 + c] + hxy[o7 + c]) + w4 * (hxy[o4 + c] + hxy[o6 + c])
      total += term(mx, my, exx, eyy, exy)
    }
    return total
  }
  // Near the top or bottom edge: the rows outside the frame are zeros and add nothing.
  for (let c = 0; c < width; c++) {
    let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0
    for (let r = lo; r <= hi; r++) {
      const wk = WEIGHTS[r - row + RADIUS]
      const i = (r % WINDOW) * width + c
      mx += wk * hx[i]
      my += wk * hy[i]
      exx += wk * hxx[i]
      eyy += wk * hyy[i]
      exy += wk * hxy[i]
    }
    total += term(mx, my, exx, eyy, exy)
  }
  return total
}

const term = (mx: number, my: number, exx: number, eyy: number, exy: number): number => {
  const mxx = mx * mx
  const myy = my * my
  const mxy = mx * my
  return ((2 * mxy + C1) * (2 * (exy - mxy) + C2)) / ((mxx + myy + C1) * (exx - mxx + (eyy - myy) + C2))
}

/**
 * The sum of the SSIM map of one channel of one frame pair (the planes `a` and `b` have the
 * same geometry).
 */
const channelSum = (scratch: SsimRgbScratch, a: Rows, b: Rows, frame: number, channel: number, height: number): number => {
  const [x, y] = scratch.rows
  let filtered = 0
  let total = 0
  for (let row = 0; row < height; row++) {
    const need = Math.min(height - 1, row + RADIUS)
    for (; filtered <= need; filtered++) {
      readRow(a, scratch.width, frame, channel, filtered, x)
      readRow(b, scratch.width, frame, channel, filtered, y)
      filterRow(scratch, filtered % WINDOW)
    }
    total += rowSum(scratch, row, height)
  }
  return total
}

/**
 * Per-frame SSIM, FastVideo's definition, of two videos of the same frame size and channels (any
 * size), over the frames of the shorter one. `uint8` levels count as
 * `v / 255` in float32, `float32` values as they are; the arithmetic is float64.
 *
 * @example
 * ```ts
 * import { SsimRgb } from "@vidpool/eval"
 *
 * const perFrame = SsimRgb.ssimRgbFrames(generated, reference) // Float64Array, one value a frame
 * ```
 *
 * @since 0.3.0
 * @category kernels
 */
export const ssimRgbFrames = (a: VideoTensor, b: VideoTensor): Float64Array => {
  const { frames, width, height, channels } = geometry(a)
  const n = Math.min(frames, geometry(b).frames)
  const scratch = makeScratch(width)
  const ra = rowsOf(a)
  const rb = rowsOf(b)
  const out = new Float64Array(n)
  for (let f = 0; f < n; f++) {
    let total = 0
    for (let ch = 0; ch < channels; ch++) total += channelSum(scratch, ra, rb, f, ch, height)
    out[f] = total / (channels * width * height)
  }
  return out
}
