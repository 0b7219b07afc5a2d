/**
 * Structural similarity (Wang et al. 2004): Gaussian window 11x11 with sigma 1.5, K1 0.01,
 * K2 0.03, peak 255, over the positions where the whole window fits ("valid"), on luma.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry, lumaFrame } from "./Frames.ts"
import * as Kernels from "./internal/Kernels.ts"

/**
 * @since 0.1.0
 * @category constants
 */
export const WINDOW = 11
/**
 * The window's half width.
 *
 * @since 0.3.0
 * @category constants
 */
export const RADIUS = (WINDOW - 1) / 2
const SIGMA = 1.5
const C1 = (0.01 * 255) ** 2
const C2 = (0.03 * 255) ** 2

/**
 * The 1-D Gaussian of the window (sigma 1.5), normalised; the 2-D window is its outer product
 * with itself. Shared with `SsimRgb`.
 *
 * @since 0.3.0
 * @category constants
 */
export const WEIGHTS: Float64Array = (() => {
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
 * Which kernel `ssimFrames` runs in this thread (`Kernels.kernels`).
 *
 * @since 0.2.0
 * @category kernels
 */
export const kernel: "wasm" | "js" = Kernels.kernels

/**
 * SSIM with the WebAssembly kernel (assembly/ssim.ts: products once per pixel, the window's
 * symmetry, the vertical pass along rows, two columns at a time, float64 sums). Each frame pair is
 * copied into the module's memory after the kernel's planes, and its luma written into them there.
 */
const ssimFramesWasm = (kernels: Kernels.Exports) => (a: VideoTensor, b: VideoTensor): Float64Array => {
  const ga = geometry(a)
  const gb = geometry(b)
  const { frames, width, height } = ga
  // The kernel's planes: 8 bytes x (2 planes + 5 horizontal planes + 8 rows), counted here in
  // float64 (the module's own `bytes` is 32-bit).
  const outW = width - WINDOW + 1
  const planes = Kernels.align(8 * (2 * width * height + 5 * outW * height + 3 * width + 5 * outW))
  const bytesA = Kernels.frameBytes(a, ga)
  const bytesB = Kernels.frameBytes(b, gb)
  const base = Kernels.reserve(kernels, planes + Kernels.align(bytesA) + Kernels.align(bytesB))
  if (base === undefined) return ssimFramesJs(a, b)
  const x = base
  const y = base + width * height * 8
  const frameA = base + planes
  const frameB = frameA + Kernels.align(bytesA)
  const out = new Float64Array(frames)
  for (let f = 0; f < frames; f++) {
    Kernels.copyFrame(kernels, a, f, bytesA, frameA)
    Kernels.copyFrame(kernels, b, f, bytesB, frameB)
    Kernels.lumaAt(kernels, a, ga, frameA, x)
    Kernels.lumaAt(kernels, b, gb, frameB, y)
    out[f] = kernels.ssim(width, height)
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
export const ssimFrames: (a: VideoTensor, b: VideoTensor) => Float64Array = Kernels.wasm === undefined ? ssimFramesJs : ssimFramesWasm(Kernels.wasm)
