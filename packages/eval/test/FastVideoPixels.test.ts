import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { LibavDecoder } from "@vidpool/libav"
import { Video, VideoDecoder } from "@vidpool/pool"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { BuiltinMetrics, Evaluator } from "../src/index.ts"
import * as MseUnit from "../src/internal/MseUnit.ts"
import * as SsimRgb from "../src/internal/SsimRgb.ts"
import { layerDefault as EvaluatorLive } from "./support/layers.ts"
import { convert, tensor } from "./support/tensors.ts"

/**
 * Fixtures and scores from scripts/make_fastvideo_pixel_fixtures.py: FastVideo's code path in
 * PyTorch, run in float32 as FastVideo runs it and in float64.
 */
const fixtures = join(import.meta.dirname, "fixtures", "fastvideo-pixels")
type Scores = { readonly score: number; readonly perFrame: ReadonlyArray<number> }
type Run = { readonly frames: number; readonly mse: Scores; readonly psnr: Scores; readonly ssim: Scores }
const reference = JSON.parse(readFileSync(join(fixtures, "reference.json"), "utf8")) as {
  readonly pairs: ReadonlyArray<{
    readonly name: string
    readonly video: string
    readonly reference: string
    readonly float32: Run
    readonly float64: Run
  }>
}
const metrics = ["mse", "psnr", "ssim"] as const

const decoders = LibavDecoder.layerAuto(FfmpegDecoder.layer)


const assertClose = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.isAtMost(Math.abs(actual - expected), tolerance, `${what}: ${actual} vs ${expected}`)

describe("common.mse, common.psnr, common.ssim against FastVideo's code path (PNG frame folders)", () => {
  it.live("through a decoder and the Evaluator: every score and per-frame value within 1e-6 of the float64 run", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(
          reference.pairs.map((p) => ({ video: Video.folder(join(fixtures, p.video)), reference: Video.folder(join(fixtures, p.reference)) })),
          { metrics: ["common.mse", "common.psnr", "common.ssim"], workers: 2 }
        )
      )
      reference.pairs.forEach((pair, i) => {
        for (const m of metrics) {
          const result = results.samples[i].metrics[`common.${m}`]
          const expected = pair.float64[m]
          assert.strictEqual(result.details.frames, pair.float64.frames, `${pair.name} ${m} frames`)
          assertClose(result.score!, expected.score, 1e-6, `${pair.name} ${m}`)
          const perFrame = result.details.perFrame as ReadonlyArray<number>
          assert.strictEqual(perFrame.length, expected.perFrame.length)
          perFrame.forEach((v, f) => assertClose(v, expected.perFrame[f], 1e-6, `${pair.name} ${m} frame ${f}`))
        }
      })
    }).pipe(Effect.provide(EvaluatorLive)))

  it.effect("and within 1e-5 of FastVideo's own float32 run (its float32 rounding alone moves it up to 3e-6)", () =>
    Effect.gen(function*() {
      const decoder = yield* VideoDecoder
      for (const pair of reference.pairs) {
        const video = yield* decoder.decode(Video.folder(join(fixtures, pair.video)))
        const ref = yield* decoder.decode(Video.folder(join(fixtures, pair.reference)))
        for (const m of metrics) {
          assertClose(BuiltinMetrics[m].compute({ video, reference: ref }).score!, pair.float32[m].score, 1e-5, `${pair.name} ${m}`)
        }
      }
    }).pipe(Effect.provide(decoders)))

  it.effect("cut both clips to the shorter one and say so in the details", () =>
    Effect.gen(function*() {
      const decoder = yield* VideoDecoder
      const noisy = reference.pairs.find((p) => p.name === "noisy")!
      const video = yield* decoder.decode(Video.folder(join(fixtures, noisy.video)))
      const ref = yield* decoder.decode(Video.folder(join(fixtures, noisy.reference)))
      const r = BuiltinMetrics.ssim.compute({ video, reference: ref })
      assert.deepStrictEqual(
        { frames: r.details.frames, videoFrames: r.details.videoFrames, referenceFrames: r.details.referenceFrames },
        { frames: 6, videoFrames: 6, referenceFrames: 7 }
      )
    }).pipe(Effect.provide(decoders)))
})

describe("the FastVideo-definition kernels", () => {
  const a = tensor([3, 9, 14, 3], (i) => (i * 37 + (i >> 3) * 11) % 256)
  const b = tensor([3, 9, 14, 3], (i) => (i * 53 + (i >> 2) * 7) % 256)

  it("read THWC and TCHW, uint8 and float32 [0, 1] tensors to the same values", () => {
    const ssim = SsimRgb.ssimRgbFrames(a, b)
    const mse = MseUnit.mseUnitFrames(a, b)
    // Another layout adds the same squares in another order: equal to rounding.
    const near = (actual: Float64Array, expected: Float64Array) =>
      actual.forEach((v, i) => assertClose(v, expected[i], 1e-15, `frame ${i}`))
    for (const options of [{ layout: "TCHW" as const }, { dtype: "float32" as const }, { dtype: "float32" as const, layout: "TCHW" as const }]) {
      assert.deepStrictEqual(Array.from(SsimRgb.ssimRgbFrames(convert(a, options), convert(b, options))), Array.from(ssim))
      assert.deepStrictEqual(Array.from(SsimRgb.ssimRgbFrames(convert(a, options), b)), Array.from(ssim))
      near(MseUnit.mseUnitFrames(convert(a, options), convert(b, options)), mse)
      near(MseUnit.mseUnitFrames(convert(a, options), b), mse)
      near(MseUnit.mseUnitFrames(a, convert(b, options)), mse)
    }
  })

  it("score identical frames 1 (SSIM), 0 (MSE) and 100 dB (PSNR, from the 1e-10 floor)", () => {
    assert.deepStrictEqual(Array.from(SsimRgb.ssimRgbFrames(a, a)), [1, 1, 1])
    assert.deepStrictEqual(Array.from(MseUnit.mseUnitFrames(a, a)), [0, 0, 0])
    assert.strictEqual(MseUnit.psnrFromUnitMse(0), 100)
    assert.strictEqual(BuiltinMetrics.psnr.compute({ video: a, reference: a }).score, 100)
  })

  it("give a frame smaller than the window a score (the padding is zeros)", () => {
    const small = tensor([1, 2, 3, 3], (i) => i * 20)
    const other = tensor([1, 2, 3, 3], (i) => 255 - i * 20)
    const r = BuiltinMetrics.ssim.compute({ video: small, reference: other })
    assert.isNumber(r.score)
    assert.isBelow(r.score!, 1)
  })

  for (const metric of [BuiltinMetrics.mse, BuiltinMetrics.psnr, BuiltinMetrics.ssim]) {
    it(`${metric.name} is skipped, saying why, when the frame sizes or channels differ, or a clip is empty`, () => {
      assert.strictEqual(
        metric.compute({ video: tensor([1, 12, 16, 3], () => 0), reference: tensor([1, 12, 12, 3], () => 0) }).details.skipped,
        "frame sizes differ (16x12 vs 12x12)"
      )
      assert.strictEqual(
        metric.compute({ video: tensor([1, 12, 12, 3], () => 0), reference: tensor([1, 12, 12, 1], () => 0) }).details.skipped,
        "channel counts differ (3 vs 1)"
      )
      assert.strictEqual(
        metric.compute({ video: tensor([0, 12, 12, 3], () => 0), reference: tensor([2, 12, 12, 3], () => 0) }).details.skipped,
        "a video has no frames (0 vs 2)"
      )
    })
  }
})
