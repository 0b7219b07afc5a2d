import { assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import {
  DecodeError,
  InvalidData,
  InvalidPoolOptions,
  NotFound,
  TensorBuffers,
  Video,
  VideoDecoder,
  VideoPool,
  type VideoTensor
} from "@vidpool/pool"
import { makeTestDecode, testPixel } from "@vidpool/pool/testing"
import { fileURLToPath } from "node:url"
import { threadId } from "node:worker_threads"
import { BuiltinMetrics, Evaluator, FeatureExtractor, MetricError, MetricRegistry, type SampleResult, UnknownMetric } from "../src/index.ts"
import { threadsStartedBy } from "./support/threads.ts"

/** Every tensor the fake decoder handed to the pool, to check what became of it. */
const produced: Array<VideoTensor> = []
const fakeDecode = makeTestDecode({
  shape: [3, 16, 16, 3],
  script: {
    "missing.mp4": { fail: new NotFound() },
    "broken.mp4": { fail: new InvalidData({ detail: "moov atom not found" }) },
    "slow.mp4": { delay: "1 hour" }
  }
})
/**
 * How long the fake decoder takes for a video whose path starts with "wait-", on the real clock:
 * the timings a run reports are measured with it (`performance.now()`), so a decode that is to
 * count must take real time. Nothing waits on this to order events; latches do that.
 */
const decodeWaitMs = 80
/** Completed when a decode of "slow.mp4" starts. */
let slowStarted = Deferred.makeUnsafe<void>()
const Decoder = Layer.effect(
  VideoDecoder,
  Effect.map(TensorBuffers.make(), (buffers) =>
    VideoDecoder.of({
      decode: (video) =>
        Effect.andThen(
          video.path === "slow.mp4"
            ? Deferred.succeed(slowStarted, undefined)
            : video.path.startsWith("wait-") ? Effect.sleep(`${decodeWaitMs} millis`) : Effect.void,
          Effect.tap(fakeDecode(video), (t) => Effect.sync(() => produced.push(t)))
        ),
      buffers
    }))
)
const userMetrics = fileURLToPath(new URL("./fixtures/user-metrics.js", import.meta.url))
/** The options each `VideoPool.open` was called with. */
const opened: Array<unknown> = []
const RecordingPool = Layer.effect(
  VideoPool,
  Effect.map(VideoPool, (pool) =>
    VideoPool.of({
      open: (samples, options) => {
        opened.push(options)
        return pool.open(samples, options)
      }
    }))
).pipe(Layer.provide(VideoPool.layer))
const EvaluatorTest = Evaluator.layer.pipe(
  Layer.provide(RecordingPool),
  Layer.provideMerge(Decoder),
  Layer.provide(MetricRegistry.layerWith([userMetrics]))
)

/** Waits until another thread sets `cells[0]` (the user.hang metric's latch). */
const untilSet = (cells: Int32Array) =>
  Effect.promise(async () => {
    // Atomics.waitAsync is in Node 20, not in this project's TypeScript lib
    const waitAsync = (Atomics as unknown as {
      waitAsync: (cells: Int32Array, index: number, value: number) => { async: boolean; value: unknown }
    }).waitAsync
    const waiting = waitAsync(cells, 0, 0)
    if (waiting.async) await waiting.value
  })

/** The test Evaluator with these environment variables. */
const withEnv = (env: Record<string, string>) =>
  EvaluatorTest.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))

const pair = (i: number) => ({ video: Video.file(`gen-${i}.mp4`), reference: Video.file(`ref-${i}.mp4`), prompt: `p${i}` })
/** MSE of two fake videos: every pixel differs by the difference of their path hashes. */
const fakeMse = (i: number) => (testPixel(`gen-${i}.mp4`) - testPixel(`ref-${i}.mp4`)) ** 2

layer(EvaluatorTest, { excludeTestServices: true, timeout: "60 seconds" })("Evaluator", (it) => {
  it.effect("returns one result per input sample, in input order, with two workers", () =>
    Effect.gen(function*() {
      const samples = Array.from({ length: 12 }, (_, i) => pair(i))
      const results = yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["vidpool.mse_255"], workers: 2 }))
      assert.strictEqual(results.samples.length, 12)
      results.samples.forEach((s, i) => {
        assert.strictEqual(s.index, i)
        assert.strictEqual(s.metrics["vidpool.mse_255"].score, fakeMse(i))
      })
      assert.deepStrictEqual(Object.keys(results.summary), ["vidpool.mse_255"])
      assert.strictEqual(results.summary["vidpool.mse_255"].count, 12)
    }))

  it.effect("summarises each metric with count, mean, population std, min and max", () =>
    Effect.gen(function*() {
      const samples = [0, 1, 2, 3].map(pair)
      const results = yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["vidpool.mse_255"] }))
      const values = [0, 1, 2, 3].map(fakeMse)
      const mean = values.reduce((a, b) => a + b) / 4
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 4)
      const s = results.summary["vidpool.mse_255"]
      assert.strictEqual(s.count, 4)
      assert.approximately(s.mean, mean, 1e-9)
      assert.approximately(s.std, std, 1e-9)
      assert.strictEqual(s.min, Math.min(...values))
      assert.strictEqual(s.max, Math.max(...values))
    }))

  it.effect("computes metrics on worker threads, not on the main thread, and reuses them across calls", () =>
    Effect.gen(function*() {
      const ev = yield* Evaluator
      const first = yield* ev.evaluate([pair(0), pair(1)], { metrics: ["user.thread"] })
      const second = yield* ev.evaluate([pair(2)], { metrics: ["user.thread"] })
      const ids = [...first.samples, ...second.samples].map((s) => s.metrics["user.thread"])
      for (const r of ids) {
        assert.notStrictEqual(r.score, threadId)
        assert.strictEqual(r.details.isMainThread, false)
      }
      assert.strictEqual(new Set(ids.map((r) => r.score)).size, 1)
    }))

  it.effect("closes a worker whose call failed instead of reusing it", () =>
    Effect.gen(function*() {
      const ev = yield* Evaluator
      const before = yield* ev.evaluate([pair(0)], { metrics: ["user.thread"] })
      yield* Effect.flip(ev.evaluate([{ ...pair(1), explode: "yes" }], { metrics: ["user.boom"] }))
      const after = yield* ev.evaluate([pair(2)], { metrics: ["user.thread"] })
      assert.notStrictEqual(after.samples[0].metrics["user.thread"].score, before.samples[0].metrics["user.thread"].score)
    }))

  it.effect("returns empty results for no samples", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) => ev.evaluate([], { workers: 2 }))
      assert.deepStrictEqual(results.samples, [])
      assert.deepStrictEqual(results.summary, {})
    }))

  it.effect("stops at once when interrupted, with a decode in progress", () =>
    Effect.gen(function*() {
      slowStarted = Deferred.makeUnsafe<void>()
      const fiber = yield* Effect.forkChild(Evaluator.use((ev) => ev.evaluate([{ video: Video.file("slow.mp4") }, pair(1)])))
      yield* Deferred.await(slowStarted)
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Exit.hasInterrupts(exit))
    }))

  it.effect("transfers the decoded tensors to the workers instead of copying them", () =>
    Effect.gen(function*() {
      produced.length = 0
      yield* Evaluator.use((ev) => ev.evaluate([pair(0), pair(1), pair(2)], { metrics: ["common.psnr"], workers: 2 }))
      assert.strictEqual(produced.length, 6)
      // A transferred ArrayBuffer is detached on the sending side.
      for (const t of produced) assert.strictEqual(t.data.byteLength, 0)
    }))

  it.effect("a tensor a worker cannot receive fails its sample as data, and the others are scored", () =>
    Effect.gen(function*() {
      const odd = { data: new Int16Array(3 * 16 * 16 * 3), shape: [3, 16, 16, 3], layout: "THWC", dtype: "uint8", fps: 25, source: { path: "odd" } }
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([pair(0), { video: Video.file("gen-1.mp4"), reference: odd }], { metrics: ["vidpool.mse_255"], onError: "record" })
      )
      assert.strictEqual(results.samples[0].metrics["vidpool.mse_255"].score, fakeMse(0))
      assert.strictEqual(results.samples[1].error?._tag, "MetricError")
      assert.include(results.samples[1].error?.message ?? "", `the sample's field "reference" is not a VideoTensor a worker thread can receive`)
      assert.strictEqual(results.samples[1].metrics["vidpool.mse_255"].score, null)
    }))

  it.effect("gets the decoded memory back with the workers' replies, for the next decodes to reuse", () =>
    Effect.gen(function*() {
      const { buffers } = yield* VideoDecoder
      yield* buffers.clear
      const given = yield* fakeDecode(Video.file("given.mp4"))
      const samples = [pair(0), pair(1), { video: Video.file("gen-2.mp4"), reference: given }]
      yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["common.psnr"], workers: 2 }))
      const tensorBytes = 3 * 16 * 16 * 3
      // five decoded videos came back; the caller's own tensor went to the worker and stays there
      assert.strictEqual(yield* buffers.keptBytes, 5 * tensorBytes)
      assert.strictEqual(given.data.byteLength, 0)
      const reused = buffers.takeUnsafe(tensorBytes)
      assert.strictEqual(reused.byteLength, tensorBytes)
      assert.strictEqual(yield* buffers.keptBytes, 4 * tensorBytes)
      yield* buffers.clear
    }))

  it.effect("skips per-sample metrics for reference samples and feeds them to the set metrics", () =>
    Effect.gen(function*() {
      const samples = [
        { video: Video.file("g0.mp4") },
        { video: Video.file("r0.mp4"), role: "reference" as const },
        { video: Video.file("g1.mp4") },
        { video: Video.file("r1.mp4"), role: "reference" as const },
        { video: Video.file("g2.mp4"), reference: Video.file("ignored.mp4") }
      ]
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["user.count", "vbench.temporal_flickering", "common.frechet_distance"], workers: 2 })
      )
      assert.deepStrictEqual(results.corpus.map((r) => r.name), ["common.frechet_distance", "user.count"])
      assert.strictEqual(results.corpus[1].score, 3)
      // the distance the set metric gives over the same videos in one thread, in the same roles
      const fd = BuiltinMetrics.frechetDistance
      let acc = fd.init()
      const roles = [["g0.mp4", "generated"], ["r0.mp4", "reference"], ["g1.mp4", "generated"], ["r1.mp4", "reference"], ["g2.mp4", "generated"]] as const
      for (const [path, role] of roles) acc = fd.accumulate(acc, { video: yield* fakeDecode(Video.file(path)) }, role)
      const expected = fd.finalize(acc)
      assert.deepStrictEqual(results.corpus[0].details, expected.details)
      assert.approximately(results.corpus[0].score!, expected.score!, 1e-9 * Math.max(1, Math.abs(expected.score!)))
      assert.strictEqual(results.corpus[1].details.reference, 2)
      for (const i of [1, 3]) {
        const r = results.samples[i].metrics["vbench.temporal_flickering"]
        assert.strictEqual(r.score, null)
        assert.strictEqual(r.details.skipped, "reference sample: per-sample metrics are not computed")
      }
      for (const i of [0, 2, 4]) assert.strictEqual(results.samples[i].metrics["vbench.temporal_flickering"].score, 1)
    }))

  it.effect("uses the samples' reference fields as the reference set when no sample has the reference role", () =>
    Effect.gen(function*() {
      const samples = [pair(0), pair(1), { video: Video.file("alone.mp4") }]
      const results = yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["user.count"] }))
      assert.strictEqual(results.corpus[0].score, 3)
      assert.strictEqual(results.corpus[0].details.reference, 2)
    }))

  it.effect("gives a skipped result with the reason when a sample lacks a field the metric needs", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([{ video: Video.file("a.mp4") }, pair(1)], { metrics: ["common.psnr"] })
      )
      assert.deepStrictEqual(results.samples[0].metrics["common.psnr"], {
        name: "common.psnr",
        score: null,
        details: { skipped: `the sample has no "reference" field` }
      })
      assert.isNumber(results.samples[1].metrics["common.psnr"].score)
      assert.strictEqual(results.summary["common.psnr"].count, 1)
    }))

  it.effect("by default runs every metric whose fields the samples have", () =>
    Effect.gen(function*() {
      const ev = yield* Evaluator
      const alone = yield* ev.evaluate([{ video: Video.file("a.mp4") }, { video: Video.file("b.mp4") }])
      assert.deepStrictEqual(Object.keys(alone.samples[0].metrics), [
        "vbench.temporal_flickering",
        "motion.frame_difference",
        "quality.sharpness",
        "user.thread",
        "user.keepview"
      ])
      assert.deepStrictEqual(alone.corpus, [])
      const paired = yield* ev.evaluate([pair(0), pair(1)])
      assert.deepStrictEqual(Object.keys(paired.samples[0].metrics).slice(0, 6), [
        "common.mse",
        "common.psnr",
        "common.ssim",
        "vidpool.mse_255",
        "vidpool.psnr_255",
        "vidpool.ssim_luma"
      ])
      assert.deepStrictEqual(paired.corpus.map((r) => r.name), ["common.frechet_distance", "user.count"])
    }))

  it.effect("fails with UnknownMetric, listing the known metrics, for a name nothing matches", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { metrics: ["common.vmaf"] })))
      assert.instanceOf(error, UnknownMetric)
      assert.include(error.message, `Unknown metric "common.vmaf"`)
      assert.include(error.message, "common.ssim")
      assert.include(error.message, "user.count")
    }))

  it.effect("onError \"fail\": the first DecodeError ends the call, interrupting a loader still at work", () =>
    Effect.gen(function*() {
      const samples = [{ video: Video.file("slow.mp4") }, { video: Video.file("missing.mp4") }, pair(2)]
      const error = yield* Effect.flip(Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["vidpool.mse_255"], loaderThreads: 2 })
      ))
      assert.instanceOf(error, DecodeError)
      const decode = error as DecodeError
      assert.strictEqual(decode.index, 1)
      assert.strictEqual(decode.path, "missing.mp4")
      assert.strictEqual(decode.reason._tag, "NotFound")
    }))

  it.effect("onError \"record\": the failed sample carries its error and every other sample is scored", () =>
    Effect.gen(function*() {
      const samples = [pair(0), { video: Video.file("broken.mp4"), reference: Video.file("r.mp4") }, pair(2), pair(3)]
      const seen: Array<number> = []
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(samples, {
          metrics: ["vidpool.mse_255"],
          workers: 2,
          onError: "record",
          onResult: (r) => Effect.sync(() => seen.push(r.index))
        })
      )
      const failed = results.samples[1]
      assert.deepStrictEqual(failed.metrics, {})
      assert.strictEqual(failed.error?._tag, "DecodeError")
      assert.include(failed.error?.message, "broken.mp4")
      assert.include(failed.error?.message, "moov atom not found")
      assert.strictEqual(failed.error?.path, "broken.mp4")
      assert.strictEqual(failed.error?.key, "video")
      assert.strictEqual(failed.error?.reason, "InvalidData")
      for (const i of [0, 2, 3]) assert.strictEqual(results.samples[i].metrics["vidpool.mse_255"].score, fakeMse(i))
      assert.strictEqual(results.summary["vidpool.mse_255"].count, 3)
      assert.deepStrictEqual(seen.sort(), [0, 1, 2, 3])
    }))

  it.effect("a metric that throws fails the call with a MetricError naming the metric and the sample", () =>
    Effect.gen(function*() {
      const samples = [{ ...pair(0), explode: "no" }, { ...pair(1), explode: "yes" }]
      const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["user.boom"] })))
      assert.instanceOf(error, MetricError)
      assert.strictEqual(error.message, "Metric user.boom failed on sample 1: exploded on purpose")
    }))

  it.effect("with onError \"record\", a throwing metric is recorded on its sample; its other metrics and the other samples are kept", () =>
    Effect.gen(function*() {
      const samples = [{ ...pair(0), explode: "no" }, { ...pair(1), explode: "yes" }, { ...pair(2), explode: "no" }]
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["user.boom", "vidpool.mse_255"], onError: "record" })
      )
      const message = "Metric user.boom failed on sample 1: exploded on purpose"
      const failed = results.samples[1]
      assert.deepStrictEqual(failed.error, {
        _tag: "MetricError",
        message,
        metric: "user.boom",
        detail: "exploded on purpose"
      })
      assert.deepStrictEqual(failed.metrics["user.boom"], {
        name: "user.boom",
        score: null,
        details: { error: { _tag: "MetricError", message, metric: "user.boom", detail: "exploded on purpose" } }
      })
      // the metric that did not throw keeps its result on the failed sample
      assert.strictEqual(failed.metrics["vidpool.mse_255"].score, fakeMse(1))
      assert.strictEqual(results.samples[0].metrics["user.boom"].score, 0)
      assert.strictEqual(results.samples[2].metrics["vidpool.mse_255"].score, fakeMse(2))
      assert.strictEqual(results.summary["vidpool.mse_255"].count, 3)
      assert.strictEqual(results.summary["user.boom"].count, 2)
    }))

  it.effect("with onError \"record\", a set metric that throws on a sample leaves it out of every set metric", () =>
    Effect.gen(function*() {
      const samples = [0, 1, 2, 3].map((i) => ({ ...pair(i), explode: i === 2 ? "yes" : "no" }))
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["user.count", "user.setboom", "vidpool.mse_255"], onError: "record" })
      )
      // user.count runs before user.setboom on each sample; sample 2 must not count for it either
      assert.deepStrictEqual(results.corpus.map((r) => [r.name, r.score]), [["user.count", 3], ["user.setboom", 3]])
      assert.strictEqual(results.corpus[0].details.reference, 3)
      assert.deepStrictEqual(results.samples[2].error, {
        _tag: "MetricError",
        message: "Metric user.setboom failed on sample 2: set exploded on purpose",
        metric: "user.setboom",
        detail: "set exploded on purpose"
      })
      assert.strictEqual(results.samples[2].metrics["vidpool.mse_255"].score, fakeMse(2))
      for (const i of [0, 1, 3]) assert.isUndefined(results.samples[i].error)
    }))

  it.effect("with onError \"fail\", a set metric that throws fails the call with its MetricError", () =>
    Effect.gen(function*() {
      const samples = [0, 1].map((i) => ({ ...pair(i), explode: i === 1 ? "yes" : "no" }))
      const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["user.count", "user.setboom"] })))
      assert.instanceOf(error, MetricError)
      assert.strictEqual(error.message, "Metric user.setboom failed on sample 1: set exploded on purpose")
    }))

  it.effect("with onError \"record\", a worker thread that dies fails only its sample; a new thread takes the next ones", () =>
    Effect.gen(function*() {
      const samples = [0, 1, 2, 3].map((i) => ({ ...pair(i), crash: i === 1 ? "yes" : "no" }))
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["user.crash", "vidpool.mse_255", "user.count"], onError: "record" })
      )
      const failed = results.samples[1]
      assert.strictEqual(failed.error?._tag, "MetricError")
      assert.strictEqual(failed.error?.metric, "vidpool.mse_255, user.crash, user.count")
      assert.match(failed.error?.message ?? "", /^Metric vidpool\.mse_255, user\.crash, user\.count failed on sample 1: the worker thread computing it stopped: /)
      // each metric of the sample records the error
      for (const name of ["vidpool.mse_255", "user.crash"]) {
        assert.strictEqual(failed.metrics[name].name, name)
        assert.strictEqual(failed.metrics[name].score, null)
        assert.strictEqual((failed.metrics[name].details.error as { message: string }).message, failed.error?.message)
      }
      for (const i of [0, 2, 3]) {
        assert.isUndefined(results.samples[i].error)
        assert.strictEqual(results.samples[i].metrics["vidpool.mse_255"].score, fakeMse(i))
      }
      // samples 2 and 3 ran on a new thread
      const before = results.samples[0].metrics["user.crash"].score
      assert.notStrictEqual(results.samples[2].metrics["user.crash"].score, before)
      assert.strictEqual(results.samples[3].metrics["user.crash"].score, results.samples[2].metrics["user.crash"].score)
      // the set metric lost nothing but the sample the thread died on, including what the dead thread had seen
      assert.strictEqual(results.corpus[0].score, 3)
      assert.strictEqual(results.corpus[0].details.reference, 3)
    }))

  it.effect("with onError \"fail\", a worker thread that dies fails the call with a MetricError for its sample", () =>
    Effect.gen(function*() {
      const samples = [0, 1].map((i) => ({ ...pair(i), crash: i === 1 ? "yes" : "no" }))
      const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["user.crash"] })))
      assert.instanceOf(error, MetricError)
      assert.strictEqual((error as MetricError).metric, "user.crash")
      assert.strictEqual((error as MetricError).index, 1)
      assert.include(error.message, "the worker thread computing it stopped")
    }))

  it.effect("calls onResult once per sample as each finishes", () =>
    Effect.gen(function*() {
      const seen: Array<SampleResult> = []
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([0, 1, 2, 3, 4].map(pair), {
          metrics: ["vidpool.mse_255"],
          workers: 2,
          onResult: (r) => Effect.sync(() => seen.push(r))
        })
      )
      assert.deepStrictEqual(seen.map((r) => r.index).sort(), [0, 1, 2, 3, 4])
      for (const r of seen) assert.deepStrictEqual(r, results.samples[r.index])
    }))

  it.effect("evaluateOne scores a single sample", () =>
    Effect.gen(function*() {
      const result = yield* Evaluator.use((ev) => ev.evaluateOne(pair(5), { metrics: ["vidpool.mse_255", "vidpool.ssim_luma"] }))
      assert.strictEqual(result.index, 0)
      assert.strictEqual(result.metrics["vidpool.mse_255"].score, fakeMse(5))
      // Both fake videos are flat (one grey each, a and b): every window has no variance, so
      // SSIM is (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 x 255)^2, whatever the window.
      const a = testPixel("gen-5.mp4")
      const b = testPixel("ref-5.mp4")
      const c1 = (0.01 * 255) ** 2
      assert.notStrictEqual(a, b)
      assert.approximately(result.metrics["vidpool.ssim_luma"].score!, (2 * a * b + c1) / (a * a + b * b + c1), 1e-12)
    }))

  it.effect("reports timings: wall clock, decode, compute and waiting on the pool", () =>
    Effect.gen(function*() {
      const waiting = (i: number) => ({ video: Video.file(`wait-gen-${i}.mp4`), reference: Video.file(`wait-ref-${i}.mp4`) })
      const { timing } = yield* Evaluator.use((ev) => ev.evaluate([0, 1, 2].map(waiting), { metrics: ["common.ssim"] }))
      // six decodes of at least 80 ms each, one at a time
      assert.isAtLeast(timing.decodeMs, 6 * decodeWaitMs - 1)
      assert.isAtMost(timing.decodeMs, timing.wallMs)
      assert.isAtLeast(timing.wallMs, 6 * decodeWaitMs - 1)
      // the consumer waited for the first sample's two decodes at least
      assert.isAtLeast(timing.waitMs, 2 * decodeWaitMs - 1)
      assert.isAbove(timing.computeMs, 0)
      assert.isAtMost(timing.computeMs, timing.wallMs)
    }))

  it.effect("times each run's own decodes, whatever another run decodes at the same time", () =>
    Effect.gen(function*() {
      const ev = yield* Evaluator
      const waiting = (i: number) => ({ video: Video.file(`wait-gen-${i}.mp4`), reference: Video.file(`wait-ref-${i}.mp4`) })
      // The fast run cannot end before the slow one has: its first result waits for it. So every
      // slow decode ends while the fast run is open, and would count there if runs shared a clock.
      const slowDone = yield* Deferred.make<void>()
      let fastResults = 0
      const [slow, fast] = yield* Effect.all([
        ev.evaluate([0, 1, 2].map(waiting), { metrics: ["vidpool.mse_255"] }).pipe(Effect.tap(() => Deferred.succeed(slowDone, undefined))),
        ev.evaluate([0, 1, 2].map(pair), {
          metrics: ["vidpool.mse_255"],
          onResult: () => Effect.suspend(() => fastResults++ === 0 ? Deferred.await(slowDone) : Effect.void)
        })
      ], { concurrency: 2 })
      assert.strictEqual(fastResults, 3)
      assert.isAtLeast(slow.timing.decodeMs, 6 * decodeWaitMs - 1)
      // Six instant decodes; the slow run's six would add 480 ms.
      assert.isBelow(fast.timing.decodeMs, 3 * decodeWaitMs)
    }))
})

describe("Evaluator options", () => {
  layer(EvaluatorTest, { excludeTestServices: true })((it) => {
    it.effect("refuses a worker count that is not a positive integer with a typed error", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { workers: 0 })))
        assert.strictEqual(error._tag, "InvalidPoolOptions")
        assert.include(error.message, "workers must be an integer from 1 to 4096")
      }))

    it.effect("refuses one metric name where a list is expected, naming the option, instead of reading its letters", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { metrics: "quality.sharpness" as never })))
        assert.instanceOf(error, InvalidPoolOptions)
        const invalid = error as InvalidPoolOptions
        assert.strictEqual(invalid.option, "metrics")
        assert.strictEqual(invalid.value, "quality.sharpness")
        assert.include(invalid.message, `metrics must be a list of metric names or prefixes, such as ["common.psnr"]`)
        // A list of something other than names, and options that are not an object, the same way.
        const numbers = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { metrics: [1] as never })))
        assert.strictEqual((numbers as InvalidPoolOptions).option, "metrics")
        const text = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], "psnr" as never)))
        assert.strictEqual((text as InvalidPoolOptions).option, "options")
        const role = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { referenceSamples: "yes" as never })))
        assert.strictEqual((role as InvalidPoolOptions).option, "referenceSamples")
        const callback = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0)], { onResult: "log" as never })))
        assert.strictEqual((callback as InvalidPoolOptions).option, "onResult")
      }))

    it.effect("refuses a sample that is not an object with a typed error naming its index", () =>
      Effect.gen(function*() {
        for (const bad of [null, undefined, 3, "clip.mp4", [Video.file("gen-0.mp4")]]) {
          const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate([pair(0), pair(1), bad as never])))
          assert.instanceOf(error, InvalidPoolOptions)
          const invalid = error as InvalidPoolOptions
          assert.strictEqual(invalid.option, "samples[2]")
          assert.strictEqual(invalid.value, bad)
          assert.include(invalid.message, `samples[2] must be an object of fields, such as { video: Video.file("a.mp4") }`)
        }
        // evaluateOne of null, and samples that are not an array.
        const one = yield* Effect.flip(Evaluator.use((ev) => ev.evaluateOne(null as never)))
        assert.strictEqual((one as InvalidPoolOptions).option, "samples[0]")
        for (const samples of [null, pair(0), "gen-0.mp4"]) {
          const error = yield* Effect.flip(Evaluator.use((ev) => ev.evaluate(samples as never)))
          assert.instanceOf(error, InvalidPoolOptions)
          assert.strictEqual((error as InvalidPoolOptions).option, "samples")
        }
      }))
  })
})

describe("Evaluator interrupted while a metric runs", () => {
  // it.effect runs on the TestClock, which never advances here: a worker asked to close and
  // waited for (5 s, on that clock) would keep the layer's scope from closing for good.
  it.effect("terminates the busy worker thread at once, so the layer's scope closes without waiting for it", () =>
    Effect.gen(function*() {
      const latch = new SharedArrayBuffer(8)
      const cells = new Int32Array(latch)
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(EvaluatorTest, scope)
      const fiber = yield* Effect.forkChild(
        Evaluator.use((ev) => ev.evaluate([{ ...pair(0), latch }], { metrics: ["user.hang"] })).pipe(
          Effect.provideContext(context)
        )
      )
      // the metric is running on its worker thread
      yield* untilSet(cells)
      yield* Fiber.interrupt(fiber)
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
    }), 20_000)
})

describe("Evaluator pool size", () => {
  layer(EvaluatorTest, { excludeTestServices: true })((it) => {
    it.effect("opens the pool with maxSize = prefetchFactor x workers, whatever the loaders", () =>
      Effect.gen(function*() {
        const ev = yield* Evaluator
        opened.length = 0
        yield* ev.evaluate([pair(0), pair(1)], { metrics: ["vidpool.mse_255"], workers: 2, prefetchFactor: 3, loaderThreads: 2 })
        yield* ev.evaluate([pair(0)], { metrics: ["vidpool.mse_255"], loaderThreads: 1 })
        assert.deepStrictEqual(opened.map((o) => (o as { maxSize: number }).maxSize), [6, 2])
        assert.deepStrictEqual(opened.map((o) => (o as { loaderThreads: number }).loaderThreads), [2, 1])
      }))
  })
})

describe("Evaluator workers and loaders beyond the samples", () => {
  // A fresh Evaluator for each run (no idle thread of an earlier call to reuse), on the real clock.
  it.live("starts one metric worker thread per sample at most, whatever `workers` asks", () =>
    Effect.gen(function*() {
      const started = yield* threadsStartedBy(
        Evaluator.use((ev) => ev.evaluate([pair(0), pair(1)], { metrics: ["vidpool.mse_255"], workers: 8 })).pipe(
          Effect.provide(EvaluatorTest, { local: true })
        )
      )
      assert.strictEqual(started, 2)
    }), 60_000)

  it.live("opens the pool with loaders and slots for the samples there are", () =>
    Effect.gen(function*() {
      opened.length = 0
      yield* Evaluator.use((ev) =>
        ev.evaluate([pair(0), pair(1)], { metrics: ["vidpool.mse_255"], workers: 8, loaderThreads: 16, prefetchFactor: 3 })
      ).pipe(Effect.provide(EvaluatorTest, { local: true }))
      assert.deepStrictEqual(opened, [{ loaderThreads: 2, maxSize: 6, order: "completion" }])
    }), 60_000)
})

describe("Evaluator with a plugged FeatureExtractor", () => {
  const extractorModule = fileURLToPath(new URL("./fixtures/extractor.js", import.meta.url))
  const WithExtractor = Evaluator.layer.pipe(
    Layer.provide(VideoPool.layer),
    Layer.provide(Decoder),
    Layer.provide(MetricRegistry.layerWithExtractor().pipe(Layer.provide(FeatureExtractor.layerModule(extractorModule))))
  )
  /** Mean and unbiased standard deviation. */
  const moments = (xs: ReadonlyArray<number>) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) }
  }
  layer(WithExtractor, { excludeTestServices: true })((it) => {
    it.effect("common.frechet_distance uses it, on the worker threads: the 1-D closed form of its features", () =>
      Effect.gen(function*() {
        const samples = [0, 1, 2, 3, 4].map(pair)
        const results = yield* Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["common.frechet_distance"], workers: 2 }))
        // the fake decoder fills each video with one value: the extractor's feature
        const g = moments([0, 1, 2, 3, 4].map((i) => testPixel(`gen-${i}.mp4`)))
        const r = moments([0, 1, 2, 3, 4].map((i) => testPixel(`ref-${i}.mp4`)))
        const [fd] = results.corpus
        assert.strictEqual(fd.name, "common.frechet_distance")
        assert.deepStrictEqual(fd.details, { extractor: "first-byte", generated: 5, reference: 5 })
        assert.approximately(fd.score!, (g.mean - r.mean) ** 2 + (g.sd - r.sd) ** 2, 1e-6)
      }))
  })
  layer(EvaluatorTest, { excludeTestServices: true })((it) => {
    it.effect("without it, the built-in colour and motion statistics give another distance", () =>
      Effect.gen(function*() {
        const results = yield* Evaluator.use((ev) => ev.evaluate([0, 1, 2, 3, 4].map(pair), { metrics: ["common.frechet_distance"] }))
        assert.strictEqual(results.corpus[0].details.extractor, "colour-motion-stats")
        const g = moments([0, 1, 2, 3, 4].map((i) => testPixel(`gen-${i}.mp4`)))
        const r = moments([0, 1, 2, 3, 4].map((i) => testPixel(`ref-${i}.mp4`)))
        assert.isAbove(Math.abs(results.corpus[0].score! - ((g.mean - r.mean) ** 2 + (g.sd - r.sd) ** 2)), 1)
      }))
  })
  it.effect("an extractor without a module the workers can load fails the layer with a MetricError saying so", () =>
    Effect.gen(function*() {
      const NoModule = Evaluator.layer.pipe(
        Layer.provide(VideoPool.layer),
        Layer.provide(Decoder),
        Layer.provide(MetricRegistry.layerWithExtractor().pipe(
          Layer.provide(Layer.succeed(FeatureExtractor, { name: "inline", dimension: 1, extract: () => [0] }))
        ))
      )
      const error = yield* Effect.flip(Layer.build(NoModule).pipe(Effect.scoped))
      assert.instanceOf(error, MetricError)
      assert.include(error.message, "the feature extractor inline has no module for the worker threads to load")
    }))
  it.effect("FeatureExtractor.layerModule fails with a MetricError naming a module that exports no extractor", () =>
    Effect.gen(function*() {
      const bad = fileURLToPath(new URL("./fixtures/not-metrics.js", import.meta.url))
      const error = yield* Effect.flip(Layer.build(FeatureExtractor.layerModule(bad)).pipe(Effect.scoped))
      assert.instanceOf(error, MetricError)
      assert.include(error.message, "not-metrics.js")
      assert.include(error.message, `exports no "extractor"`)
    }))
})

describe("Evaluator defaults from the environment", () => {
  const WithEnv = withEnv({ VIDPOOL_ON_ERROR: "record", VIDPOOL_WORKERS: "2" })
  layer(WithEnv, { excludeTestServices: true })((it) => {
    it.effect("VIDPOOL_WORKERS=2 runs two consumers unless the call says otherwise", () =>
      Effect.gen(function*() {
        const ev = yield* Evaluator
        opened.length = 0
        yield* ev.evaluate([pair(0), pair(1)], { metrics: ["vidpool.mse_255"] })
        yield* ev.evaluate([pair(0)], { metrics: ["vidpool.mse_255"], workers: 1 })
        // the pool's maxSize is prefetchFactor (2) x workers
        assert.deepStrictEqual(opened.map((o) => (o as { maxSize: number }).maxSize), [4, 2])
      }))

    it.effect("VIDPOOL_ON_ERROR=record records failures when the call does not say otherwise", () =>
      Effect.gen(function*() {
        const ev = yield* Evaluator
        const samples = [{ video: Video.file("missing.mp4"), reference: Video.file("r.mp4") }, pair(1)]
        const recorded = yield* ev.evaluate(samples, { metrics: ["vidpool.mse_255"] })
        assert.strictEqual(recorded.samples[0].error?._tag, "DecodeError")
        assert.strictEqual(recorded.samples[1].metrics["vidpool.mse_255"].score, fakeMse(1))
        const failed = yield* Effect.flip(ev.evaluate(samples, { metrics: ["vidpool.mse_255"], onError: "fail" }))
        assert.instanceOf(failed, DecodeError)
      }))
  })
})

describe("Evaluator recycling decoded memory through the decoder's free list", () => {
  /** For each decode: whether the free list had memory to give (a recycled buffer) when it began. */
  const reusedAtDecode: Array<boolean> = []
  const Recycling = Layer.effect(
    VideoDecoder,
    Effect.map(TensorBuffers.make(), (buffers) =>
      VideoDecoder.of({
        decode: (video) =>
          Effect.gen(function*() {
            const made = yield* fakeDecode(video)
            reusedAtDecode.push((yield* buffers.keptBytes) >= made.data.byteLength)
            const data = buffers.takeUnsafe(made.data.byteLength)
            data.set(made.data)
            return { ...made, data }
          }),
        buffers
      }))
  )
  const WithRecycling = Evaluator.layer.pipe(
    Layer.provide(VideoPool.layer),
    Layer.provideMerge(Recycling),
    Layer.provide(MetricRegistry.layerWith([userMetrics]))
  )
  layer(WithRecycling, { excludeTestServices: true })((it) => {
    it.effect("the next decodes take the memory the workers handed back, and the scores stay right", () =>
      Effect.gen(function*() {
        reusedAtDecode.length = 0
        const ev = yield* Evaluator
        const first = yield* ev.evaluate([pair(0), pair(1)], { metrics: ["vidpool.mse_255"], workers: 1, prefetchFactor: 1 })
        assert.deepStrictEqual(first.samples.map((s) => s.metrics["vidpool.mse_255"].score), [fakeMse(0), fakeMse(1)])
        reusedAtDecode.length = 0
        const second = yield* ev.evaluate([pair(2), pair(3)], { metrics: ["vidpool.mse_255"], workers: 1, prefetchFactor: 1 })
        assert.deepStrictEqual(second.samples.map((s) => s.metrics["vidpool.mse_255"].score), [fakeMse(2), fakeMse(3)])
        // every decode of the second call found memory given back by the first call's workers
        assert.deepStrictEqual(reusedAtDecode, [true, true, true, true])
      }))

    it.effect("memory a metric's result still views is not handed back, and the result keeps its bytes", () =>
      Effect.gen(function*() {
        const { buffers } = yield* VideoDecoder
        yield* buffers.clear
        const results = yield* ev0([pair(0), pair(1)])
        const tensorBytes = 3 * 16 * 16 * 3
        // the references came back, the videos (viewed by user.keepview's results) did not
        assert.strictEqual(yield* buffers.keptBytes, 2 * tensorBytes)
        buffers.takeUnsafe(tensorBytes).fill(7)
        buffers.takeUnsafe(tensorBytes).fill(7)
        results.samples.forEach((s, i) => {
          const head = s.metrics["user.keepview"].details.head as Uint8Array
          assert.deepStrictEqual(Array.from(head), new Array(4).fill(testPixel(`gen-${i}.mp4`)))
        })
      }))
  })
  const ev0 = (samples: ReadonlyArray<object>) => Evaluator.use((ev) => ev.evaluate(samples, { metrics: ["user.keepview"] }))
})

describe("Evaluator with memory a decoder lends", () => {
  /** Releases of lent memory, by path. */
  const released: Array<string> = []
  const buffers = TensorBuffers.makeUnsafe()
  const lend = (tensor: VideoTensor, name: string) => {
    buffers.lendUnsafe(tensor.data, () => released.push(name))
    return tensor
  }
  const Lending = Layer.succeed(
    VideoDecoder,
    VideoDecoder.of({
      decode: (video) => Effect.map(fakeDecode(video), (t) => lend(t, video.path)),
      buffers
    })
  )
  const WithLending = Evaluator.layer.pipe(
    Layer.provide(VideoPool.layer),
    Layer.provide(Lending),
    Layer.provide(MetricRegistry.layerWith([userMetrics]))
  )
  layer(WithLending, { excludeTestServices: true })((it) => {
    it.effect("hands back what the pool decoded after the worker replies, never a tensor the caller gave", () =>
      Effect.gen(function*() {
        released.length = 0
        const ev = yield* Evaluator
        const given = lend(yield* fakeDecode(Video.file("ref-0.mp4")), "given")
        const samples = [{ video: Video.file("gen-0.mp4"), reference: given }, pair(1)]
        const results = yield* ev.evaluate(samples, { metrics: ["vidpool.mse_255"], workers: 1 })
        assert.strictEqual(results.samples[0].metrics["vidpool.mse_255"].score, fakeMse(0))
        assert.sameMembers(released, ["gen-0.mp4", "gen-1.mp4", "ref-1.mp4"])
        assert.isTrue(buffers.isLent(given.data))
      }))

    it.effect("hands back the lent memory of the sample whose metric failed the run", () =>
      Effect.gen(function*() {
        released.length = 0
        const ev = yield* Evaluator
        const error = yield* Effect.flip(ev.evaluate([{ ...pair(0), explode: "yes" }], { metrics: ["user.boom"], onError: "fail" }))
        assert.strictEqual(error._tag, "MetricError")
        assert.sameMembers(released, ["gen-0.mp4", "ref-0.mp4"])
      }))

    it.effect("hands back the lent memory a worker thread held when it died, and the next sample gets a new thread", () =>
      Effect.gen(function*() {
        released.length = 0
        const ev = yield* Evaluator
        const results = yield* ev.evaluate([{ ...pair(0), crash: "yes" }, { ...pair(1), crash: "no" }], {
          metrics: ["user.crash"],
          onError: "record",
          workers: 1
        })
        assert.strictEqual(results.samples[0].error?._tag, "MetricError")
        assert.isNumber(results.samples[1].metrics["user.crash"].score)
        assert.sameMembers(released, ["gen-0.mp4", "ref-0.mp4", "gen-1.mp4", "ref-1.mp4"])
      }), 20_000)

    it.effect("hands back the lent memory of a sample whose metric was interrupted, once its worker is gone", () =>
      Effect.gen(function*() {
        released.length = 0
        const latch = new SharedArrayBuffer(8)
        const cells = new Int32Array(latch)
        const ev = yield* Evaluator
        const fiber = yield* Effect.forkChild(ev.evaluate([{ ...pair(0), latch }], { metrics: ["user.hang"] }))
        yield* untilSet(cells)
        assert.deepStrictEqual(released, [])
        yield* Fiber.interrupt(fiber)
        assert.sameMembers(released, ["gen-0.mp4", "ref-0.mp4"])
      }), 20_000)
  })
})

describe("Evaluator defaults from the environment, decoded with its options' Schema", () => {
  const WithBadEnv = withEnv({ VIDPOOL_WORKERS: "many", VIDPOOL_ON_ERROR: "sometimes" })
  layer(WithBadEnv, { excludeTestServices: true })((it) => {
    it.effect("a bad variable fails the call with InvalidPoolOptions naming the option, and an option given overrides it", () =>
      Effect.gen(function*() {
        const ev = yield* Evaluator
        const error = yield* Effect.flip(ev.evaluate([pair(0)], { metrics: ["vidpool.mse_255"] }))
        assert.strictEqual(error._tag, "InvalidPoolOptions")
        if (error._tag === "InvalidPoolOptions") {
          assert.strictEqual(error.option, "workers")
          assert.strictEqual(error.value, "many")
        }
        const results = yield* ev.evaluate([pair(0)], { metrics: ["vidpool.mse_255"], workers: 1, onError: "fail" })
        assert.strictEqual(results.samples[0].metrics["vidpool.mse_255"].score, fakeMse(0))
      }))
  })
})
