/**
 * OpenCV's `uint8` image operations, bit for bit, as Physics-IQ's motion masks and quarter-size
 * frames use them: `resize` (`INTER_LINEAR`), `cvtColor` to grey, `GaussianBlur` 5x5, erosion and dilation.
 *
 * @since 0.3.0
 */

/**
 * `cvRound`: to the nearest integer, halves to even.
 *
 * @since 0.3.0
 * @category kernels
 */
export const roundHalfEven = (x: number): number => {
  const f = Math.floor(x)
  const d = x - f
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1
}

/**
 * The source index and the two fixed-point weights (11 fractional bits) of each destination
 * position along one axis, as OpenCV's `INTER_LINEAR` computes them in `float`. `clamp` moves
 * positions before the first or past the last source sample onto it (OpenCV does so across
 * rows; down the columns it keeps the weights and repeats the edge row).
 */
const linearAxis = (source: number, target: number, clamp: boolean) => {
  const scale = 1 / (target / source)
  const index = new Int32Array(target)
  const w0 = new Int32Array(target)
  const w1 = new Int32Array(target)
  for (let d = 0; d < target; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5)
    let s = Math.floor(f)
    f = Math.fround(f - s)
    if (clamp && s < 0) {
      f = 0
      s = 0
    }
    if (clamp && s + 1 >= source) {
      f = 0
      s = source - 1
    }
    index[d] = s
    w0[d] = roundHalfEven(Math.fround(Math.fround(1 - f) * 2048))
    w1[d] = roundHalfEven(Math.fround(f * 2048))
  }
  return { index, w0, w1 }
}

/**
 * `cv2.resize(src, (dw, dh))` of an interleaved `uint8` image of `channels` channels: OpenCV's
 * fixed-point bilinear (weights of 11 bits across, then down the columns
 * `((S0 >> 4) b0 >> 16) + ((S1 >> 4) b1 >> 16) + 2 >> 2`).
 *
 * @since 0.3.0
 * @category kernels
 */
export const resizeLinear = (
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  targetWidth: number,
  targetHeight: number,
  out: Uint8Array
): void => {
  const across = linearAxis(width, targetWidth, true)
  const down = linearAxis(height, targetHeight, false)
  const rowLength = targetWidth * channels
  const rows = new Int32Array(height * rowLength)
  for (let y = 0; y < height; y++) {
    const base = y * width * channels
    const o = y * rowLength
    for (let d = 0; d < targetWidth; d++) {
      const s = across.index[d]
      const a0 = across.w0[d]
      const a1 = across.w1[d]
      const next = s + 1 < width ? s + 1 : s
      for (let c = 0; c < channels; c++) {
        rows[o + d * channels + c] = src[base + s * channels + c] * a0 + src[base + next * channels + c] * a1
      }
    }
  }
  const last = height - 1
  for (let d = 0; d < targetHeight; d++) {
    const s = down.index[d]
    const r0 = (s < 0 ? 0 : s > last ? last : s) * rowLength
    const r1 = (s + 1 < 0 ? 0 : s + 1 > last ? last : s + 1) * rowLength
    const b0 = down.w0[d]
    const b1 = down.w1[d]
    const o = d * rowLength
    for (let x = 0; x < rowLength; x++) {
      const v = ((((rows[r0 + x] >> 4) * b0) >> 16) + (((rows[r1 + x] >> 4) * b1) >> 16) + 2) >> 2
      out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v
    }
  }
}

/**
 * `cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)` of an interleaved RGB `uint8` image:
 * `(9798 R + 19235 G + 3735 B + 2^14) >> 15`.
 *
 * @since 0.3.0
 * @category kernels
 */
export const greyFromRgb = (rgb: Uint8Array, out: Uint8Array): void => {
  for (let p = 0, i = 0; p < out.length; p++, i += 3) {
    out[p] = (rgb[i] * 9798 + rgb[i + 1] * 19235 + rgb[i + 2] * 3735 + 16384) >> 15
  }
}

/** The index OpenCV's `BORDER_REFLECT_101` reads for `i` on an axis of `n` samples. */
const reflect101 = (i: number, n: number): number => {
  if (n === 1) return 0
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i
  return i
}

/**
 * `cv2.GaussianBlur(grey, (5, 5), 0)` of a `uint8` plane: the kernel `[1 4 6 4 1] / 16` both ways
 * (sigma 0 at size 5), edges reflected without repeating the border (`BORDER_REFLECT_101`), the
 * sum rounded half up (OpenCV's bit-exact fixed point).
 *
 * @since 0.3.0
 * @category kernels
 */
export const gaussianBlur5 = (src: Uint8Array, width: number, height: number, out: Uint8Array): void => {
  const across = new Int32Array(width * height)
  const xs = Array.from({ length: width + 4 }, (_, i) => reflect101(i - 2, width))
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      const i = row + x
      across[i] = x >= 2 && x + 2 < width
        ? src[i - 2] + 4 * src[i - 1] + 6 * src[i] + 4 * src[i + 1] + src[i + 2]
        : src[row + xs[x]] + 4 * src[row + xs[x + 1]] + 6 * src[i] + 4 * src[row + xs[x + 3]] + src[row + xs[x + 4]]
    }
  }
  for (let y = 0; y < height; y++) {
    const r0 = reflect101(y - 2, height) * width, r1 = reflect101(y - 1, height) * width, r2 = y * width
    const r3 = reflect101(y + 1, height) * width, r4 = reflect101(y + 2, height) * width
    for (let x = 0; x < width; x++) {
      const sum = across[r0 + x] + 4 * across[r1 + x] + 6 * across[r2 + x] + 4 * across[r3 + x] + across[r4 + x]
      out[r2 + x] = (sum + 128) >> 8
    }
  }
}

const max2 = (a: number, b: number): number => (a > b ? a : b)

/**
 * `cv2.dilate` by a 5x5 square: the maximum of each 5x5 window over the pixels inside the frame
 * (OpenCV's default morphology border never wins, and a window cut by the edge is the same as one
 * that repeats the edge pixel). Across the rows into `scratch`, then down the columns into `out`.
 */
const dilate5 = (src: Uint8Array, width: number, height: number, out: Uint8Array, scratch: Uint8Array): void => {
  const last = width - 1
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      if (x >= 2 && x + 2 <= last) {
        const i = row + x
        scratch[i] = max2(max2(max2(src[i - 2], src[i - 1]), max2(src[i], src[i + 1])), src[i + 2])
      } else {
        const a = src[row + (x < 2 ? 0 : x - 2)], b = src[row + (x < 1 ? 0 : x - 1)]
        const c = src[row + (x + 1 > last ? last : x + 1)], d = src[row + (x + 2 > last ? last : x + 2)]
        scratch[row + x] = max2(max2(max2(a, b), max2(src[row + x], c)), d)
      }
    }
  }
  const bottom = height - 1
  for (let y = 0; y < height; y++) {
    const r0 = (y < 2 ? 0 : y - 2) * width, r1 = (y < 1 ? 0 : y - 1) * width, r2 = y * width
    const r3 = (y + 1 > bottom ? bottom : y + 1) * width, r4 = (y + 2 > bottom ? bottom : y + 2) * width
    for (let x = 0; x < width; x++) {
      out[r2 + x] = max2(max2(max2(scratch[r0 + x], scratch[r1 + x]), max2(scratch[r2 + x], scratch[r3 + x])), scratch[r4 + x])
    }
  }
}

/** `255 - v` of every pixel, in place: erosion is the dilation of the inverted plane, inverted. */
const invert = (plane: Uint8Array): void => {
  for (let i = 0; i < plane.length; i++) plane[i] = 255 - plane[i]
}

/**
 * `cv2.morphologyEx(mask, cv2.MORPH_OPEN, ones(5, 5))` then `MORPH_CLOSE` with the same kernel,
 * in place: erode, dilate, dilate, erode.
 *
 * @since 0.3.0
 * @category kernels
 */
export const openThenClose5 = (mask: Uint8Array, width: number, height: number): void => {
  const other = new Uint8Array(mask.length)
  const scratch = new Uint8Array(mask.length)
  invert(mask)
  dilate5(mask, width, height, other, scratch) // the erosion, inverted
  invert(other)
  dilate5(other, width, height, mask, scratch)
  dilate5(mask, width, height, other, scratch)
  invert(other)
  dilate5(other, width, height, mask, scratch) // the erosion, inverted
  invert(mask)
}
