/**
 * The metric kernels compiled to WebAssembly with SIMD (assembly/ssim.ts and assembly/pixels.ts,
 * built into dist/kernels.wasm): loaded once per thread, from this package's dist folder. Where the
 * module is not built, the runtime has no WebAssembly SIMD, or `VIDPOOL_KERNELS=js` asks for it
 * (read when the module loads: metric worker threads inherit it), every metric runs its JavaScript
 * kernel instead, with the same results.
 *
 * A tensor's frames are copied into the module's memory one or two at a time (a native copy, far
 * cheaper than the arithmetic); nothing converts a whole tensor.
 *
 * @since 0.2.0
 */
import * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import type { VideoTensor } from "@vidpool/pool"
import { type Geometry, LUMA } from "../Frames.ts"

/** The exports of dist/kernels.wasm (addresses are byte offsets into `memory`). */
export interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer; readonly grow: (pages: number) => number }
  /** Where the caller's data starts (16-byte aligned). */
  readonly base: () => number
  /** Bytes the SSIM kernel's planes take from `base()`. */
  readonly bytes: (width: number, height: number) => number
  readonly ssim: (width: number, height: number) => number
  readonly sqdiffU8: (a: number, b: number, n: number) => number
  readonly sqdiffF32: (a: number, b: number, n: number, sa: number, sb: number) => number
  readonly absdiffU8: (a: number, b: number, n: number) => number
  readonly absdiffF32: (a: number, b: number, n: number) => number
  readonly luma: (
    src: number,
    dst: number,
    pixels: number,
    channels: number,
    planar: number,
    f32: number,
    kr: number,
    kg: number,
    kb: number
  ) => void
  readonly laplacianVariance: (plane: number, width: number, height: number) => number
}

/**
 * The loaded module, or `undefined` where the JavaScript kernels run.
 *
 * @since 0.2.0
 * @category kernels
 */
export const wasm: Exports | undefined = (() => {
  if (process.env.VIDPOOL_KERNELS === "js") return undefined
  // WebAssembly is in Node 20, not in this project's TypeScript lib.
  const WA = (globalThis as unknown as {
    readonly WebAssembly?: {
      readonly Module: new(bytes: Uint8Array) => object
      readonly Instance: new(module: object, imports: object) => { readonly exports: object }
    }
  }).WebAssembly
  if (WA === undefined) return undefined
  try {
    // Beside eval's compiled code, found through the package (this module runs from src/, from
    // dist/ and inlined in bundles).
    const pkg = createRequire(import.meta.url).resolve("@vidpool/eval/package.json")
    const bytes = NodeFs.readFileSync(NodePath.join(NodePath.dirname(pkg), "dist", "kernels.wasm"))
    const instance = new WA.Instance(new WA.Module(bytes), {
      env: { abort: () => { throw new Error("a metric kernel aborted") } }
    })
    return instance.exports as unknown as Exports
  } catch {
    return undefined
  }
})()

/**
 * Which kernels the metrics run in this thread.
 *
 * @since 0.2.0
 * @category kernels
 */
export const kernels: "wasm" | "js" = wasm === undefined ? "js" : "wasm"

/** Rounds up to a multiple of 16 (the alignment of every block the kernels get). */
export const align = (bytes: number): number => Math.ceil(bytes / 16) * 16

/** Bytes one frame of a tensor with geometry `g` takes. */
export const frameBytes = (tensor: VideoTensor, g: Geometry): number => g.frameSize * tensor.data.BYTES_PER_ELEMENT

/**
 * The most the kernels take of the module's memory: a frame (or frame pair) that needs more is
 * scored by the JavaScript kernels (the module's addresses are 32-bit, and its sizes signed).
 */
const LIMIT = 2 ** 30

/**
 * Grows the module's memory to at least `bytes` past `base()`; returns `base()`, or `undefined`
 * when `bytes` is over the kernels' limit or the memory cannot grow (the caller then runs the
 * JavaScript kernel). Views of the memory must be made after this (growing detaches the old buffer).
 */
export const reserve = (kernels: Exports, bytes: number): number | undefined => {
  if (!(bytes >= 0 && bytes <= LIMIT)) return undefined
  const base = kernels.base()
  const have = kernels.memory.buffer.byteLength
  if (have >= base + bytes) return base
  try {
    kernels.memory.grow(Math.ceil((base + bytes - have) / 65536))
    return base
  } catch {
    return undefined
  }
}

/** Copies frame `frame` of `tensor` (`bytes` long) into the module's memory at `at`. */
export const copyFrame = (kernels: Exports, tensor: VideoTensor, frame: number, bytes: number, at: number): void => {
  const data = tensor.data
  new Uint8Array(kernels.memory.buffer, at, bytes).set(new Uint8Array(data.buffer, data.byteOffset + frame * bytes, bytes))
}

/**
 * Writes the luma of the frame at `src` (copied with `copyFrame`) to the float64 plane at `dst`:
 * the same values as `Frames.lumaFrame`.
 */
export const lumaAt = (kernels: Exports, tensor: VideoTensor, g: Geometry, src: number, dst: number): void => {
  const colour = g.channels >= 3
  kernels.luma(
    src,
    dst,
    g.height * g.width,
    g.channels,
    tensor.layout === "TCHW" ? 1 : 0,
    tensor.dtype === "float32" ? 1 : 0,
    colour ? LUMA.r * g.scale : g.scale,
    LUMA.g * g.scale,
    LUMA.b * g.scale
  )
}
