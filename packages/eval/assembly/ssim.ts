// The SSIM kernel in AssemblyScript (products once per pixel, the window's symmetry, the vertical pass along rows), compiled by the build (with
// pixels.ts) into dist/kernels.wasm with SIMD: two output columns at a time (f64x2), the same float64 arithmetic.
// Memory, from `base()`: x and y (width x height f64 each), five horizontal planes (height x
// outW), three product rows (width) and five accumulator rows (outW); the caller grows the memory.

const WINDOW: i32 = 11
const C1: f64 = 6.5025
const C2: f64 = 58.5225

let W0: f64 = 0, W1: f64 = 0, W2: f64 = 0, W3: f64 = 0, W4: f64 = 0, W5: f64 = 0

function weights(): void {
  const s = 1.5
  let w = new StaticArray<f64>(11)
  let sum: f64 = 0
  for (let i = 0; i < 11; i++) {
    const d = <f64>(i - 5)
    w[i] = Math.exp(-(d * d) / (2 * s * s))
    sum += w[i]
  }
  W0 = w[0] / sum; W1 = w[1] / sum; W2 = w[2] / sum; W3 = w[3] / sum; W4 = w[4] / sum; W5 = w[5] / sum
}
weights()

/** Where the caller's planes start (16-byte aligned). */
export function base(): usize {
  return (__heap_base + 15) & ~15
}

/** Bytes the planes of a width x height frame need, from `base()`. */
export function bytes(width: i32, height: i32): usize {
  const outW = width - WINDOW + 1
  return <usize>(8 * (2 * width * height + 5 * outW * height + 3 * width + 5 * outW))
}

// @ts-ignore: decorator
@inline
function ld(p: usize): v128 {
  return v128.load(p)
}

function blurRow(src: usize, dst: usize, n: i32): void {
  const w0 = f64x2.splat(W0), w1 = f64x2.splat(W1), w2 = f64x2.splat(W2)
  const w3 = f64x2.splat(W3), w4 = f64x2.splat(W4), w5 = f64x2.splat(W5)
  let c = 0
  for (; c + 2 <= n; c += 2) {
    const i = src + (<usize>c << 3)
    let v = f64x2.mul(w5, ld(i + 40))
    v = f64x2.add(v, f64x2.mul(w0, f64x2.add(ld(i), ld(i + 80))))
    v = f64x2.add(v, f64x2.mul(w1, f64x2.add(ld(i + 8), ld(i + 72))))
    v = f64x2.add(v, f64x2.mul(w2, f64x2.add(ld(i + 16), ld(i + 64))))
    v = f64x2.add(v, f64x2.mul(w3, f64x2.add(ld(i + 24), ld(i + 56))))
    v = f64x2.add(v, f64x2.mul(w4, f64x2.add(ld(i + 32), ld(i + 48))))
    v128.store(dst + (<usize>c << 3), v)
  }
  for (; c < n; c++) {
    const i = src + (<usize>c << 3)
    store<f64>(dst + (<usize>c << 3),
      W5 * load<f64>(i + 40) + W0 * (load<f64>(i) + load<f64>(i + 80)) + W1 * (load<f64>(i + 8) + load<f64>(i + 72)) +
      W2 * (load<f64>(i + 16) + load<f64>(i + 64)) + W3 * (load<f64>(i + 24) + load<f64>(i + 56)) +
      W4 * (load<f64>(i + 32) + load<f64>(i + 48)))
  }
}

function blurColumn(h: usize, r: i32, n: i32, acc: usize): void {
  const row = <usize>n << 3
  const r0 = h + <usize>r * row
  const w0 = f64x2.splat(W0), w1 = f64x2.splat(W1), w2 = f64x2.splat(W2)
  const w3 = f64x2.splat(W3), w4 = f64x2.splat(W4), w5 = f64x2.splat(W5)
  let c = 0
  for (; c + 2 <= n; c += 2) {
    const i = r0 + (<usize>c << 3)
    let v = f64x2.mul(w5, ld(i + 5 * row))
    v = f64x2.add(v, f64x2.mul(w0, f64x2.add(ld(i), ld(i + 10 * row))))
    v = f64x2.add(v, f64x2.mul(w1, f64x2.add(ld(i + row), ld(i + 9 * row))))
    v = f64x2.add(v, f64x2.mul(w2, f64x2.add(ld(i + 2 * row), ld(i + 8 * row))))
    v = f64x2.add(v, f64x2.mul(w3, f64x2.add(ld(i + 3 * row), ld(i + 7 * row))))
    v = f64x2.add(v, f64x2.mul(w4, f64x2.add(ld(i + 4 * row), ld(i + 6 * row))))
    v128.store(acc + (<usize>c << 3), v)
  }
  for (; c < n; c++) {
    const i = r0 + (<usize>c << 3)
    store<f64>(acc + (<usize>c << 3),
      W5 * load<f64>(i + 5 * row) + W0 * (load<f64>(i) + load<f64>(i + 10 * row)) +
      W1 * (load<f64>(i + row) + load<f64>(i + 9 * row)) + W2 * (load<f64>(i + 2 * row) + load<f64>(i + 8 * row)) +
      W3 * (load<f64>(i + 3 * row) + load<f64>(i + 7 * row)) + W4 * (load<f64>(i + 4 * row) + load<f64>(i + 6 * row)))
  }
}

function term(mx: f64, my: f64, exx: f64, eyy: f64, exy: f64): f64 {
  const mxx = mx * mx, myy = my * my, mxy = mx * my
  return ((2 * mxy + C1) * (2 * (exy - mxy) + C2)) / ((mxx + myy + C1) * (exx - mxx + eyy - myy + C2))
}

/** Mean SSIM of the planes x and y at `base()` (0-255 scale; at least 11x11). */
export function ssim(width: i32, height: i32): f64 {
  const outW = width - WINDOW + 1
  const outH = height - WINDOW + 1
  const plane = <usize>(width * height) << 3
  const hplane = <usize>(outW * height) << 3
  const x = base()
  const y = x + plane
  const hx = y + plane
  const hy = hx + hplane, hxx = hy + hplane, hyy = hxx + hplane, hxy = hyy + hplane
  const pxx = hxy + hplane
  const wrow = <usize>width << 3
  const pyy = pxx + wrow, pxy = pyy + wrow
  const orow = <usize>outW << 3
  const ax = pxy + wrow, ay = ax + orow, axx = ay + orow, ayy = axx + orow, axy = ayy + orow
  for (let r = 0; r < height; r++) {
    const xr = x + <usize>r * wrow
    const yr = y + <usize>r * wrow
    let c = 0
    for (; c + 2 <= width; c += 2) {
      const o = <usize>c << 3
      const a = ld(xr + o), b = ld(yr + o)
      v128.store(pxx + o, f64x2.mul(a, a))
      v128.store(pyy + o, f64x2.mul(b, b))
      v128.store(pxy + o, f64x2.mul(a, b))
    }
    for (; c < width; c++) {
      const o = <usize>c << 3
      const a = load<f64>(xr + o), b = load<f64>(yr + o)
      store<f64>(pxx + o, a * a)
      store<f64>(pyy + o, b * b)
      store<f64>(pxy + o, a * b)
    }
    const ho = <usize>r * orow
    blurRow(xr, hx + ho, outW)
    blurRow(yr, hy + ho, outW)
    blurRow(pxx, hxx + ho, outW)
    blurRow(pyy, hyy + ho, outW)
    blurRow(pxy, hxy + ho, outW)
  }
  const c1 = f64x2.splat(C1), c2 = f64x2.splat(C2), two = f64x2.splat(2)
  let total: f64 = 0
  for (let r = 0; r < outH; r++) {
    blurColumn(hx, r, outW, ax)
    blurColumn(hy, r, outW, ay)
    blurColumn(hxx, r, outW, axx)
    blurColumn(hyy, r, outW, ayy)
    blurColumn(hxy, r, outW, axy)
    let sum = f64x2.splat(0)
    let c = 0
    for (; c + 2 <= outW; c += 2) {
      const o = <usize>c << 3
      const mx = ld(ax + o), my = ld(ay + o)
      const mxx = f64x2.mul(mx, mx), myy = f64x2.mul(my, my), mxy = f64x2.mul(mx, my)
      const num = f64x2.mul(f64x2.add(f64x2.mul(two, mxy), c1), f64x2.add(f64x2.mul(two, f64x2.sub(ld(axy + o), mxy)), c2))
      const den = f64x2.mul(
        f64x2.add(f64x2.add(mxx, myy), c1),
        f64x2.add(f64x2.add(f64x2.sub(ld(axx + o), mxx), f64x2.sub(ld(ayy + o), myy)), c2)
      )
      sum = f64x2.add(sum, f64x2.div(num, den))
    }
    let row = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1)
    for (; c < outW; c++) {
      const o = <usize>c << 3
      row += term(load<f64>(ax + o), load<f64>(ay + o), load<f64>(axx + o), load<f64>(ayy + o), load<f64>(axy + o))
    }
    total += row
  }
  return total / <f64>(outW * outH)
}
