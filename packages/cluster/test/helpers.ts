// Test kit of the cluster: real clips made with the ffmpeg that ships with the install, the
// layers of the single-process mode and a BatchEvaluator that counts what it evaluates. The
// PostgreSQL database of the tests is test/database/testDb.ts.
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import { Evaluator, MetricRegistry } from "@vidpool/eval"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import { LibavDecoder } from "@vidpool/libav"
import { Video, VideoPool } from "@vidpool/pool"
import { BatchEvaluator, Runner } from "../src/index.ts"

const here = path.dirname(fileURLToPath(import.meta.url))

// The ffmpeg package depends on @ffmpeg-installer/ffmpeg; resolve it from there.
const requireFromFfmpeg = createRequire(path.resolve(here, "..", "..", "ffmpeg", "package.json"))
export const ffmpegPath: string = (requireFromFfmpeg("@ffmpeg-installer/ffmpeg") as { path: string }).path

export { freePort } from "../../../test/database/Postmaster.ts"

/** A name no other test run uses: for run ids and cluster names (lower case, digits and `_`). */
export const uniqueName = (prefix: string): string =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A fresh temporary folder and its removal. */
export const tempDir = (): { readonly dir: string; readonly remove: () => void } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vidpool-cluster-"))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

export interface Sample {
  readonly video: Video
  readonly reference: Video
  readonly name: string
}

/**
 * `count` samples of small real clips (64x48, 8 frames, h264): each a reference (test pattern or
 * fractal, alternately) and a generated copy, blurred for every third sample, noisy for the
 * others, so that the scores differ from sample to sample.
 */
export const makeSamples = async (dir: string, count: number): Promise<Array<Sample>> => {
  const clip = { width: 64, height: 48, frames: 8, fps: 10 } as const
  const samples: Array<Sample> = []
  const jobs: Array<Promise<string>> = []
  for (let i = 0; i < count; i++) {
    const source = i % 2 === 0 ? "testsrc2" : "mandelbrot"
    const reference = path.join(dir, `ref-${i}.mp4`)
    const video = path.join(dir, `gen-${i}.mp4`)
    const damage = i % 3 === 0 ? `gblur=sigma=${1 + i / 4}` : `noise=alls=${10 + 3 * i}:allf=t`
    jobs.push(FfmpegFixtures.makeClip(ffmpegPath, reference, { ...clip, source }))
    jobs.push(FfmpegFixtures.makeClip(ffmpegPath, video, { ...clip, source, extraFilters: [damage] }))
    samples.push({ video: Video.file(video), reference: Video.file(reference), name: `sample ${i}` })
  }
  await Promise.all(jobs)
  return samples
}

/** A file named .mp4 that holds text, not a video. */
export const makeBroken = (dir: string): string => {
  const file = path.join(dir, "broken.mp4")
  fs.writeFileSync(file, "this is not a video\n".repeat(40))
  return file
}

/** The batches a `CountingEvaluator` was asked to evaluate, each named by its samples' video paths. */
export interface Counter {
  readonly calls: Map<string, number>
  readonly total: () => number
}

export const makeCounter = (): Counter => {
  const calls = new Map<string, number>()
  return { calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) }
}

/** The real `BatchEvaluator` (over the Evaluator in context), counting its calls in `counter`. */
export const countingEvaluator = (counter: Counter): Layer.Layer<BatchEvaluator, never, Evaluator> =>
  Layer.effect(
    BatchEvaluator,
    Effect.gen(function*() {
      const inner = yield* BatchEvaluator
      return BatchEvaluator.of({
        evaluate: (samples, options) =>
          Effect.suspend(() => {
            const key = samples.map((s) => (s.video as Video | undefined)?.path ?? "?").join(",")
            counter.calls.set(key, (counter.calls.get(key) ?? 0) + 1)
            return inner.evaluate(samples, options)
          })
      })
    })
  ).pipe(Layer.provide(BatchEvaluator.layer))

/**
 * The Evaluator as the composition root (`Live.layerEvaluator` of @vidpool/cli, a package above
 * this one) builds it: the built-in metrics, its VideoPool and the default decoder.
 */
export const evaluatorLayer = Evaluator.layer.pipe(
  Layer.provide(MetricRegistry.layer),
  Layer.provideMerge(VideoPool.layer),
  Layer.provide(LibavDecoder.layerAuto(FfmpegDecoder.layer))
)

/**
 * The single-process mode over `batchEvaluator` (the real one by default) with the default
 * Evaluator, and the registry the coordinator merges with; the Evaluator is also provided, for
 * direct evaluations to compare with.
 */
export const localLayer = (batchEvaluator: Layer.Layer<BatchEvaluator, never, Evaluator> = BatchEvaluator.layer) =>
  Layer.mergeAll(
    Runner.layerLocal().pipe(Layer.provide(batchEvaluator)),
    MetricRegistry.layer
  ).pipe(Layer.provideMerge(evaluatorLayer))
