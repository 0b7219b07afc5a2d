/**
 * @vidpool/cli benchmark (`pnpm bench` in packages/cli): what the command costs over the library.
 *
 * A corpus of CLIPS degraded clips with their references (160x120, 50 frames, h264) is made here
 * with ffmpeg, then scored with common.psnr + common.ssim, 2 workers and 2 loaders:
 *   - baseline: the Evaluator called in this process, its layer built for the call as the command
 *     does (so both pay for starting the metric worker threads);
 *   - `vidpool eval` spawned as a user runs it (process start, input checks, JSON to --out);
 *   - `vidpool --version` spawned: the start-up cost alone;
 *   - `vidpool eval` with 1 worker and 1 loader, to show what the flags buy.
 * Each is run REPEAT times; the best time is kept.
 */
import { Effect, Layer } from "effect"
import { Ffmpeg, FfmpegDecoder, FfmpegFixtures } from "@vidpool/ffmpeg"
import { Evaluator } from "@vidpool/eval"
import { Video, VideoPool } from "@vidpool/pool"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"

const CLIPS = Number(process.env.BENCH_CLIPS ?? 16)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2)
const bin = resolve(import.meta.dirname, "..", "bin", "vidpool.js")
const run = promisify(execFile)

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const best = async (f: () => Promise<unknown>): Promise<number> => {
  let min = Infinity
  for (let i = 0; i < REPEAT; i++) {
    const start = performance.now()
    await f()
    min = Math.min(min, performance.now() - start)
  }
  return min
}

const EvaluatorLive = Evaluator.layer.pipe(Layer.provide(VideoPool.layer), Layer.provide(FfmpegDecoder.layer))

const main = Effect.gen(function*() {
  const ffmpeg = yield* Ffmpeg
  const dir = mkdtempSync(join(tmpdir(), "vidpool-cli-bench-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const refs = join(dir, "refs")
  const gen = join(dir, "gen")
  mkdirSync(refs)
  mkdirSync(gen)
  const names = Array.from({ length: CLIPS }, (_, i) => `clip-${String(i).padStart(2, "0")}.mp4`)
  yield* Effect.promise(() =>
    Promise.all(names.map(async (name, i) => {
      await FfmpegFixtures.makeClip(ffmpeg.path, join(refs, name), {
        source: i % 2 === 0 ? "testsrc2" : "mandelbrot",
        width: 160,
        height: 120,
        frames: 50,
        extraFilters: [`hue=h=${(i * 37) % 360}`]
      })
      await FfmpegFixtures.degrade(ffmpeg.path, join(refs, name), join(gen, name), { noise: 20, crf: 30 })
    }))
  )
  const samples = names.map((name) => ({ video: Video.file(join(gen, name)), reference: Video.file(join(refs, name)) }))
  const metrics = ["common.psnr", "common.ssim"]
  const library = yield* Effect.promise(() =>
    best(() =>
      Effect.runPromise(
        Evaluator.use((evaluator) => evaluator.evaluate(samples, { metrics, workers: 2, loaderThreads: 2 })).pipe(
          Effect.provide(EvaluatorLive)
        )
      )
    )
  )
  const args = ["eval", gen, "--reference", refs, "--metrics", "psnr,ssim", "--out", join(dir, "out.json"), "-q"]
  const command = yield* Effect.promise(() => best(() => run(process.execPath, [bin, ...args, "--workers", "2", "--loaders", "2"])))
  const startup = yield* Effect.promise(() => best(() => run(process.execPath, [bin, "--version"])))
  const serial = yield* Effect.promise(() => best(() => run(process.execPath, [bin, ...args, "--workers", "1", "--loaders", "1"])))

  const lines = [
    `@vidpool/cli bench: ${CLIPS} clips 160x120x50 with references, common.psnr + common.ssim, best of ${REPEAT}`,
    `load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    `library Evaluator, in process (baseline), 2 workers 2 loaders: ${seconds(library)}`,
    `vidpool eval, spawned, 2 workers 2 loaders:                   ${seconds(command)}  (${(command / library).toFixed(2)}x the baseline)`,
    `vidpool --version, spawned (start-up alone):                  ${seconds(startup)}`,
    `vidpool eval minus start-up:                                  ${seconds(command - startup)}  (${((command - startup) / library).toFixed(2)}x the baseline)`,
    `vidpool eval, spawned, 1 worker 1 loader:                     ${seconds(serial)}  (${(serial / command).toFixed(2)}x the 2+2 run)`
  ]
  console.log(lines.join("\n"))
}).pipe(
  Effect.scoped,
  Effect.provide(Ffmpeg.layer)
)

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
