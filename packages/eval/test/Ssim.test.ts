import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { Ssim } from "../src/index.ts"
import { convert, fromFrames, tensor } from "./support/tensors.ts"

const C1 = (0.01 * 255) ** 2
const C2 = (0.03 * 255) ** 2

interface Case {
  readonly name: string
  readonly width: number
  readonly height: number
  readonly channels: number
  readonly x: ReadonlyArray<number>
  readonly y: ReadonlyArray<number>
  readonly ssim: number
}
const table = JSON.parse(readFileSync(new URL("./fixtures/ssim-reference.json", import.meta.url), "utf8")) as {
  readonly cases: ReadonlyArray<Case>
}

describe("SSIM", () => {
  it("is exactly 1 for identical videos", () => {
    const a = tensor([3, 20, 24, 3], (i) => (i * 37) % 256)
    for (const v of Ssim.ssimFrames(a, a)) assert.strictEqual(v, 1)
  })

  it("matches the closed form (2ab + C1) / (a^2 + b^2 + C1) for constant frames a and b", () => {
    for (const [a, b] of [[100, 110], [0, 255], [30, 200], [128, 128]]) {
      const x = tensor([1, 16, 16, 1], () => a)
      const y = tensor([1, 16, 16, 1], () => b)
      const expected = (2 * a * b + C1) / (a * a + b * b + C1)
      assert.approximately(Ssim.ssimFrames(x, y)[0], expected, 1e-12, `a=${a} b=${b}`)
    }
  })

  it("is invariant to swapping its arguments", () => {
    const a = tensor([2, 16, 20, 1], (i) => (i * 31) % 251)
    const b = tensor([2, 16, 20, 1], (i) => (i * 17 + 40) % 233)
    const ab = Ssim.ssimFrames(a, b)
    const ba = Ssim.ssimFrames(b, a)
    ab.forEach((v, f) => assert.approximately(v, ba[f], 1e-12))
  })

  describe("agrees within 1e-9 with the independent direct-window reference (fixtures/ssim_reference.py)", () => {
    for (const c of table.cases) {
      it(c.name, () => {
        const x = fromFrames([c.x], c.height, c.width, c.channels)
        const y = fromFrames([c.y], c.height, c.width, c.channels)
        assert.approximately(Ssim.ssimFrames(x, y)[0], c.ssim, 1e-9)
      })
    }
  })

  it("gives the same value for uint8, float32 and TCHW forms of the same pixels", () => {
    const c = table.cases.find((k) => k.channels === 3)!
    const x = fromFrames([c.x], c.height, c.width, 3)
    const y = fromFrames([c.y], c.height, c.width, 3)
    for (const options of [{ dtype: "float32" }, { layout: "TCHW" }, { dtype: "float32", layout: "TCHW" }] as const) {
      assert.approximately(Ssim.ssimFrames(convert(x, options), convert(y, options))[0], c.ssim, 1e-6)
    }
  })

  it("runs the WebAssembly kernel that the build compiles (dist/kernels.wasm); VIDPOOL_KERNELS=js asks for the JavaScript one", () => {
    assert.strictEqual(Ssim.kernel, "wasm")
    const dist = new URL("../dist/index.js", import.meta.url).href
    const kernelWith = (env: Record<string, string>) =>
      execFileSync(process.execPath, ["--input-type=module", "-e", `import { Ssim } from ${JSON.stringify(dist)}; console.log(Ssim.kernel)`], {
        encoding: "utf8",
        env: { ...process.env, ...env }
      }).trim()
    assert.strictEqual(kernelWith({ VIDPOOL_KERNELS: "js" }), "js")
    assert.strictEqual(kernelWith({ VIDPOOL_KERNELS: "" }), "wasm")
  })

  it("the WebAssembly kernel gives the JavaScript kernel's values within 1e-12 per frame", () => {
    // Frames with structure, noise and flat areas, of sizes that are and are not multiples of anything.
    let seed = 7
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24)
    for (const [h, w] of [[11, 11], [12, 12], [24, 37], [64, 80], [48, 65]] as const) {
      const a = tensor([3, h, w, 3], (i) => (i % 13 < 6 ? 200 : (i * 7) % 256))
      const b = tensor([3, h, w, 3], (i) => Math.min(255, ((i % 13 < 6 ? 200 : (i * 7) % 256) + noise() % 40)))
      const before = Ssim.ssimFramesJs(a, b)
      Ssim.ssimFrames(a, b).forEach((v, f) => assert.approximately(v, before[f], 1e-12, `${w}x${h} frame ${f}`))
    }
  })
})
