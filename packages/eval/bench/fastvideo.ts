/**
 * @vidpool/eval benchmark of the FastVideo-definition pixel kernels (`pnpm bench` in packages/eval
 * runs it after bench/index.ts; `pnpm bench:fastvideo` alone).
 *
 * `common.ssim` (SsimRgb: RGB on [0, 1], 11x11 Gaussian zero-padded, separable, float64, one
 * thread) against FastVideo's code path on the CPU (bench/fastvideo_ssim.py: torch `conv2d`, five
 * depthwise 11x11 convolutions a chunk of 16 frames, Debian's python3-torch) with 1 and 2 torch
 * threads, on the same frames: a real clip (testsrc2, 320x240, FRAMES frames, h264) and a noisy
 * copy, decoded once by ffmpeg and written raw for PyTorch. Rates are megapixels (RGB pixels) per
 * second of wall-clock time, the best of ROUNDS runs each; the ratio is vidpool against the
 * fastest torch thread count. Also the largest per-frame difference between the two scores.
 */
import { Effect, Layer } from "effect"
import { Ffmpeg, FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import { Video, VideoDecoder } from "@vidpool/pool"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import * as SsimRgb from "../src/internal/SsimRgb.ts"

const WIDTH = 320
const HEIGHT = 240
const FRAMES = Number(process.env.BENCH_FASTVIDEO_FRAMES ?? 32)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const TORCH_THREADS = [1, 2]
const TARGET = 3
const python = "/usr/bin/python3"

const main = Effect.gen(function*() {
  const ffmpeg = yield* Ffmpeg.useSync((found) => found.path)
  const dir = mkdtempSync(join(tmpdir(), "vidpool-fastvideo-bench-"))
  try {
    const ref = join(dir, "ref.mp4")
    const gen = join(dir, "gen.mp4")
    yield* Effect.promise(() =>
      FfmpegFixtures.makeClip(ffmpeg, ref, { source: "testsrc2", width: WIDTH, height: HEIGHT, frames: FRAMES })
    )
    yield* Effect.promise(() => FfmpegFixtures.degrade(ffmpeg, ref, gen, { noise: 20 }))
    const decoder = yield* VideoDecoder
    const a = yield* decoder.decode(Video.file(gen))
    const b = yield* decoder.decode(Video.file(ref))
    if (a.layout !== "THWC" || a.dtype !== "uint8" || b.layout !== "THWC" || b.dtype !== "uint8") {
      return yield* Effect.die(new Error(`expected THWC uint8 frames, got ${a.layout} ${a.dtype}`))
    }
    writeFileSync(join(dir, "a.u8"), a.data)
    writeFileSync(join(dir, "b.u8"), b.data)
    const megapixels = (FRAMES * WIDTH * HEIGHT) / 1e6

    let ours = SsimRgb.ssimRgbFrames(a, b) // warm up
    let best = Infinity
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now()
      ours = SsimRgb.ssimRgbFrames(a, b)
      best = Math.min(best, (performance.now() - t0) / 1000)
    }
    const vidpool = megapixels / best

    const stdout = execFileSync(python, [
      join(import.meta.dirname, "fastvideo_ssim.py"),
      join(dir, "a.u8"),
      join(dir, "b.u8"),
      String(WIDTH),
      String(HEIGHT),
      String(FRAMES),
      String(ROUNDS),
      TORCH_THREADS.join(",")
    ], { encoding: "utf8" })
    const torch = JSON.parse(stdout.trim().split("\n").pop()!) as {
      readonly torch: string
      readonly rates: Record<string, number>
      readonly scores: ReadonlyArray<number>
    }
    let diff = 0
    ours.forEach((v, f) => (diff = Math.max(diff, Math.abs(v - torch.scores[f]))))
    const [fastestThreads, fastest] = Object.entries(torch.rates).reduce((x, y) => (y[1] > x[1] ? y : x))
    const ratio = vidpool / fastest
    console.log(`common.ssim (FastVideo's definition), ${FRAMES} frames of ${WIDTH}x${HEIGHT} RGB, best of ${ROUNDS}, wall clock`)
    console.log(`  vidpool SsimRgb (JavaScript, 1 thread): ${vidpool.toFixed(2)} Mpx/s`)
    for (const [threads, rate] of Object.entries(torch.rates)) {
      console.log(`  FastVideo's path, torch ${torch.torch} conv2d, ${threads} thread(s): ${rate.toFixed(2)} Mpx/s`)
    }
    console.log(
      `  vidpool / torch at ${fastestThreads} thread(s) (the fastest): ${ratio.toFixed(2)}x ` +
        `(target >= ${TARGET}x: ${ratio >= TARGET ? "met" : "MISSED"})`
    )
    console.log(`  largest per-frame score difference from torch's float32: ${diff.toExponential(2)}`)
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
Effect.runPromise(
  main.pipe(
    Effect.provide(Layer.mergeAll(Ffmpeg.layer, FfmpegDecoder.layer))
  )
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
