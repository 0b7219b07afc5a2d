import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { BuiltinMetrics, Psnr } from "../src/index.ts"
import { ffmpeg, readRgb24, tempDir } from "./support/ffmpeg.ts"

const W = 96
const H = 64

describe("PSNR agrees with ffmpeg's psnr filter on the same rgb24 clips", () => {
  const tmp = tempDir()
  const clean = join(tmp.dir, "clean.nut")
  const noisy = join(tmp.dir, "noisy.nut")
  const stats = join(tmp.dir, "psnr.log")

  beforeAll(() => {
    ffmpeg(["-f", "lavfi", "-i", `testsrc2=size=${W}x${H}:rate=25:duration=0.48`, "-pix_fmt", "rgb24", "-c:v", "rawvideo", clean])
    // Temporal uniform noise: every frame has its own PSNR.
    ffmpeg(["-i", clean, "-vf", "noise=alls=40:allf=t+u,format=rgb24", "-pix_fmt", "rgb24", "-c:v", "rawvideo", noisy])
    ffmpeg(["-i", noisy, "-i", clean, "-lavfi", `[0:v][1:v]psnr=stats_file=${stats}`, "-f", "null", "-"])
  })
  afterAll(() => tmp.remove())

  const ffmpegFrames = () =>
    readFileSync(stats, "utf8").trim().split("\n").map((line) => {
      const field = (key: string) => Number(new RegExp(`(?:^| )${key}:(\\S+)`).exec(line)![1])
      return { mse: field("mse_avg"), psnr: field("psnr_avg") }
    })

  it("frame by frame, within 0.01 dB", () => {
    const ours = Psnr.psnrFrames(readRgb24(noisy, W, H), readRgb24(clean, W, H))
    const theirs = ffmpegFrames()
    assert.strictEqual(ours.length, theirs.length)
    assert.isAtLeast(ours.length, 10)
    theirs.forEach((frame, f) => {
      assert.approximately(ours[f], frame.psnr, 0.01, `frame ${f}`)
      assert.isBelow(frame.psnr, 40)
      assert.isAbove(frame.psnr, 10)
    })
  })

  for (const metric of [BuiltinMetrics.psnr, BuiltinMetrics.psnr255]) {
    it(`for ${metric.name}, the mean of the per-frame values, within 0.01 dB`, () => {
      const theirs = ffmpegFrames()
      const mean = theirs.reduce((a, f) => a + f.psnr, 0) / theirs.length
      const result = metric.compute({ video: readRgb24(noisy, W, H), reference: readRgb24(clean, W, H) })
      assert.approximately(result.score!, mean, 0.01)
    })
  }

  it("and for vidpool.mse_255, within ffmpeg's printed precision", () => {
    const theirs = ffmpegFrames()
    const ours = Psnr.mseFrames(readRgb24(noisy, W, H), readRgb24(clean, W, H))
    theirs.forEach((frame, f) => assert.approximately(ours[f], frame.mse, 0.006, `frame ${f}`))
  })
})
