// The single-process mode (one runner in this process, storage in memory, messages serialized
// as they would be between machines) over real clips: a cluster run gives what one `evaluate`
// of the same samples gives, and its errors name samples by their place in the whole input.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { Effect, Layer } from "effect"
import { Evaluator, ModelError, type SampleResult } from "@vidpool/eval"
import { DecodeError, Video } from "@vidpool/pool"
import { Batch, BatchEvaluator, Coordinator, type WireStats } from "../src/index.ts"

type BatchOptions = Batch.BatchOptions
import { localLayer, makeBroken, makeSamples, type Sample, tempDir, uniqueName } from "./helpers.ts"

const metrics = ["common.psnr", "common.ssim", "common.frechet_distance"]

describe("single-process mode over real clips", () => {
  const tmp = tempDir()
  let samples: Array<Sample> = []
  let broken = ""
  beforeAll(async () => {
    samples = await makeSamples(tmp.dir, 10)
    broken = makeBroken(tmp.dir)
  })
  afterAll(() => tmp.remove())

  it.live("gives the per-sample results of one evaluate exactly, in input order, and the same corpus Fréchet distance", () =>
    Effect.gen(function*() {
      const direct = yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics, onError: "fail" }))
      const seen: Array<number> = []
      let stats: WireStats | undefined
      const cluster = yield* Coordinator.evaluate(samples, {
        metrics,
        onError: "fail",
        runId: uniqueName("local"),
        batchSize: 3,
        onResult: (result) => Effect.sync(() => seen.push(result.index))
      }, (s) => {
        stats = s
      })

      assert.strictEqual(cluster.samples.length, samples.length)
      cluster.samples.forEach((result, i) => assert.strictEqual(result.index, i))
      // Scores and details, every number, as the one-machine run computed them.
      assert.deepStrictEqual(cluster.samples, direct.samples)
      // The scores are real and differ between samples, so a mix-up of samples would show.
      const psnr = cluster.samples.map((r) => r.metrics["common.psnr"].score!)
      assert.strictEqual(new Set(psnr).size, samples.length)
      for (const score of psnr) assert.isTrue(Number.isFinite(score) && score > 5 && score < 100)
      assert.deepStrictEqual(cluster.summary, direct.summary)

      // onResult: each sample once, with its index in the whole input.
      assert.deepStrictEqual([...seen].sort((a, b) => a - b), samples.map((_, i) => i))

      // The Fréchet distance is computed from moments merged batch by batch (Chan's merge) where
      // one evaluate adds the vectors one by one (Welford): the same up to rounding, which the
      // matrix square root amplifies; equal within a relative 1e-6.
      assert.strictEqual(cluster.corpus.length, 1)
      const [fd] = cluster.corpus
      const [directFd] = direct.corpus
      assert.strictEqual(fd.name, "common.frechet_distance")
      assert.deepStrictEqual(fd.details, directFd.details)
      assert.deepStrictEqual(fd.details, { extractor: "colour-motion-stats", generated: 10, reference: 10 })
      assert.isTrue(Number.isFinite(directFd.score!) && directFd.score! > 0)
      assert.isBelow(Math.abs(fd.score! - directFd.score!) / directFd.score!, 1e-6)

      // ceil(10 / 3) batches, the last one partial; bytes were counted both ways.
      assert.isDefined(stats)
      assert.strictEqual(stats!.batches, 4)
      assert.isAbove(stats!.requestBytes, 0)
      assert.isAbove(stats!.replyBytes, 0)
    }).pipe(Effect.provide(localLayer())))

  it.live("onError record: a file that is not a video is recorded on its sample, at its index in the whole input", () =>
    Effect.gen(function*() {
      // Batches of 3: index 4 is the second sample of the second batch.
      const input = samples.slice(0, 7).map((s, i) => (i === 4 ? { ...s, video: Video.file(broken) } : s))
      const results = yield* Coordinator.evaluate(input, { metrics, onError: "record", runId: uniqueName("record"), batchSize: 3 })
      const direct = yield* Evaluator.use((ev) => ev.evaluate(input, { metrics, onError: "record" }))
      assert.strictEqual(results.samples.length, 7)
      const bad = results.samples[4]
      assert.strictEqual(bad.index, 4)
      assert.isDefined(bad.error)
      assert.strictEqual(bad.error!._tag, "DecodeError")
      assert.strictEqual(bad.error!.path, broken)
      assert.strictEqual(bad.error!.key, "video")
      assert.strictEqual(bad.error!.reason, direct.samples[4].error?.reason)
      assert.include(bad.error!.message, broken)
      // The message names the sample by its index in the whole input ("sample 4"), not in its
      // batch ("sample 1"): everything as one evaluate of the same samples records it.
      assert.include(bad.error!.message, "(sample 4,")
      assert.deepStrictEqual(results.samples, direct.samples)
      // The others, in the same batches, are scored.
      results.samples.forEach((r: SampleResult, i) => {
        assert.strictEqual(r.index, i)
        if (i !== 4) {
          assert.isUndefined(r.error)
          assert.isTrue(Number.isFinite(r.metrics["common.psnr"].score!))
        }
      })
      assert.strictEqual(results.summary["common.psnr"].count, 6)
    }).pipe(Effect.provide(localLayer())))

  it.live("onError fail: fails with the DecodeError of the broken sample, at its index in the whole input", () =>
    Effect.gen(function*() {
      // Batches of 3: index 4 is the second sample of the second batch.
      const input = samples.slice(0, 7).map((s, i) => (i === 4 ? { ...s, video: Video.file(broken) } : s))
      const error = yield* Effect.flip(
        Coordinator.evaluate(input, { metrics, onError: "fail", runId: uniqueName("fail"), batchSize: 3 })
      )
      assert.instanceOf(error, DecodeError)
      const decodeError = error as DecodeError
      assert.strictEqual(decodeError.index, 4)
      assert.strictEqual(decodeError.key, "video")
      assert.strictEqual(decodeError.path, broken)
    }).pipe(Effect.provide(localLayer())))

  it.live("a relative path travels absolute, and its errors name it as given, as one evaluate does (onError record and fail)", () =>
    Effect.gen(function*() {
      // Relative to this process's folder, as a user types it; one file that is not a video, one
      // that does not exist, in the second batch of 3.
      const broken4 = nodePath.relative(process.cwd(), broken)
      const missing5 = nodePath.relative(process.cwd(), nodePath.join(tmp.dir, "missing.mp4"))
      assert.isFalse(nodePath.isAbsolute(broken4))
      const input = samples.slice(0, 7).map((s, i) =>
        i === 4 ? { ...s, video: Video.file(broken4) } : i === 5 ? { ...s, reference: Video.file(missing5) } : s
      )
      const recorded = yield* Coordinator.evaluate(input, { metrics, onError: "record", runId: uniqueName("relative"), batchSize: 3 })
      const direct = yield* Evaluator.use((ev) => ev.evaluate(input, { metrics, onError: "record" }))
      assert.strictEqual(recorded.samples[4].error?.path, broken4)
      assert.isTrue(recorded.samples[4].error?.message.startsWith(`Cannot decode ${broken4} (sample 4,`))
      assert.strictEqual(recorded.samples[5].error?.path, missing5)
      assert.strictEqual(recorded.samples[5].error?.key, "reference")
      // Every result, error rows included, as one evaluate of the same samples gives it.
      assert.deepStrictEqual(recorded.samples, direct.samples)

      const failed = yield* Effect.flip(
        Coordinator.evaluate(input.slice(0, 5), { metrics, onError: "fail", runId: uniqueName("relative_fail"), batchSize: 3 })
      )
      const directFailed = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate(input.slice(0, 5), { metrics, onError: "fail" })))
      assert.instanceOf(failed, DecodeError)
      assert.strictEqual((failed as DecodeError).path, broken4)
      assert.strictEqual(failed.message, directFailed.message)
    }).pipe(Effect.provide(localLayer())))

  it.live("samples of role \"reference\" feed the set metrics as in one evaluate, whichever batch they are in", () =>
    Effect.gen(function*() {
      // Six generated samples, then four references: batches of 2 hold either kind, never both.
      const input = [
        ...samples.slice(0, 6).map((s) => ({ video: s.video, reference: s.reference })),
        ...samples.slice(6, 10).map((s) => ({ video: s.reference, role: "reference" }))
      ]
      const direct = yield* Evaluator.use((ev) => ev.evaluate(input, { metrics: ["common.frechet_distance"], onError: "fail" }))
      const cluster = yield* Coordinator.evaluate(input, {
        metrics: ["common.frechet_distance"],
        onError: "fail",
        runId: uniqueName("roles"),
        batchSize: 2
      })
      // Only the four reference samples are references, as in one call (a batch of generated
      // samples alone would otherwise feed their reference fields too: 6 + 4 references).
      assert.deepStrictEqual(direct.corpus[0].details, { extractor: "colour-motion-stats", generated: 6, reference: 4 })
      assert.deepStrictEqual(cluster.corpus[0].details, direct.corpus[0].details)
      assert.isBelow(Math.abs(cluster.corpus[0].score! - direct.corpus[0].score!) / direct.corpus[0].score!, 1e-6)
    }).pipe(Effect.provide(localLayer())))
})

describe("model metrics over the cluster", () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const fixtures = nodePath.resolve(import.meta.dirname, "..", "..", "eval", "test", "fixtures", "models")
  const clips = ["sc-0", "sc-1", "sc-2", "sc-3"].map((name) => ({ video: Video.folder(nodePath.join(fixtures, "clips", name)) }))
  const modelMetrics = ["vbench.subject_consistency"]

  /** The options each batch reached its runner with; `before` runs first (a runner whose file changed, say). */
  const recording = (seen: Array<BatchOptions>, before: () => void = () => {}) =>
    Layer.effect(
      BatchEvaluator,
      Effect.map(Effect.service(Evaluator), (evaluator) =>
        BatchEvaluator.of({
          evaluate: (samples, options) => {
            seen.push(options)
            before()
            const { decoder: _, ...rest } = options
            return evaluator.evaluate(samples, rest)
          }
        }))
    )

  it.live("the model files travel to the runners as absolute paths with their digests, and score as one evaluate does", () => {
    const seen: Array<BatchOptions> = []
    const dino = nodePath.join(tmp.dir, "dino.onnx")
    fs.copyFileSync(nodePath.join(fixtures, "dino-tiny.onnx"), dino)
    return Effect.gen(function*() {
      const relative = nodePath.relative(process.cwd(), dino)
      const direct = yield* Evaluator.use((ev) => ev.evaluate(clips, { metrics: modelMetrics, models: { dino }, onError: "fail" }))
      const cluster = yield* Coordinator.evaluate(clips, {
        metrics: modelMetrics,
        onError: "fail",
        runId: uniqueName("models"),
        batchSize: 2,
        models: { dino: relative },
        modelBatch: 3
      })
      assert.deepStrictEqual(cluster.samples, direct.samples)
      for (const sample of cluster.samples) assert.isNumber(sample.metrics["vbench.subject_consistency"].score)
      const digest = createHash("sha256").update(fs.readFileSync(dino)).digest("hex")
      assert.strictEqual(seen.length, 2)
      for (const options of seen) {
        assert.deepStrictEqual(options.models, { dino })
        assert.deepStrictEqual(options.modelDigests, { dino: digest })
        assert.strictEqual(options.modelBatch, 3)
      }
    }).pipe(Effect.provide(localLayer(recording(seen))))
  })

  it.live("a runner that reads another file under the path refuses the batch with a ModelError (Changed)", () => {
    const dino = nodePath.join(tmp.dir, "dino-changed.onnx")
    fs.copyFileSync(nodePath.join(fixtures, "dino-tiny.onnx"), dino)
    // The file changes after the coordinator read it and before the runner does.
    const change = () => fs.appendFileSync(dino, Buffer.from([0]))
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Coordinator.evaluate(clips.slice(0, 1), {
        metrics: modelMetrics,
        onError: "record",
        runId: uniqueName("changed"),
        models: { dino }
      }))
      assert.instanceOf(error, ModelError)
      assert.strictEqual((error as ModelError).reason, "Changed")
      assert.strictEqual((error as ModelError).model, "dino")
      assert.strictEqual((error as ModelError).file, dino)
    }).pipe(Effect.provide(localLayer(recording([], change))))
  })

  it.live("a model the chosen metrics need must be given to the coordinator (never a runner's own); one they do not need is not read", () => {
    const seen: Array<BatchOptions> = []
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Coordinator.evaluate(clips, {
        metrics: modelMetrics,
        onError: "record",
        runId: uniqueName("notgiven"),
        models: { i3d: nodePath.join(tmp.dir, "i3d-nowhere.onnx") }
      }))
      assert.instanceOf(error, ModelError)
      assert.strictEqual((error as ModelError).reason, "NotGiven")
      assert.strictEqual((error as ModelError).model, "dino")
      assert.include(error.message, "--model dino=PATH")
      assert.strictEqual(seen.length, 0)
      // A metric without a model: the unused (and missing) model file is neither read nor sent.
      const scored = yield* Coordinator.evaluate(clips.slice(0, 2).map((c) => ({ video: c.video, reference: c.video })), {
        metrics: ["common.psnr"],
        onError: "fail",
        runId: uniqueName("unused"),
        models: { dino: nodePath.join(tmp.dir, "dino-nowhere.onnx") }
      })
      assert.strictEqual(scored.samples.length, 2)
      assert.isTrue(seen.every((options) => options.models === undefined && options.modelDigests === undefined))
      assert.isAbove(seen.length, 0)
    }).pipe(Effect.provide(localLayer(recording(seen))))
  })

  it.live("a model file the coordinator cannot read fails the run before any batch is sent", () => {
    const seen: Array<BatchOptions> = []
    const missing = nodePath.join(tmp.dir, "nowhere.onnx")
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Coordinator.evaluate(clips, {
        metrics: modelMetrics,
        onError: "record",
        runId: uniqueName("missing"),
        models: { dino: missing }
      }))
      assert.instanceOf(error, ModelError)
      assert.strictEqual((error as ModelError).reason, "FileMissing")
      assert.include(error.message, missing)
      assert.strictEqual(seen.length, 0)
    }).pipe(Effect.provide(localLayer(recording(seen))))
  })
})
