/**
 * @vidpool/eval model benchmark (`pnpm bench` in packages/eval runs it after bench/index.ts;
 * `pnpm bench:models` alone).
 *
 * Real-size architectures with random weights, made by bench/models/make_models.py with Debian's
 * python3-torch: ViT-B/16 called as DINO is (vbench.subject_consistency) and torchvision's S3D
 * (Inception-I3D with separable convolutions, I3D's input and 400 outputs; common.fvd). Clips:
 * 8 generated and 8 reference, 320x240, 16 frames, lossless (PNG in Matroska) so that PyAV and
 * vidpool decode the same pixels.
 *
 * For each metric: vidpool's Evaluator (loaders 2, workers and model threads at their defaults),
 * after a warm-up call that opens the session (which the timed call reuses), against the seed's
 * design in Python (bench/models/seed.py: loader threads, a bounded queue.Queue, PyAV, the same
 * model in PyTorch with as many threads). Reported: clips/s and their ratio, the largest relative
 * difference of the scores, the share of the wall time consumers waited for decoded clips, peak RSS.
 * Also vbench.background_consistency over torchvision's ViT-B/32 called as CLIP's image tower.
 * `BENCH_MODEL_METRICS=vbench.background_consistency` (a comma-separated list) runs some of them.
 */
import { Effect, Layer } from "effect"
import { Ffmpeg, FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import { LibavDecoder } from "@vidpool/libav"
import { Video, VideoPool } from "@vidpool/pool"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { Evaluator, MetricRegistry } from "../src/index.ts"
import { defaultModelThreads } from "../src/internal/Evaluation.ts"
import type { EvalResults } from "../src/Results.ts"

const CLIPS = 8
const FRAMES = 16
const LOADERS = 2
const here = import.meta.dirname
const python = "/usr/bin/python3"
const modelsDir = process.env.BENCH_MODELS_DIR ?? join(tmpdir(), "vidpool-bench-models")

const main = async () => {
  const made = ["s3d.onnx", "dino-vitb16.onnx", "clip-b32-image.onnx"].every((f) => existsSync(join(modelsDir, f)))
  if (!made) {
    console.log(`making the bench models in ${modelsDir} (once)`)
    mkdirSync(modelsDir, { recursive: true })
    execFileSync("nice", ["-n", "10", python, join(here, "models", "make_models.py"), modelsDir], { stdio: "inherit" })
  }
  const dir = mkdtempSync(join(tmpdir(), "vidpool-model-bench-"))
  try {
    const ffmpeg = await Effect.runPromise(Ffmpeg.useSync((found) => found.path).pipe(Effect.provide(Ffmpeg.layer)))
    const make = async (name: string, seed: number) => {
      const file = join(dir, `${name}.mkv`)
      await FfmpegFixtures.makeClip(ffmpeg, file, {
        source: "testsrc2",
        codec: "png",
        width: 320,
        height: 240,
        frames: FRAMES,
        extraFilters: [`noise=alls=${10 + 3 * (seed % 8)}:allf=t+u:all_seed=${seed}`, `hue=h=${(seed * 37) % 360}`]
      })
      return file
    }
    const generated = await Promise.all(Array.from({ length: CLIPS }, (_, i) => make(`gen-${i}`, i)))
    const references = await Promise.all(Array.from({ length: CLIPS }, (_, i) => make(`ref-${i}`, 100 + i)))
    const threads = defaultModelThreads(1)
    console.log(`cores ${availableParallelism()}, workers 1, model threads ${threads}, loaders ${LOADERS}`)

    const EvaluatorLive = Evaluator.layer.pipe(
      Layer.provide(MetricRegistry.layerModels({
        dino: join(modelsDir, "dino-vitb16.onnx"),
        i3d: join(modelsDir, "s3d.onnx"),
        clip_b32_image: join(modelsDir, "clip-b32-image.onnx")
      })),
      Layer.provide(VideoPool.layer),
      Layer.provide(LibavDecoder.layerAuto(FfmpegDecoder.layer))
    )
    const vidpool = (metric: string, samples: ReadonlyArray<object>) =>
      Effect.runPromise(Effect.gen(function*() {
        const ev = yield* Evaluator
        const warm = performance.now()
        yield* ev.evaluate(samples.slice(0, 1), { metrics: [metric], loaderThreads: LOADERS, referenceCache: "off" })
        const warmMs = performance.now() - warm
        const results = yield* ev.evaluate(samples, { metrics: [metric], loaderThreads: LOADERS, referenceCache: "off" })
        return { results, warmMs }
      }).pipe(Effect.provide(EvaluatorLive)))
    const seed = (mode: "sc" | "bc" | "fvd", paths: ReadonlyArray<string>) =>
      JSON.parse(execFileSync(python, [join(here, "models", "seed.py"), mode, modelsDir, String(threads), String(LOADERS), ...paths], {
        encoding: "utf8",
        maxBuffer: 1 << 24
      }).trim().split("\n").pop()!) as {
        wall: number
        wait: number
        clips: number
        peakRssMb: number
        torch: string
        build: Array<string>
        threads: number
        scores?: Array<number>
        fvd?: number
      }
    const rssMb = () => process.resourceUsage().maxRSS / 1024
    const row = (
      name: string,
      ours: { readonly results: EvalResults; readonly warmMs: number },
      rate: number,
      seedRun: ReturnType<typeof seed>,
      seedRate: number,
      diff: number,
      rss: number
    ) => {
      const wait = ours.results.timing.waitMs / ours.results.timing.wallMs
      console.log(
        `${name}: vidpool ${rate.toFixed(2)} clips/s (wall ${(ours.results.timing.wallMs / 1000).toFixed(2)} s, ` +
          `session opened in the warm-up call: ${(ours.warmMs / 1000).toFixed(2)} s), seed design ${seedRate.toFixed(2)} clips/s ` +
          `(wall ${seedRun.wall.toFixed(2)} s); ratio ${(rate / seedRate).toFixed(2)}x; scores differ by ${diff.toExponential(2)} ` +
          `(relative); consumers waited for clips ${(100 * wait).toFixed(1)}% of the wall time (seed design ` +
          `${(100 * seedRun.wait / seedRun.wall).toFixed(1)}%); peak RSS ${rss.toFixed(0)} MB (seed design ${seedRun.peakRssMb.toFixed(0)} MB)`
      )
    }
    const wanted = (process.env.BENCH_MODEL_METRICS ?? "vbench.subject_consistency,common.fvd,vbench.background_consistency")
      .split(",").map((m) => m.trim())

    // vbench.background_consistency over the 8 generated clips.
    if (wanted.includes("vbench.background_consistency")) {
      const bc = await vidpool("vbench.background_consistency", generated.map((file) => ({ video: Video.file(file) })))
      const bcSeed = seed("bc", generated)
      const bcScores = bc.results.samples.map((s) => s.metrics["vbench.background_consistency"].score!)
      const bcDiff = Math.max(...bcScores.map((s, i) => Math.abs(s - bcSeed.scores![i]) / Math.abs(bcSeed.scores![i])))
      console.log(`PyTorch ${bcSeed.torch}, ${bcSeed.threads} threads; build: ${bcSeed.build.join(" | ")}`)
      console.log(`scores: background consistency vidpool ${bcScores.map((x) => x.toFixed(6)).join(" ")}; ` +
        `seed design ${bcSeed.scores!.map((x) => x.toFixed(6)).join(" ")}`)
      row("vbench.background_consistency", bc, CLIPS / (bc.results.timing.wallMs / 1000), bcSeed, bcSeed.clips / bcSeed.wall, bcDiff, rssMb())
    }
    if (!wanted.includes("vbench.subject_consistency") && !wanted.includes("common.fvd")) return

    // vbench.subject_consistency over the 8 generated clips.
    const sc = await vidpool("vbench.subject_consistency", generated.map((file) => ({ video: Video.file(file) })))
    const scSeed = seed("sc", generated)
    const scScores = sc.results.samples.map((s) => s.metrics["vbench.subject_consistency"].score!)
    const scDiff = Math.max(...scScores.map((s, i) => Math.abs(s - scSeed.scores![i]) / Math.abs(scSeed.scores![i])))
    const scRate = CLIPS / (sc.results.timing.wallMs / 1000)
    const scSeedRate = scSeed.clips / scSeed.wall
    const scRss = rssMb()

    // common.fvd over 8 generated and 8 reference clips.
    const fvd = await vidpool("common.fvd", [
      ...generated.map((file) => ({ video: Video.file(file) })),
      ...references.map((file) => ({ video: Video.file(file), role: "reference" }))
    ])
    const fvdSeed = seed("fvd", [...generated, "--", ...references])
    const fvdScore = fvd.results.corpus[0].score!
    const fvdRate = (2 * CLIPS) / (fvd.results.timing.wallMs / 1000)
    const fvdSeedRate = fvdSeed.clips / fvdSeed.wall

    // Where inference runs and on how many threads: the default against the alternatives.
    const settings = [
      { workers: 1, modelThreads: 1 },
      { workers: 1, modelThreads: 2 },
      { workers: 2, modelThreads: 1 }
    ]
    const sweep: Array<string> = []
    for (const setting of settings) {
      const run = await Effect.runPromise(Effect.gen(function*() {
        const ev = yield* Evaluator
        const samples = generated.map((file) => ({ video: Video.file(file) }))
        const options = { metrics: ["vbench.subject_consistency"], loaderThreads: LOADERS, ...setting }
        yield* ev.evaluate(samples.slice(0, setting.workers), options)
        return yield* ev.evaluate(samples, options)
      }).pipe(Effect.provide(EvaluatorLive)))
      sweep.push(`workers ${setting.workers} x model threads ${setting.modelThreads}: ${(CLIPS / (run.timing.wallMs / 1000)).toFixed(2)} clips/s`)
    }
    console.log(`vbench.subject_consistency by setting: ${sweep.join("; ")}`)
    console.log(`PyTorch ${scSeed.torch}, ${scSeed.threads} threads; build: ${scSeed.build.join(" | ")}`)
    console.log(`scores: subject consistency vidpool ${scScores.map((x) => x.toFixed(6)).join(" ")}; ` +
      `seed design ${scSeed.scores!.map((x) => x.toFixed(6)).join(" ")}; FVD vidpool ${fvdScore.toFixed(6)}, seed design ${fvdSeed.fvd!.toFixed(6)}`)
    row("vbench.subject_consistency", sc, scRate, scSeed, scSeedRate, scDiff, scRss)
    row("common.fvd", fvd, fvdRate, fvdSeed, fvdSeedRate, Math.abs(fvdScore - fvdSeed.fvd!) / Math.abs(fvdSeed.fvd!), rssMb())
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
