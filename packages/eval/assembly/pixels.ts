// The pixel kernels in AssemblyScript, compiled with the SSIM kernel into dist/kernels.wasm (SIMD):
// sums of squared and absolute differences of two frames, luma planes, and the variance of a
// Laplacian. Every function works on bytes the caller has copied into the module's memory at the
// addresses it passes; nothing here allocates.
//
// uint8 sums are exact: 32-bit lanes are emptied into a 64-bit total before they can overflow,
// so the result is the same integer the JavaScript kernels reach. float32 sums run two lanes in
// float64 (the same products, summed in another order: equal to rounding).

// @ts-ignore: decorator
@inline
function ld(p: usize): v128 {
  return v128.load(p)
}

/** Sums the four 32-bit lanes of `v` into a 64-bit integer. */
// @ts-ignore: decorator
@inline
function lanes(v: v128): i64 {
  return <i64>i32x4.extract_lane(v, 0) + <i64>i32x4.extract_lane(v, 1) +
    <i64>i32x4.extract_lane(v, 2) + <i64>i32x4.extract_lane(v, 3)
}

/**
 * Sum over `n` bytes of (a[i] - b[i])² when `square`, else of |a[i] - b[i]|. Inlined with a
 * constant `square`, so each exported kernel keeps one branch-free loop.
 */
// @ts-ignore: decorator
@inline
function sumU8(a: usize, b: usize, n: i32, square: bool): f64 {
  let total: i64 = 0
  let i = 0
  while (i + 16 <= n) {
    // Each step adds at most 2 x 2 x 255² = 260100 to a lane (squares; 4 x 255 otherwise):
    // 4096 steps stay under 2^31.
    const stop = n - i > 16 * 4096 ? i + 16 * 4096 : n
    let acc = i32x4.splat(0)
    for (; i + 16 <= stop; i += 16) {
      const x = ld(a + <usize>i), y = ld(b + <usize>i)
      if (square) {
        const lo = i16x8.sub(i16x8.extend_low_i8x16_u(x), i16x8.extend_low_i8x16_u(y))
        const hi = i16x8.sub(i16x8.extend_high_i8x16_u(x), i16x8.extend_high_i8x16_u(y))
        acc = i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi)))
      } else {
        const d = i8x16.sub(i8x16.max_u(x, y), i8x16.min_u(x, y))
        acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(d)))
      }
    }
    total += lanes(acc)
  }
  for (; i < n; i++) {
    const d = <i32>load<u8>(a + <usize>i) - <i32>load<u8>(b + <usize>i)
    total += <i64>(square ? d * d : d < 0 ? -d : d)
  }
  return <f64>total
}

/** Sum over `n` bytes of (a[i] - b[i])². */
export function sqdiffU8(a: usize, b: usize, n: i32): f64 {
  return sumU8(a, b, n, true)
}

/** Sum over `n` float32 values of (a[i] x sa - b[i] x sb)², in float64. */
export function sqdiffF32(a: usize, b: usize, n: i32, sa: f64, sb: f64): f64 {
  const va = f64x2.splat(sa), vb = f64x2.splat(sb)
  let acc = f64x2.splat(0)
  let i = 0
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 2
    const x = f64x2.promote_low_f32x4(v128.load64_zero(a + o))
    const y = f64x2.promote_low_f32x4(v128.load64_zero(b + o))
    const d = f64x2.sub(f64x2.mul(x, va), f64x2.mul(y, vb))
    acc = f64x2.add(acc, f64x2.mul(d, d))
  }
  let total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1)
  for (; i < n; i++) {
    const o = <usize>i << 2
    const d = <f64>load<f32>(a + o) * sa - <f64>load<f32>(b + o) * sb
    total += d * d
  }
  return total
}

/** Sum over `n` bytes of |a[i] - b[i]|. */
export function absdiffU8(a: usize, b: usize, n: i32): f64 {
  return sumU8(a, b, n, false)
}

/** Sum over `n` float32 values of |a[i] - b[i]|, in float64. */
export function absdiffF32(a: usize, b: usize, n: i32): f64 {
  let acc = f64x2.splat(0)
  let i = 0
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 2
    const x = f64x2.promote_low_f32x4(v128.load64_zero(a + o))
    const y = f64x2.promote_low_f32x4(v128.load64_zero(b + o))
    acc = f64x2.add(acc, f64x2.abs(f64x2.sub(y, x)))
  }
  let total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1)
  for (; i < n; i++) {
    const o = <usize>i << 2
    total += Math.abs(<f64>load<f32>(b + o) - <f64>load<f32>(a + o))
  }
  return total
}

/**
 * Writes the luma of one frame of `pixels` pixels at `src` (uint8, or float32 when `f32` is 1)
 * to the float64 plane at `dst`: `kr R + kg G + kb B` (the weights already carry the 0-255 scale)
 * for 3 or more channels, `kr` times the first channel otherwise. `planar` is 1 for TCHW frames.
 */
export function luma(src: usize, dst: usize, pixels: i32, channels: i32, planar: i32, f32: i32, kr: f64, kg: f64, kb: f64): void {
  // Where the next pixel's channels sit, and how far apart a pixel's channels are.
  const size: usize = f32 ? 4 : 1
  const step = planar ? size : size * <usize>channels
  const gap = planar ? size * <usize>pixels : size
  for (let p = 0, i = src, o = dst; p < pixels; p++, i += step, o += 8) {
    const r = f32 ? <f64>load<f32>(i) : <f64>load<u8>(i)
    if (channels < 3) {
      store<f64>(o, r * kr)
    } else {
      const g = f32 ? <f64>load<f32>(i + gap) : <f64>load<u8>(i + gap)
      const b = f32 ? <f64>load<f32>(i + 2 * gap) : <f64>load<u8>(i + 2 * gap)
      store<f64>(o, kr * r + kg * g + kb * b)
    }
  }
}

/**
 * Variance of the 4-neighbour Laplacian (`[0 1 0; 1 -4 1; 0 1 0]`) of the float64 plane at
 * `plane`, over its interior pixels (at least 3x3).
 */
export function laplacianVariance(plane: usize, width: i32, height: i32): f64 {
  const row = <usize>width << 3
  const four = f64x2.splat(4)
  let s = f64x2.splat(0), q = f64x2.splat(0)
  let sum: f64 = 0, sumSq: f64 = 0
  for (let r = 1; r < height - 1; r++) {
    const base = plane + <usize>r * row
    let c = 1
    for (; c + 2 <= width - 1; c += 2) {
      const i = base + (<usize>c << 3)
      // The JavaScript kernel's order of additions: ((up + down) + left) + right - 4 x centre.
      const l = f64x2.sub(
        f64x2.add(f64x2.add(f64x2.add(ld(i - row), ld(i + row)), ld(i - 8)), ld(i + 8)),
        f64x2.mul(four, ld(i))
      )
      s = f64x2.add(s, l)
      q = f64x2.add(q, f64x2.mul(l, l))
    }
    for (; c < width - 1; c++) {
      const i = base + (<usize>c << 3)
      const l = load<f64>(i - row) + load<f64>(i + row) + load<f64>(i - 8) + load<f64>(i + 8) - 4 * load<f64>(i)
      sum += l
      sumSq += l * l
    }
  }
  sum += f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1)
  sumSq += f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1)
  const n = <f64>(width - 2) * <f64>(height - 2)
  const mean = sum / n
  return max(0, sumSq / n - mean * mean)
}
