import { assert, describe, it } from "@effect/vitest"
import { VideoTensor } from "@vidpool/pool"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as Kernels from "../src/internal/Kernels.ts"
import { Psnr, Sharpness, Ssim, Temporal } from "../src/index.ts"
import { convert, tensor } from "./support/tensors.ts"

// Frames with flat areas, ramps and noise, in sizes that are and are not multiples of 16 bytes
// (the kernels' vector width), from 3x3 up, in every channel count the kernels read.
let seed = 11
const noise = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24
const shapes = [[3, 3, 3, 1], [4, 5, 7, 3], [3, 16, 16, 3], [5, 24, 37, 3], [2, 33, 41, 1], [3, 20, 22, 4]] as const
const pairs = (): ReadonlyArray<readonly [VideoTensor, VideoTensor]> =>
  shapes.map((shape) => {
    const a = tensor(shape, (i) => (i % 19 < 7 ? 250 : (i * 13) % 256))
    const b = tensor(shape, (i) => (i % 23 < 5 ? 0 : noise()))
    return [a, b] as const
  })
const forms = [{}, { layout: "TCHW" }, { dtype: "float32" }, { dtype: "float32", layout: "TCHW" }] as const
const name = (t: VideoTensor) => `${t.shape.join("x")} ${t.dtype} ${t.layout}`

const same = (got: Float64Array, want: Float64Array, tolerance: number, what: string) => {
  assert.strictEqual(got.length, want.length, what)
  got.forEach((v, i) => {
    if (tolerance === 0) assert.strictEqual(v, want[i], `${what} frame ${i}`)
    else assert.approximately(v, want[i], tolerance * Math.max(1, Math.abs(want[i])), `${what} frame ${i}`)
  })
}

describe("the WebAssembly kernels", () => {
  it("load from the compiled package too (dist/internal/), not only from src/", () => {
    // In a fresh process, so that this thread's loaded module cannot answer for it.
    const compiled = new URL("../dist/internal/Kernels.js", import.meta.url).href
    const answer = (code: string) => execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" }).trim()
    assert.strictEqual(answer(`const k = await import(${JSON.stringify(compiled)}); console.log(k.kernels)`), "wasm")
  })

  it("are the ones this thread runs (the build compiles dist/kernels.wasm)", () => {
    // The module loaded is the build's: the same exports as dist/kernels.wasm compiled here.
    const file = readFileSync(new URL("../dist/kernels.wasm", import.meta.url))
    const WA = (globalThis as unknown as { readonly WebAssembly: { readonly Module: { new(bytes: Uint8Array): object; exports(module: object): Array<{ name: string }> } } }).WebAssembly
    const built = WA.Module.exports(new WA.Module(file)).map((e) => e.name).sort()
    const kernels = Kernels.wasm
    assert.isDefined(kernels)
    assert.deepStrictEqual(Object.keys(kernels!).sort(), built)
    assert.strictEqual(Ssim.kernel, "wasm")
    // And the metrics run in it: scoring a frame pair leaves both frames in the module's memory,
    // where the kernel read them (cleared first), and gives the mean squared difference worked out here.
    const a = tensor([1, 13, 17, 3], (i) => (i * 7 + 5) % 256)
    const b = tensor([1, 13, 17, 3], (i) => (i * 11 + 1) % 256)
    let squares = 0
    for (let i = 0; i < a.data.length; i++) squares += (a.data[i] - b.data[i]) ** 2
    const bytes = a.data.length
    const base = kernels!.base()
    new Uint8Array(kernels!.memory.buffer).fill(0, base, base + 2 * Kernels.align(bytes))
    assert.deepStrictEqual([...Psnr.mseFrames(a, b)], [squares / a.data.length])
    const memory = new Uint8Array(kernels!.memory.buffer)
    assert.deepStrictEqual(memory.slice(base, base + bytes), new Uint8Array(a.data))
    assert.deepStrictEqual(memory.slice(base + Kernels.align(bytes), base + Kernels.align(bytes) + bytes), new Uint8Array(b.data))
  })

  it("MSE: the JavaScript kernel's values, exactly for uint8, within 1e-12 for float32", () => {
    for (const [a0, b0] of pairs()) {
      for (const form of forms) {
        const a = convert(a0, form)
        const b = convert(b0, form)
        same(Psnr.mseFrames(a, b), Psnr.mseFramesJs(a, b), a.dtype === "uint8" ? 0 : 1e-12, name(a))
      }
      // Another tensor's dtype on one side goes through the JavaScript kernel's mixed path.
      same(Psnr.mseFrames(a0, convert(b0, { dtype: "float32" })), Psnr.mseFramesJs(a0, convert(b0, { dtype: "float32" })), 1e-12, "mixed")
    }
  })

  it("MSE of large differences over a big frame stays exact (the 32-bit lanes are emptied in time)", () => {
    // 0 against 255 everywhere: every squared difference is the largest there is.
    const a = tensor([2, 720, 1280, 3], () => 0)
    const b = tensor([2, 720, 1280, 3], () => 255)
    for (const v of Psnr.mseFrames(a, b)) assert.strictEqual(v, 255 * 255)
    const d = Temporal.frameDifferences(tensor([3, 720, 1280, 3], (i) => (Math.floor(i / (720 * 1280 * 3)) % 2 ? 255 : 0)))
    for (const v of d) assert.strictEqual(v, 255)
  })

  it("frame differences: the JavaScript kernel's values, exactly for uint8, within 1e-12 for float32", () => {
    for (const [a0] of pairs()) {
      for (const form of forms) {
        const a = convert(a0, form)
        same(Temporal.frameDifferences(a), Temporal.frameDifferencesJs(a), a.dtype === "uint8" ? 0 : 1e-12, name(a))
      }
    }
    assert.strictEqual(Temporal.frameDifferences(tensor([1, 8, 8, 3], () => 9)).length, 0)
  })

  it("sharpness: the JavaScript kernel's values within 1e-12 (relative), luma as lumaFrame makes it", () => {
    for (const [, b0] of pairs()) {
      for (const form of forms) {
        const b = convert(b0, form)
        same(Sharpness.sharpnessFrames(b), Sharpness.sharpnessFramesJs(b), 1e-12, name(b))
      }
    }
    // A flat frame has no Laplacian at all; a grey checkerboard's is +-4 x 255 (half of each, mean 0).
    for (const v of Sharpness.sharpnessFrames(tensor([2, 9, 9, 3], () => 77))) assert.strictEqual(v, 0)
    const board = tensor([1, 10, 12, 1], (i) => ((Math.floor(i / 12) + (i % 12)) % 2 ? 255 : 0))
    assert.approximately(Sharpness.sharpnessFrames(board)[0], 1020 * 1020, 1e-6)
  })

  it("SSIM reads every form with its luma made in the module: the JavaScript kernel's values within 1e-12", () => {
    for (const [a0, b0] of pairs()) {
      if (a0.shape[1] < 11 || a0.shape[2] < 11) continue
      for (const form of forms) {
        const a = convert(a0, form)
        const b = convert(b0, form)
        same(Ssim.ssimFrames(a, b), Ssim.ssimFramesJs(a, b), 1e-12, name(a))
      }
    }
  })

  it("read a tensor whose data starts inside a larger buffer (pooled buffers do), and SSIM of mixed dtypes", () => {
    const [a0, b0] = pairs()[3]
    const offset = (t: VideoTensor, at: number) => {
      const data = t.dtype === "uint8" ? new Uint8Array(t.data.length + at + 5) : new Float32Array(t.data.length + at + 5)
      data.fill(201)
      const view = data.subarray(at, at + t.data.length)
      view.set(t.data)
      return VideoTensor.makeUnsafe({ data: view, shape: t.shape, layout: t.layout, dtype: t.dtype, fps: 25, source: { path: "memory" } })
    }
    for (const form of forms) {
      const a = offset(convert(a0, form), 37)
      const b = offset(convert(b0, form), 3)
      assert.notStrictEqual(a.data.byteOffset, 0)
      const tolerance = a.dtype === "uint8" ? 0 : 1e-12
      same(Psnr.mseFrames(a, b), Psnr.mseFramesJs(convert(a0, form), convert(b0, form)), tolerance, `mse ${name(a)}`)
      same(Temporal.frameDifferences(a), Temporal.frameDifferencesJs(convert(a0, form)), tolerance, `differences ${name(a)}`)
      same(Sharpness.sharpnessFrames(b), Sharpness.sharpnessFramesJs(convert(b0, form)), 1e-12, `sharpness ${name(b)}`)
      same(Ssim.ssimFrames(a, b), Ssim.ssimFramesJs(convert(a0, form), convert(b0, form)), 1e-12, `ssim ${name(a)}`)
    }
    const mixed = convert(b0, { dtype: "float32" })
    same(Ssim.ssimFrames(a0, mixed), Ssim.ssimFramesJs(a0, mixed), 1e-12, "ssim uint8 against float32")
  })

  it("hand a block over the kernels' limit (1 GiB) back to the JavaScript kernels instead of growing to it", () => {
    const kernels = Kernels.wasm!
    const before = kernels.memory.buffer.byteLength
    assert.strictEqual(Kernels.reserve(kernels, 2 ** 31), undefined)
    assert.strictEqual(Kernels.reserve(kernels, Number.NaN), undefined)
    assert.strictEqual(kernels.memory.buffer.byteLength, before)
    assert.strictEqual(Kernels.reserve(kernels, 1024), kernels.base())
  })

  it("VIDPOOL_KERNELS=js runs the JavaScript kernels, with the same scores", () => {
    const dist = new URL("../dist/index.js", import.meta.url).href
    const script = `import { VideoTensor } from "@vidpool/pool"
      import { Psnr, Sharpness, Ssim, Temporal } from ${JSON.stringify(dist)}
      const data = new Uint8Array(3 * 16 * 20 * 3).map((_, i) => (i * 37) % 251)
      const other = data.map((v, i) => (v + i % 7) % 256)
      const t = (d) => VideoTensor.makeUnsafe({ data: d, shape: [3, 16, 20, 3], layout: "THWC", dtype: "uint8", fps: 25, source: { path: "x" } })
      console.log(JSON.stringify([Ssim.kernel, [...Psnr.mseFrames(t(data), t(other))], [...Temporal.frameDifferences(t(data))],
        [...Sharpness.sharpnessFrames(t(data))], [...Ssim.ssimFrames(t(data), t(other))]]))`
    const run = (env: Record<string, string>) =>
      JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        cwd: new URL("..", import.meta.url),
        env: { ...process.env, ...env }
      })) as [string, Array<number>, Array<number>, Array<number>, Array<number>]
    const js = run({ VIDPOOL_KERNELS: "js" })
    const wasm = run({ VIDPOOL_KERNELS: "" })
    assert.strictEqual(js[0], "js")
    assert.strictEqual(wasm[0], "wasm")
    assert.deepStrictEqual(wasm[1], js[1])
    assert.deepStrictEqual(wasm[2], js[2])
    for (const k of [3, 4] as const) wasm[k].forEach((v, i) => assert.approximately(v, js[k][i], 1e-9 * Math.max(1, Math.abs(js[k][i]))))
  })
})
