// The composition root: the default layers are built in `Live.ts` of this package, the one above
// eval and the decoders; eval itself depends on no decoder, and the library's default layer
// (exported from the package's index) evaluates real clips.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Evaluator } from "@vidpool/eval"
import { Video } from "@vidpool/pool"
import * as fs from "node:fs"
import * as path from "node:path"
import { Live } from "../src/index.ts"
import { makeClip, packageDir, removeDir, tempDir } from "./helpers.ts"

const evalDir = path.resolve(packageDir, "..", "eval")
const decoders = ["@vidpool/ffmpeg", "@vidpool/libav"]

describe("the composition root", () => {
  it("eval depends on no decoder: not in its dependencies, not imported by its sources", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(evalDir, "package.json"), "utf8")) as {
      readonly dependencies?: Record<string, string>
      readonly peerDependencies?: Record<string, string>
    }
    const runtime = { ...manifest.dependencies, ...manifest.peerDependencies }
    for (const name of decoders) assert.notProperty(runtime, name)
    const sources = fs.readdirSync(path.join(evalDir, "src"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
    assert.isAbove(sources.length, 10)
    const importing = sources.filter((file) => {
      const text = fs.readFileSync(path.join(evalDir, "src", file), "utf8")
      return decoders.some((name) => new RegExp(`^import [^\\n]*from "${name}(/[^"]*)?"`, "m").test(text))
    })
    assert.deepStrictEqual(importing, [])
  })

  describe("Live.layerEvaluator", () => {
    let dir: string
    let a: string
    let b: string
    beforeAll(async () => {
      dir = tempDir()
      a = await makeClip(path.join(dir, "a.mp4"), { frames: 4 })
      b = await makeClip(path.join(dir, "b.mp4"), { frames: 4, source: "mandelbrot" })
    })
    afterAll(() => removeDir(dir))

    it.live("evaluates samples with the built-in metrics and the default decoder", () =>
      Effect.gen(function*() {
        const results = yield* Evaluator.use((ev) =>
          ev.evaluate([
            { video: Video.file(a), reference: Video.file(a) },
            { video: Video.file(a), reference: Video.file(b) }
          ], { metrics: ["common.psnr"], workers: 1 })
        )
        const scores = results.samples.map((s) => s.metrics["common.psnr"]?.score)
        // identical frames are 100 dB by definition; two different patterns are far below
        assert.strictEqual(scores[0], 100)
        assert.isBelow(scores[1]!, 30)
      }).pipe(Effect.provide(Live.layerEvaluator)), 60_000)
  })
})
