import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { Video, VideoDecoder, VideoPool, VideoTensor } from "@vidpool/pool"
import { createHash } from "node:crypto"
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Evaluator, MetricRegistry, ModelError } from "../src/index.ts"
import * as EvaluatorLive from "./support/layers.ts"
import { makeHandlers } from "../src/internal/MetricHandlers.ts"
import { metricSources } from "../src/MetricRegistry.ts"
import { makeChecker } from "../src/ModelChecks.ts"
import { dinoFeatures, fvd, i3dFeatures, subjectConsistency } from "../src/ModelMetrics.ts"
import { makeSessionsUnsafe } from "../src/internal/ModelSessions.ts"
import { tempDir } from "./support/ffmpeg.ts"

const fixtures = join(import.meta.dirname, "fixtures", "models")
const i3d = join(fixtures, "i3d-tiny.onnx")
const dino = join(fixtures, "dino-tiny.onnx")
const dinoFixed = join(fixtures, "dino-fixed224.onnx")
const reference = JSON.parse(readFileSync(join(fixtures, "reference.json"), "utf8")) as {
  readonly fvd: {
    readonly clips: { readonly generated: ReadonlyArray<string>; readonly reference: ReadonlyArray<string>; readonly short: ReadonlyArray<string> }
    readonly score: number
  }
  readonly subject_consistency: ReadonlyArray<{ readonly clip: string; readonly score: number }>
}
const clip = (relative: string) => Video.folder(join(fixtures, relative))

/** EvaluatorLive.layerDefault, but over a registry that knows the given models. */
const layerWith = (models: Record<string, string>) => EvaluatorLive.layerWith(MetricRegistry.layerModels(models))

const assertRelative = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.isAtMost(Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12), tolerance, `${what}: ${actual} vs ${expected}`)

describe("model metrics against their PyTorch definitions (small models, random weights)", () => {
  it.live("common.fvd is within 1e-4 of the reference path, and leaves out a clip of fewer than 10 frames", () =>
    Effect.gen(function*() {
      const { clips } = reference.fvd
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([
          ...clips.generated.map((c) => ({ video: clip(c) })),
          ...clips.short.map((c) => ({ video: clip(c) })),
          ...clips.reference.map((c) => ({ video: clip(c), role: "reference" }))
        ], { metrics: ["common.fvd"], workers: 2, models: { i3d }, referenceCache: "off" })
      )
      const result = results.corpus.find((r) => r.name === "common.fvd")!
      assertRelative(result.score!, reference.fvd.score, 1e-4, "FVD")
      assert.deepStrictEqual(
        { generated: result.details.generated, reference: result.details.reference, tooShort: result.details.tooShort },
        { generated: 4, reference: 4, tooShort: 1 }
      )
    }).pipe(Effect.provide(EvaluatorLive.layerDefault)))

  it.live("vbench.subject_consistency is within 1e-4 of the reference path on each clip (square, wide, tall, one frame)", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(reference.subject_consistency.map((c) => ({ video: clip(c.clip) })), {
          metrics: ["vbench.subject_consistency"],
          modelBatch: 2
        })
      )
      reference.subject_consistency.forEach((c, i) => {
        const score = results.samples[i].metrics["vbench.subject_consistency"].score
        assert.isNotNull(score, JSON.stringify(results.samples[i]))
        assertRelative(score!, c.score, 1e-4, c.clip)
      })
    }).pipe(Effect.provide(layerWith({ dino }))))

  it.live("FVD of a set against itself is 0 within float error", () =>
    Effect.gen(function*() {
      const { clips } = reference.fvd
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([
          ...clips.generated.map((c) => ({ video: clip(c) })),
          ...clips.generated.map((c) => ({ video: clip(c), role: "reference" }))
        ], { metrics: ["common.fvd"], referenceCache: "off" })
      )
      const score = results.corpus.find((r) => r.name === "common.fvd")!.score!
      assert.isAtMost(Math.abs(score), 1e-6 * reference.fvd.score)
    }).pipe(Effect.provide(layerWith({ i3d }))))
})

const constant = (frames: number, height: number, width: number, value: number): VideoTensor =>
  VideoTensor.makeUnsafe({
    data: new Uint8Array(frames * height * width * 3).fill(value),
    shape: [frames, height, width, 3],
    layout: "THWC",
    dtype: "uint8",
    fps: 25,
    source: { path: "constant" }
  })

const settings = { threads: 1, batch: 3, providers: ["cpu"] }

describe("model sessions on a metric thread", () => {
  it.live("a constant video has subject consistency 1; one session serves every sample and call", () =>
    Effect.gen(function*() {
      const sessions = makeSessionsUnsafe()
      const handlers = makeHandlers(sessions)
      const request = (index: number, video: VideoTensor) =>
        handlers.Compute({
          index,
          input: { tensors: { video }, values: {} },
          sampleMetrics: ["vbench.subject_consistency"],
          setMetrics: [],
          feeds: [],
          sources: metricSources([], null),
          models: { given: [{ name: "dino", path: dino, digest: "d1" }], settings },
          giveBack: []
        } as never) as unknown as Effect.Effect<{ results: Record<string, { score: number | null }> }>
      for (let i = 0; i < 3; i++) {
        const reply = yield* request(i, constant(7, 32, 48, 40 + 50 * i))
        assert.strictEqual(reply.results["vbench.subject_consistency"].score, 1)
      }
      assert.strictEqual(sessions.opened(), 1)
      yield* Effect.promise(() => sessions.releaseAll())
    }))

  it.live("frames go to the model in batches of the batch setting, never the whole video at once", () =>
    Effect.gen(function*() {
      const runs: Array<ReadonlyArray<number>> = []
      const features = yield* Effect.promise(() =>
        dinoFeatures(constant(7, 30, 40, 9), {
          batch: 3,
          run: async (_model, data, dims) => {
            runs.push(dims)
            assert.strictEqual(data.length, dims.reduce((a, b) => a * b, 1))
            return { data: new Float32Array(dims[0] * 768).fill(1), dims: [dims[0], 768] }
          }
        })
      )
      assert.deepStrictEqual(runs, [[3, 3, 224, 298], [3, 3, 224, 298], [1, 3, 224, 298]])
      assert.strictEqual(features.length, 7)
    }))

  it.live("a clip over I3D's frame limit is refused before its batch is sized", () =>
    Effect.gen(function*() {
      let runs = 0
      const error = yield* Effect.flip(Effect.tryPromise(() =>
        i3dFeatures(constant(1025, 2, 2, 9), {
          batch: 16,
          run: async () => {
            runs++
            return { data: new Float32Array(400), dims: [1, 400] }
          }
        })
      ))
      assert.match(String(error.cause), /a clip of 1025 frames is over the 1024 frames I3D takes in its one run .*--frames/)
      assert.strictEqual(runs, 0)
    }))

  it.live("a strip of a video (1x500) is refused before any buffer is sized by it", () =>
    Effect.gen(function*() {
      let runs = 0
      const error = yield* Effect.flip(Effect.tryPromise(() =>
        dinoFeatures(constant(2, 1, 500, 9), {
          batch: 16,
          run: async (_model, _data, dims) => {
            runs++
            return { data: new Float32Array(dims[0] * 768), dims: [dims[0], 768] }
          }
        })
      ))
      assert.match(String(error.cause), /frames of 500x1 resize to 112000x224, over the 802816 pixels/)
      assert.strictEqual(runs, 0)
    }))

  it.live("a model that fails at run time on one sample is a MetricError on that sample, recorded, and the others score", () =>
    Effect.gen(function*() {
      const [wide, , square] = reference.subject_consistency
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([{ video: clip(wide.clip) }, { video: clip(square.clip) }], {
          metrics: ["vbench.subject_consistency"],
          onError: "record"
        })
      )
      const [failed, scored] = results.samples
      assert.strictEqual(failed.error?._tag, "MetricError")
      assert.match(failed.error?.message ?? "", /vbench\.subject_consistency/)
      assert.isNull(failed.metrics["vbench.subject_consistency"].score)
      assertRelative(scored.metrics["vbench.subject_consistency"].score!, square.score, 1e-4, square.clip)
    }).pipe(Effect.provide(layerWith({ dino: dinoFixed }))))
})

describe("bad models are ModelErrors before any video is decoded", () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  // A video that cannot be decoded: had the run started decoding, it would fail with a DecodeError.
  const samples = [{ video: Video.file(join(tmp.dir, "never-decoded.mp4")) }]
  const failure = (models: Record<string, string>, metrics: ReadonlyArray<string>) =>
    Effect.flip(Evaluator.use((ev) => ev.evaluate(samples, { metrics, models }))).pipe(
      Effect.provide(Layer.fresh(EvaluatorLive.layerDefault))
    )

  it.live("a metric asked for without its model says how to give it", () =>
    Effect.gen(function*() {
      const error = yield* failure({}, ["common.fvd"])
      assert.instanceOf(error, ModelError)
      const e = error as ModelError
      assert.strictEqual(e.reason, "NotGiven")
      assert.match(e.message, /Model i3d for common\.fvd/)
      assert.match(e.message, /--model i3d=PATH/)
      assert.match(e.message, /VIDPOOL_MODEL_I3D/)
    }))

  it.live("a missing file names the model and the file", () =>
    Effect.gen(function*() {
      const missing = join(tmp.dir, "nowhere.onnx")
      const e = (yield* failure({ dino: missing }, ["vbench.subject_consistency"])) as ModelError
      assert.strictEqual(e.reason, "FileMissing")
      assert.strictEqual(e.file, missing)
      assert.include(e.message, missing)
    }))

  it.live("a file that is not ONNX", () =>
    Effect.gen(function*() {
      const text = join(tmp.dir, "model.onnx")
      writeFileSync(text, "this is not a model\n")
      const e = (yield* failure({ i3d: text }, ["common.fvd"])) as ModelError
      assert.strictEqual(e.reason, "NotOnnx")
      assert.match(e.message, /Model i3d \(.*model\.onnx\) for common\.fvd: ONNX Runtime cannot load it/)
    }))

  it.live("a model whose input does not fit says what was expected and what was found", () =>
    Effect.gen(function*() {
      const e = (yield* failure({ i3d: dino }, ["common.fvd"])) as ModelError
      assert.strictEqual(e.reason, "Signature")
      assert.include(e.message, `expected one input "video" float32 [N, 3, T, 224, 224]`)
      assert.include(e.message, `found inputs "pixel_values" float32 [N, 3, H, W]`)
    }))

  it.live("a model whose output does not fit", () =>
    Effect.gen(function*() {
      const e = (yield* failure({ dino: i3d }, ["vbench.subject_consistency"])) as ModelError
      assert.strictEqual(e.reason, "Signature")
      assert.include(e.message, `"pixel_values"`)
    }))

  it.live("a model under a name no metric runs", () =>
    Effect.gen(function*() {
      const e = (yield* failure({ i3: i3d }, ["common.psnr"])) as ModelError
      assert.strictEqual(e.reason, "UnknownModel")
      assert.include(e.message, "the models are i3d, dino")
    }))

  it.live("a file whose content is not the one the run expects (modelDigests) is refused, with both digests", () =>
    Effect.gen(function*() {
      const copy = join(tmp.dir, "dino-copy.onnx")
      cpSync(dino, copy)
      const expected = createHash("sha256").update(readFileSync(dino)).digest("hex")
      // The same bytes pass (the run then fails on the video, which no model check reached);
      // one changed byte is a Changed error before any decode.
      const passed = yield* Effect.flip(Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["vbench.subject_consistency"], models: { dino: copy }, modelDigests: { dino: expected } })
      ).pipe(Effect.provide(Layer.fresh(EvaluatorLive.layerDefault))))
      assert.strictEqual(passed._tag, "DecodeError")
      appendFileSync(copy, Buffer.from([0]))
      const e = yield* Effect.flip(Evaluator.use((ev) =>
        ev.evaluate(samples, { metrics: ["vbench.subject_consistency"], models: { dino: copy }, modelDigests: { dino: expected } })
      ).pipe(Effect.provide(Layer.fresh(EvaluatorLive.layerDefault))))
      assert.instanceOf(e, ModelError)
      assert.strictEqual((e as ModelError).reason, "Changed")
      assert.strictEqual((e as ModelError).file, copy)
      assert.include(e.message, expected.slice(0, 16))
      assert.include(e.message, createHash("sha256").update(readFileSync(copy)).digest("hex").slice(0, 16))
    }))

  it.live("onnxruntime-node not installed", () =>
    Effect.gen(function*() {
      const checker = makeChecker({ runtime: "onnxruntime-node-that-is-not-installed" })
      const e = yield* Effect.flip(checker.check([fvd], [fvd], { i3d }, { ...settings, batch: 16 }))
      assert.strictEqual(e.reason, "RuntimeMissing")
      assert.include(e.message, "npm install onnxruntime-node")
    }))

  it.live("CUDA where its libraries are not installed: an error alone, the CPU when listed after it", () =>
    Effect.gen(function*() {
      // onnxruntime-node was installed without its install script, which fetches the CUDA libraries.
      const ortDir = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"))
      assert.isFalse(existsSync(join(ortDir, "bin", "napi-v6", "linux", "x64", "libonnxruntime_providers_cuda.so")))
      const check = (providers: ReadonlyArray<string>) =>
        makeChecker().check([subjectConsistency], [subjectConsistency], { dino }, { threads: 1, batch: 16, providers })
      const e = yield* Effect.flip(check(["cuda"]))
      assert.strictEqual(e.reason, "ProviderUnavailable")
      assert.match(e.message, /execution provider cuda does not load here .*list "cpu" after it/)
      assert.deepStrictEqual((yield* check(["cuda", "cpu"])).map((m) => m.name), ["dino"])
    }))

  it.live("an execution provider that does not load is an error, not a silent fallback", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(
        makeChecker().check([subjectConsistency], [subjectConsistency], { dino }, { threads: 1, batch: 16, providers: ["coreml"] })
      )
      assert.strictEqual(e.reason, "ProviderUnavailable")
      assert.include(e.message, "coreml")
    }))
})

describe("the reference-feature cache", () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const { clips } = reference.fvd
  /** The paths each run decoded. */
  let decoded: Array<string> = []
  const Counting = Layer.effect(
    VideoDecoder,
    Effect.gen(function*() {
      const inner = yield* VideoDecoder
      return VideoDecoder.of({
        decode: (video) => {
          decoded.push(video.path)
          return inner.decode(video)
        },
        buffers: inner.buffers
      })
    })
  ).pipe(Layer.provide(FfmpegDecoder.layer))
  const EvaluatorLive = Evaluator.layer.pipe(
    Layer.provide(MetricRegistry.layerModels({ i3d })),
    Layer.provide(VideoPool.layer),
    Layer.provide(Counting)
  )
  const evaluate = (referenceFolders: ReadonlyArray<string>, options: { cacheDir: string; referenceCache?: "off" | "read" | "read-write"; i3d?: string }) =>
    Effect.gen(function*() {
      decoded = []
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([
          ...clips.generated.map((c) => ({ video: clip(c) })),
          ...referenceFolders.map((folder) => ({ video: Video.folder(folder), role: "reference" }))
        ], {
          metrics: ["common.fvd"],
          cacheDir: options.cacheDir,
          ...(options.referenceCache !== undefined ? { referenceCache: options.referenceCache } : {}),
          ...(options.i3d !== undefined ? { models: { i3d: options.i3d } } : {})
        })
      )
      return { score: results.corpus[0].score!, decoded: decoded.slice() }
    }).pipe(Effect.provide(EvaluatorLive))
  const references = clips.reference.map((c) => join(fixtures, c))
  const referencesDecoded = (paths: ReadonlyArray<string>) => paths.filter((p) => p.includes("fvd-reference")).length

  it.live("a second evaluation against the same references decodes and featurizes none of them, and scores the same", () =>
    Effect.gen(function*() {
      const cacheDir = join(tmp.dir, "same")
      const first = yield* evaluate(references, { cacheDir })
      assert.strictEqual(referencesDecoded(first.decoded), 4)
      assert.isTrue(existsSync(join(cacheDir, "features")))
      const second = yield* evaluate(references, { cacheDir })
      assert.strictEqual(referencesDecoded(second.decoded), 0)
      assert.strictEqual(second.decoded.length, clips.generated.length)
      assertRelative(second.score, reference.fvd.score, 1e-4, "FVD from cached references")
      assertRelative(second.score, first.score, 1e-12, "the same FVD")
    }))

  it.live("a changed reference file or a changed model file is a miss; read does not write; off neither reads nor writes", () =>
    Effect.gen(function*() {
      const cacheDir = join(tmp.dir, "changes")
      // The same content under other paths: keyed by content, so a hit.
      const copies = references.map((folder, i) => {
        const copy = join(tmp.dir, `copy-${i}`)
        cpSync(folder, copy, { recursive: true })
        return copy
      })
      yield* evaluate(references, { cacheDir })
      assert.strictEqual(referencesDecoded((yield* evaluate(copies, { cacheDir })).decoded.map((p) => p.replace("copy-", "fvd-reference-"))), 0)
      // One image of one reference changed: that reference only is decoded again.
      const frame = join(copies[0], readdirSync(copies[0]).sort()[0])
      cpSync(join(copies[1], readdirSync(copies[1]).sort()[0]), frame)
      const changed = yield* evaluate(copies, { cacheDir, referenceCache: "read" })
      assert.deepStrictEqual(changed.decoded.filter((p) => p.includes("copy-")), [copies[0]])
      // "read" wrote nothing: the changed one is a miss again.
      assert.deepStrictEqual((yield* evaluate(copies, { cacheDir })).decoded.filter((p) => p.includes("copy-")), [copies[0]])
      assert.deepStrictEqual((yield* evaluate(copies, { cacheDir })).decoded.filter((p) => p.includes("copy-")), [])
      // Another model file (the same graph with an unknown field appended: ONNX Runtime skips it).
      const other = join(tmp.dir, "i3d-other.onnx")
      cpSync(i3d, other)
      appendFileSync(other, Buffer.from([0xa0, 0x06, 0x01]))
      assert.strictEqual(referencesDecoded((yield* evaluate(references, { cacheDir, i3d: other })).decoded), 4)
      // Off: every reference decoded, nothing written.
      const offDir = join(tmp.dir, "off")
      assert.strictEqual(referencesDecoded((yield* evaluate(references, { cacheDir: offDir, referenceCache: "off" })).decoded), 4)
      assert.isFalse(existsSync(offDir))
    }))
})
