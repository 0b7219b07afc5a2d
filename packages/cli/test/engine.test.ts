// The command's engine in this process (not through the bin): built once, it keeps one Evaluator
// per decoder, so later evaluations run on the metric worker threads the first one started; and
// its errors stay the tagged values they are.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { MetricRegistry, UnknownMetric } from "@vidpool/eval"
import { Video, VideoDecoder } from "@vidpool/pool"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Engine, type EvalOptions } from "../src/Engine.ts"
import * as EngineLive from "../src/EngineLive.ts"
import { threadsStartedBy } from "../../eval/test/support/threads.ts"
import { makeClip, removeDir, tempDir } from "./helpers.ts"

// A metric module whose `user.thread` scores a sample with the id of the thread that computed it.
const userMetrics = fileURLToPath(new URL("../../eval/test/fixtures/user-metrics.js", import.meta.url))

describe("EngineLive", () => {
  let dir: string
  let clip: string
  beforeAll(async () => {
    dir = tempDir()
    clip = await makeClip(path.join(dir, "clip.mp4"), { frames: 4 })
  })
  afterAll(() => removeDir(dir))

  const options: EvalOptions = { metrics: ["user.thread"], workers: 1, onError: "fail", decoder: "ffmpeg", onResult: () => Effect.void }
  const threadOf = (outcome: { readonly samples: ReadonlyArray<{ readonly metrics: Record<string, { readonly score: number | null }> }> }) =>
    outcome.samples[0].metrics["user.thread"].score

  it.effect("builds the Evaluator once: a second evaluation runs on the worker thread of the first", () =>
    Effect.gen(function*() {
      const engine = yield* Engine
      const first = yield* engine.evaluate([{ video: Video.file(clip) }], options)
      const second = yield* engine.evaluate([{ video: Video.file(clip) }], options)
      // a worker thread, not the main one (whose id is 0)
      assert.isAbove(threadOf(first)!, 0)
      assert.strictEqual(threadOf(second), threadOf(first))
    }).pipe(Effect.provide(EngineLive.layerWith(MetricRegistry.layerWith([userMetrics])))))

  it.effect("a fresh engine starts its own worker threads", () =>
    Effect.gen(function*() {
      const run = Engine.use((engine) => engine.evaluate([{ video: Video.file(clip) }], options))
      const layer = EngineLive.layerWith(MetricRegistry.layerWith([userMetrics]))
      const one = yield* Effect.provide(run, layer)
      const other = yield* Effect.provide(run, Layer.fresh(layer))
      assert.notStrictEqual(threadOf(other), threadOf(one))
    }))

  it.live("starts no more metric worker threads than there are samples, whatever --workers asks", () =>
    Effect.gen(function*() {
      const started = yield* threadsStartedBy(
        Engine.use((engine) => engine.evaluate([{ video: Video.file(clip) }], { ...options, workers: 4096, loaderThreads: 64 })).pipe(
          Effect.provide(EngineLive.layerWith(MetricRegistry.layerWith([userMetrics])), { local: true })
        )
      )
      assert.strictEqual(started, 1)
    }), 60_000)

  it.effect("resolves short names by the registry's rule and fails with the UnknownMetric itself", () =>
    Effect.gen(function*() {
      const engine = yield* Engine
      assert.deepStrictEqual(yield* engine.resolveMetrics(["psnr", "sharp"]), ["common.psnr", "quality.sharpness"])
      const error = yield* Effect.flip(engine.resolveMetrics(["vmaf"]))
      assert.instanceOf(error, UnknownMetric)
      assert.strictEqual(error.name, "vmaf")
      const failed = yield* Effect.flip(engine.evaluate([{ video: Video.file(clip) }], { ...options, metrics: ["nope"] }))
      assert.instanceOf(failed, UnknownMetric)
    }).pipe(Effect.provide(EngineLive.layer)))

  it.effect("builds each decoder once: the report's decodes and the evaluations of a choice share it, and its free list", () =>
    Effect.gen(function*() {
      const built: Array<string> = []
      const services: Array<VideoDecoder["Service"]> = []
      // A fake decoder per choice that counts its builds.
      const decoderOf: EngineLive.DecoderOf = (choice) =>
        Layer.effect(
          VideoDecoder,
          Effect.andThen(
            Effect.sync(() => built.push(choice)),
            Effect.tap(Effect.service(VideoDecoder), (service) => Effect.sync(() => services.push(service)))
          )
        ).pipe(Layer.provide(VideoDecoder.layerTest()))
      const tensorBytes = 2 * 4 * 4 * 3
      const program = Effect.gen(function*() {
        const engine = yield* Engine
        const psnr: EvalOptions = { ...options, metrics: ["common.psnr"], decoder: "auto" }
        const sample = { video: Video.file("gen.mp4"), reference: Video.file("ref.mp4") }
        const outcome = yield* engine.evaluate([sample], psnr)
        assert.strictEqual(outcome.samples.length, 1)
        // The evaluation gave the sample's memory back to that decoder's free list ...
        const { buffers } = services[0]
        assert.strictEqual(yield* buffers.keptBytes, 2 * tensorBytes)
        // ... from which the engine's own decode (the report's pictures) takes.
        const tensor = yield* engine.decode(Video.file("gen.mp4"), "auto")
        assert.strictEqual(yield* buffers.keptBytes, tensorBytes)
        yield* engine.evaluate([sample], psnr)
        assert.deepStrictEqual(built, ["auto"])
        // Another choice is another decoder.
        yield* engine.decode(Video.file("gen.mp4"), "ffmpeg")
        assert.deepStrictEqual(built, ["auto", "ffmpeg"])
        return tensor
      })
      const tensor = yield* program.pipe(Effect.provide(EngineLive.layerWith(MetricRegistry.layer, decoderOf)))
      assert.deepStrictEqual(tensor.shape, [2, 4, 4, 3])
    }))
})
