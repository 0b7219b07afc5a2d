import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import { Video, VideoPool } from "@vidpool/pool"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Evaluator, MetricRegistry } from "../src/index.ts"
import { ffmpeg, ffmpegPath, tempDir } from "./support/ffmpeg.ts"

const EvaluatorLive = Evaluator.layer.pipe(
  Layer.provide(MetricRegistry.layer),
  Layer.provide(VideoPool.layer),
  Layer.provide(FfmpegDecoder.layer)
)

describe("end to end: real clips decoded by ffmpeg, scored on worker threads", () => {
  const tmp = tempDir()
  const ref = join(tmp.dir, "ref.mkv")
  const noisy = join(tmp.dir, "noisy.mkv")
  const blurred = join(tmp.dir, "blurred.mkv")
  const stats = join(tmp.dir, "psnr.log")
  const clip = { source: "testsrc2", codec: "png", width: 96, height: 64, frames: 12 } as const

  beforeAll(async () => {
    await FfmpegFixtures.makeClip(ffmpegPath, ref, clip)
    await FfmpegFixtures.makeClip(ffmpegPath, noisy, { ...clip, extraFilters: ["noise=alls=30:allf=t+u"] })
    await FfmpegFixtures.makeClip(ffmpegPath, blurred, { ...clip, extraFilters: ["gblur=sigma=2"] })
    ffmpeg(["-i", noisy, "-i", ref, "-lavfi", `[0:v][1:v]psnr=stats_file=${stats}`, "-f", "null", "-"])
  })
  afterAll(() => tmp.remove())

  it.live("scores PSNR within 0.01 dB of ffmpeg's psnr filter, SSIM 1 for identical clips and below 1 for degraded ones", () =>
    Effect.gen(function*() {
      const ffmpegPsnr = readFileSync(stats, "utf8").trim().split("\n")
        .map((line) => Number(/psnr_avg:(\S+)/.exec(line)![1]))
      const ffmpegMean = ffmpegPsnr.reduce((a, b) => a + b, 0) / ffmpegPsnr.length
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([
          { video: Video.file(noisy), reference: Video.file(ref) },
          { video: Video.file(ref), reference: Video.file(ref) },
          { video: Video.file(blurred), reference: Video.file(ref) }
        ], { metrics: ["common.psnr", "common.ssim"], workers: 2, loaderThreads: 2 })
      )
      const [noisyResult, same, blurResult] = results.samples
      assert.strictEqual(noisyResult.metrics["common.psnr"].details.frames, 12)
      assert.approximately(noisyResult.metrics["common.psnr"].score!, ffmpegMean, 0.01)
      assert.strictEqual(same.metrics["common.psnr"].score, 100)
      assert.strictEqual(same.metrics["common.ssim"].score, 1)
      for (const r of [noisyResult, blurResult]) {
        const s = r.metrics["common.ssim"].score!
        assert.isAbove(s, 0)
        assert.isBelow(s, 1)
      }
      assert.isAbove(results.timing.decodeMs, 0)
    }).pipe(Effect.provide(EvaluatorLive)))

  it.live("records a file that cannot be decoded on its sample, naming the file, and scores the rest", () =>
    Effect.gen(function*() {
      const missing = join(tmp.dir, "does-not-exist.mp4")
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([
          { video: Video.file(missing), reference: Video.file(ref) },
          { video: Video.file(noisy), reference: Video.file(ref) }
        ], { metrics: ["common.psnr"], onError: "record" })
      )
      assert.strictEqual(results.samples[0].error?._tag, "DecodeError")
      assert.include(results.samples[0].error?.message, missing)
      assert.isNumber(results.samples[1].metrics["common.psnr"].score)
    }).pipe(Effect.provide(EvaluatorLive)))
})
