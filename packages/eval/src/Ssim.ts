/**
 * Structural similarity (Wang et al. 2004): Gaussian window 11x11 with sigma 1.5, K1 0.01,
 * K2 0.03, peak 255, over the positions where the whole window fits ("valid"), on luma.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import type { VideoTensor } from "@vidpool/pool"
import { geometry, lumaFrame } from "./Frames.ts"

/**
 * @since 0.1.0
 * @category constants
 */
export const WINDOW = 11
const RADIUS = (WINDOW - 1) / 2
const SIGMA = 1.5
const C1 = (0.01 * 255) ** 2
const C2 = (0.03 * 255) ** 2

const WEIGHTS: Float64Array = (() => {
  const w = new Float64Array(WINDOW)
  let sum = 0
  for (let i = 0; i < WINDOW; i++) {
    w[i] = Math.exp(-((i - RADIUS) ** 2) / (2 * SIGMA * SIGMA))
    sum += w[i]
  }
  for (let i = 0; i < WINDOW; i++) w[i] /= sum
  return w
})()

/**
 * Reusable buffers for planes of one size, so that scoring many frames allocates nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface SsimScratch {
  readonly width: number
  readonly height: number
  readonly x: Float64Array
  readonly y: Float64Array
  /** Horizontal pass of mu_x, mu_y, E[x^2], E[y^2], E[xy]: height x (width - 10) each. */
  readonly h: ReadonlyArray<Float64Array>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeScratch = (width: number, height: number): SsimScratch => {
  const outW = Math.max(0, width - WINDOW + 1)
  return {
    width,
    height,
    x: new Float64Array(width * height),
    y: new Float64Array(width * height),
    h: Array.from({ length: 5 }, () => new Float64Array(outW * height))
  }
}

/**
 * Mean SSIM of two planes already in `scratch.x` and `scratch.y` (0-255 scale). The planes must
 * be at least 11x11.
 *
 * @since 0.1.0
 * @category kernels
 */
export const ssimPlanes = (scratch: SsimScratch): number => {
  const { width, height, x, y } = scratch
  const [hx, hy, hxx, hyy, hxy] = scratch.h
  const outW = width - WINDOW + 1
  const outH = height - WINDOW + 1
  const w = WEIGHTS
  // Horizontal pass: five weighted sums per output column, every row.
  for (let r = 0; r < height; r++) {
    const row = r * width
    const orow = r * outW
    for (let c = 0; c < outW; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0
      for (let k = 0; k < WINDOW; k++) {
        const wk = w[k]
        const a = x[row + c + k]
        const b = y[row + c + k]
        const wa = wk * a
        const wb = wk * b
        sx += wa
        sy += wb
        sxx += wa * a
        syy += wb * b
        sxy += wa * b
      }
      const o = orow + c
      hx[o] = sx
      hy[o] = sy
      hxx[o] = sxx
      hyy[o] = syy
      hxy[o] = sxy
    }
  }
  // Vertical pass, folding each window's SSIM into the running sum.
  let total = 0
  for (let r = 0; r < outH; r++) {
    for (let c = 0; c < outW; c++) {
      let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0
      for (let k = 0, o = r * outW + c; k < WINDOW; k++, o += outW) {
        const wk = w[k]
        mx += wk * hx[o]
        my += wk * hy[o]
        exx += wk * hxx[o]
        eyy += wk * hyy[o]
        exy += wk * hxy[o]
      }
      const mxx = mx * mx
      const myy = my * my
      const mxy = mx * my
      const vx = exx - mxx
      const vy = eyy - myy
      const cxy = exy - mxy
      total += ((2 * mxy + C1) * (2 * cxy + C2)) / ((mxx + myy + C1) * (vx + vy + C2))
    }
  }
  return total / (outW * outH)
}

/**
 * Buffers for `ssimRows`: the horizontal pass of the five signals over every row, a product row,
 * and five accumulator rows.
 *
 * @since 0.2.0
 * @category models
 */
export interface RowScratch extends SsimScratch {
  /** x^2, y^2 and xy of one input row. */
  readonly products: ReadonlyArray<Float64Array>
  /** The vertical pass of one output row, per signal. */
  readonly acc: ReadonlyArray<Float64Array>
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const makeRowScratch = (width: number, height: number): RowScratch => ({
  ...makeScratch(width, height),
  products: Array.from({ length: 3 }, () => new Float64Array(width)),
  acc: Array.from({ length: 5 }, () => new Float64Array(Math.max(0, width - WINDOW + 1)))
})

// The window's weights are symmetric: w[k] = w[10 - k]; W5 is the centre.
const W0 = WEIGHTS[0], W1 = WEIGHTS[1], W2 = WEIGHTS[2], W3 = WEIGHTS[3], W4 = WEIGHTS[4], W5 = WEIGHTS[5]

/** One row of `src` (from `at`) blurred horizontally into `dst` (from `to`), `n` outputs. */
const blurRow = (src: Float64Array, at: number, dst: Float64Array, to: number, n: number): void => {
  for (let c = 0, i = at, o = to; c < n; c++, i++, o++) {
    dst[o] = W5 * src[i + 5] +
      W0 * (src[i] + src[i + 10]) +
      W1 * (src[i + 1] + src[i + 9]) +
      W2 * (src[i + 2] + src[i + 8]) +
      W3 * (src[i + 3] + src[i + 7]) +
      W4 * (src[i + 4] + src[i + 6])
  }
}

/** `acc` = the vertical blur of plane `h` (rows of `n`) at output row `first`. */
const blurColumn = (h: Float64Array, first: number, n: number, acc: Float64Array): void => {
  const r0 = first * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n, r4 = r3 + n, r5 = r4 + n
  const r6 = r5 + n, r7 = r6 + n, r8 = r7 + n, r9 = r8 + n, r10 = r9 + n
  for (let c = 0; c < n; c++) {
    acc[c] = W5 * h[r5 + c] +
      W0 * (h[r0 + c] + h[r10 + c]) +
      W1 * (h[r1 + c] + h[r9 + c]) +
      W2 * (h[r2 + c] + h[r8 + c]) +
      W3 * (h[r3 + c] + h[r7 + c]) +
      W4 * (h[r4 + c] + h[r6 + c])
  }
}

/** The sum of the SSIM terms of one output row from its five blurred signals. */
const rowSsim = (
  ax: Float64Array,
  ay: Float64Array,
  axx: Float64Array,
  ayy: Float64Array,
  axy: Float64Array,
  n: number
): number => {
  let sum = 0
  for (let c = 0; c < n; c++) {
    const mx = ax[c]
    const my = ay[c]
    const mxx = mx * mx
    const myy = my * my
    const mxy = mx * my
    sum += ((2 * mxy + C1) * (2 * (axy[c] - mxy) + C2)) / ((mxx + myy + C1) * (axx[c] - mxx + ayy[c] - myy + C2))
  }
  return sum
}

/**
 * The same mean SSIM as `ssimPlanes`, restructured for speed: the products x^2, y^2 and xy are
 * made once per pixel, both passes use the window's symmetry (six multiplications per output
 * instead of eleven), and the vertical pass runs along rows (contiguous memory) instead of
 * down columns. Every sum stays in float64, so it agrees with `ssimPlanes` to rounding.
 *
 * @since 0.2.0
 * @category kernels
 */
export const ssimRows = (scratch: RowScratch): number => {
  const { height, width, x, y } = scratch
  const [hx, hy, hxx, hyy, hxy] = scratch.h
  const [pxx, pyy, pxy] = scratch.products
  const [ax, ay, axx, ayy, axy] = scratch.acc
  const outW = width - WINDOW + 1
  const outH = height - WINDOW + 1
  for (let r = 0; r < height; r++) {
    const row = r * width
    for (let c = 0; c < width; c++) {
      const a = x[row + c]
      const b = y[row + c]
      pxx[c] = a * a
      pyy[c] = b * b
      pxy[c] = a * b
    }
    const o = r * outW
    blurRow(x, row, hx, o, outW)
    blurRow(y, row, hy, o, outW)
    blurRow(pxx, 0, hxx, o, outW)
    blurRow(pyy, 0, hyy, o, outW)
    blurRow(pxy, 0, hxy, o, outW)
  }
  let total = 0
  for (let r = 0; r < outH; r++) {
    blurColumn(hx, r, outW, ax)
    blurColumn(hy, r, outW, ay)
    blurColumn(hxx, r, outW, axx)
    blurColumn(hyy, r, outW, ayy)
    blurColumn(hxy, r, outW, axy)
    total += rowSsim(ax, ay, axx, ayy, axy, outW)
  }
  return total / (outW * outH)
}

/** Per-frame SSIM with `kernel` over the scratch `make` gives. */
const perFrame = <S extends { readonly x: Float64Array; readonly y: Float64Array }>(make: (width: number, height: number) => S, kernel: (scratch: S) => number) =>
(a: VideoTensor, b: VideoTensor): Float64Array => {
  const { frames, width, height } = geometry(a)
  const scratch = make(width, height)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    lumaFrame(a, f, scratch.x)
    lumaFrame(b, f, scratch.y)
    out[f] = kernel(scratch)
  }
  return out
}

/**
 * Per-frame SSIM with the JavaScript kernel (`ssimPlanes`): what `common.ssim` computes where the
 * WebAssembly kernel does not load, and the baseline the benchmark measures it against.
 *
 * @since 0.2.0
 * @category kernels
 */
export const ssimFramesJs: (a: VideoTensor, b: VideoTensor) => Float64Array = perFrame(makeScratch, ssimPlanes)

/**
 * The same with the restructured JavaScript kernel (`ssimRows`), measured by the benchmark.
 *
 * @since 0.2.0
 * @category kernels
 */
export const ssimFramesRows: (a: VideoTensor, b: VideoTensor) => Float64Array = perFrame(makeRowScratch, ssimRows)

interface WasmKernel {
  readonly memory: { readonly buffer: ArrayBuffer; readonly grow: (pages: number) => number }
  readonly base: () => number
  readonly bytes: (width: number, height: number) => number
  readonly ssim: (width: number, height: number) => number
}

/**
 * The kernel of `ssimRows` compiled to WebAssembly with SIMD (assembly/ssim.ts, built into
 * dist/ssim.wasm): loaded once per thread, from this package's dist folder; `undefined` where it
 * is not built, the runtime has no WebAssembly SIMD, or `VIDPOOL_SSIM_KERNEL=js` (read when the
 * module loads: metric worker threads inherit it) asks for the JavaScript kernel.
 */
const wasm: WasmKernel | undefined = (() => {
  if (process.env.VIDPOOL_SSIM_KERNEL === "js") return undefined
  // WebAssembly is in Node 20, not in this project's TypeScript lib.
  const WA = (globalThis as unknown as {
    readonly WebAssembly?: {
      readonly Module: new(bytes: Uint8Array) => object
      readonly Instance: new(module: object, imports: object) => { readonly exports: object }
    }
  }).WebAssembly
  if (WA === undefined) return undefined
  try {
    const bytes = NodeFs.readFileSync(new URL("../dist/ssim.wasm", import.meta.url))
    const instance = new WA.Instance(new WA.Module(bytes), {
      env: { abort: () => { throw new Error("the SSIM kernel aborted") } }
    })
    return instance.exports as unknown as WasmKernel
  } catch {
    return undefined
  }
})()

/**
 * Which kernel `ssimFrames` runs in this thread.
 *
 * @since 0.2.0
 * @category kernels
 */
export const kernel: "wasm" | "js" = wasm === undefined ? "js" : "wasm"

const ssimFramesWasm = (kernel: WasmKernel) => (a: VideoTensor, b: VideoTensor): Float64Array => {
  const { frames, width, height } = geometry(a)
  const need = kernel.base() + kernel.bytes(width, height)
  const have = kernel.memory.buffer.byteLength
  if (have < need) kernel.memory.grow(Math.ceil((need - have) / 65536))
  // The luma planes are written straight into the kernel's memory.
  const x = new Float64Array(kernel.memory.buffer, kernel.base(), width * height)
  const y = new Float64Array(kernel.memory.buffer, kernel.base() + width * height * 8, width * height)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    lumaFrame(a, f, x)
    lumaFrame(b, f, y)
    out[f] = kernel.ssim(width, height)
  }
  return out
}

/**
 * Per-frame SSIM of the luma of two videos of the same geometry (frames at least 11x11): what
 * `common.ssim` computes, with the WebAssembly kernel where it loads (the same values as
 * `ssimFramesJs` to rounding), else the JavaScript one.
 *
 * @since 0.1.0
 * @category kernels
 */
export const ssimFrames: (a: VideoTensor, b: VideoTensor) => Float64Array = wasm === undefined ? ssimFramesJs : ssimFramesWasm(wasm)
