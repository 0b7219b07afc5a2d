// The coordinator in the single-process mode: options that cannot work are refused before any
// batch is sent, and a run id names a run's stored replies, answered again for the same input
// and never for another.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { Evaluator } from "@vidpool/eval"
import { InvalidPoolOptions, VideoTensor } from "@vidpool/pool"
import { Coordinator, InvalidClusterOptions, WireError } from "../src/index.ts"
import { countingEvaluator, localLayer, makeCounter, makeSamples, type Sample, tempDir, uniqueName } from "./helpers.ts"

const metrics = ["common.psnr", "common.ssim", "common.frechet_distance"]

describe("Coordinator.evaluate", () => {
  const tmp = tempDir()
  let samples: Array<Sample> = []
  beforeAll(async () => {
    samples = await makeSamples(tmp.dir, 6)
  })
  afterAll(() => tmp.remove())

  it.live("refuses batch sizes, inFlight and run ids that cannot work, and tensors in samples, before sending a batch", () => {
    const counter = makeCounter()
    return Effect.gen(function*() {
      const refused = (options: Partial<Coordinator.ClusterEvaluateOptions>, input: ReadonlyArray<object> = samples) =>
        Effect.flip(Coordinator.evaluate(input, { metrics, onError: "fail", runId: uniqueName("options"), ...options }))
      for (const batchSize of [0, -1, 1.5, Number.NaN]) {
        const error = yield* refused({ batchSize })
        assert.instanceOf(error, InvalidClusterOptions)
        assert.include(error.message, "batchSize")
        assert.include(error.message, String(batchSize))
      }
      for (const inFlight of [0, -2, 2.5]) {
        const error = yield* refused({ inFlight })
        assert.instanceOf(error, InvalidClusterOptions)
        assert.include(error.message, "inFlight")
      }
      for (const runId of ["", "x".repeat(201)]) {
        const error = yield* refused({ runId })
        assert.instanceOf(error, InvalidClusterOptions)
        assert.include(error.message, "run id")
      }

      // A decoded tensor where a Video should be: a cluster sends paths, never pixels.
      const tensor = VideoTensor.makeUnsafe({
        data: new Uint8Array(2 * 4 * 4 * 3),
        shape: [2, 4, 4, 3],
        layout: "THWC",
        dtype: "uint8",
        fps: 10,
        source: { path: "memory" }
      })
      const withTensor = [samples[0], { video: samples[1].video, reference: tensor }]
      const error = yield* refused({}, withTensor)
      assert.instanceOf(error, InvalidClusterOptions)
      assert.include(error.message, `"reference"`)
      assert.include(error.message, "sample 1")
      assert.include(error.message, "tensor")

      // One metric name where a list is expected, a sample that is not an object, samples that
      // are not an array: the Evaluator's own typed refusals, naming the option or the sample.
      const letters = yield* refused({ metrics: "common.psnr" as never })
      assert.instanceOf(letters, InvalidPoolOptions)
      assert.strictEqual((letters as InvalidPoolOptions).option, "metrics")
      for (const bad of [null, 4, "clip.mp4"]) {
        const notObject = yield* refused({}, [samples[0], bad as never])
        assert.instanceOf(notObject, InvalidPoolOptions)
        assert.strictEqual((notObject as InvalidPoolOptions).option, "samples[1]")
      }
      const notArray = yield* refused({}, samples[0] as never)
      assert.strictEqual((notArray as InvalidPoolOptions).option, "samples")

      // Nothing reached the runner.
      assert.strictEqual(counter.total(), 0)
      // And the same layer still evaluates a good run (the refusals were checks, not a broken cluster).
      const ok = yield* Coordinator.evaluate(samples.slice(0, 2), { metrics: ["common.psnr"], onError: "fail", runId: uniqueName("ok") })
      assert.strictEqual(ok.samples.length, 2)
      assert.strictEqual(counter.total(), 1)
    }).pipe(Effect.provide(localLayer(countingEvaluator(counter))))
  })

  it.live("a run id started again with the same input is answered from storage; another input under it is evaluated", () => {
    const counter = makeCounter()
    return Effect.gen(function*() {
      const runId = uniqueName("restart")
      const options = { metrics, onError: "fail", runId, batchSize: 2 } as const
      const first = yield* Coordinator.evaluate(samples, options)
      assert.strictEqual(counter.total(), 3)
      for (const count of counter.calls.values()) assert.strictEqual(count, 1)

      // The same run again: the stored replies, not a second evaluation.
      const again = yield* Coordinator.evaluate(samples, options)
      assert.strictEqual(counter.total(), 3)
      assert.deepStrictEqual(again.samples, first.samples)
      assert.deepStrictEqual(again.corpus, first.corpus)
      assert.deepStrictEqual(again.partials, first.partials)

      // One sample of batch 1 changed (its generated clip swapped for another sample's): that
      // batch is evaluated, the two others are answered from storage.
      const changed = samples.map((s, i) => (i === 2 ? { ...s, video: samples[5].video } : s))
      const third = yield* Coordinator.evaluate(changed, options)
      assert.strictEqual(counter.total(), 4)
      const direct = yield* Evaluator.use((ev) => ev.evaluate(changed, { metrics, onError: "fail" }))
      assert.deepStrictEqual(third.samples, direct.samples)
      assert.notDeepEqual(third.samples[2], first.samples[2])
      assert.deepStrictEqual(third.samples[3], first.samples[3])

      // Other options under the same run id: every batch evaluated again, with those options.
      const psnrOnly = yield* Coordinator.evaluate(samples, { ...options, metrics: ["common.psnr"] })
      assert.strictEqual(counter.total(), 7)
      assert.deepStrictEqual(Object.keys(psnrOnly.samples[0].metrics), ["common.psnr"])
      assert.deepStrictEqual(psnrOnly.corpus, [])
      psnrOnly.samples.forEach((r, i) => assert.deepStrictEqual(r.metrics["common.psnr"], first.samples[i].metrics["common.psnr"]))
    }).pipe(Effect.provide(localLayer(countingEvaluator(counter))))
  })

  it.live("a sample field with no data form fails the run, naming the field, and sends nothing", () => {
    const counter = makeCounter()
    return Effect.gen(function*() {
      const exit = yield* Effect.exit(Coordinator.evaluate(
        [samples[0], { video: samples[1].video, reference: samples[1].reference, callback: () => 1 }],
        { metrics: ["common.psnr"], onError: "fail", runId: uniqueName("nodata") }
      ))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = Cause.squash(exit.cause)
        assert.instanceOf(error, WireError)
        assert.include((error as WireError).message, "callback")
        assert.include((error as WireError).message, "function")
      }
      assert.strictEqual(counter.total(), 0)
    }).pipe(Effect.provide(localLayer(countingEvaluator(counter))))
  })
})
