import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Result } from "effect"
import { fileURLToPath } from "node:url"
import {
  applicable,
  BuiltinMetrics,
  builtinRegistry,
  evaluatorConfig,
  EvaluateOptionsSchema,
  Frechet,
  listMetrics,
  Metric,
  MetricError,
  MetricRegistry,
  select,
  selectResult,
  UnknownMetric
} from "../src/index.ts"
import { catalogue, metricsOfModule } from "../src/MetricRegistry.ts"
import { FeatureExtractor } from "../src/FeatureExtractor.ts"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

const builtinNames = [
  "common.mse",
  "common.psnr",
  "common.ssim",
  "vidpool.mse_255",
  "vidpool.psnr_255",
  "vidpool.ssim_luma",
  "vbench.temporal_flickering",
  "motion.frame_difference",
  "quality.sharpness",
  "common.frechet_distance",
  "common.fvd",
  "vbench.subject_consistency",
  "common.lpips",
  "vbench.dynamic_degree",
  "vbench.background_consistency",
  "vbench.aesthetic_quality",
  "vbench.appearance_style",
  "physics_iq.mse",
  "physics_iq.spatiotemporal_iou",
  "physics_iq.spatial_iou",
  "physics_iq.weighted_spatial_iou"
]
const clipNames = ["vbench.background_consistency", "vbench.aesthetic_quality", "vbench.appearance_style"]

describe("MetricRegistry", () => {
  it.effect("lists the built-ins with kind, needed fields and description", () =>
    Effect.gen(function*() {
      const list = yield* listMetrics
      assert.deepStrictEqual(list.map((m) => m.name), builtinNames)
      const psnr = list.find((m) => m.name === "common.psnr")!
      assert.deepStrictEqual([psnr.kind, psnr.needs], ["sample", ["video", "reference"]])
      const fd = list.find((m) => m.name === "common.frechet_distance")!
      assert.strictEqual(fd.kind, "set")
      assert.match(fd.description, /not FVD/)
      for (const m of list) assert.isAbove(m.description.length, 10)
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("resolves names and prefixes, in catalogue order, without duplicates", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const common = yield* registry.resolve(["common.*"])
      assert.deepStrictEqual(common.map((m) => m.name), ["common.mse", "common.psnr", "common.ssim", "common.frechet_distance", "common.fvd", "common.lpips"])
      const mixed = yield* registry.resolve(["quality.sharpness", "common.psnr", "common.p*"])
      assert.deepStrictEqual(mixed.map((m) => m.name), ["common.psnr", "quality.sharpness"])
      assert.strictEqual((yield* registry.resolve(["*"])).length, builtinNames.length)
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("fails on an unknown name with an UnknownMetric that lists the known ones", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const error = yield* Effect.flip(registry.resolve(["common.psnr", "common.vmaf"]))
      assert.instanceOf(error, UnknownMetric)
      assert.strictEqual(error.name, "common.vmaf")
      assert.strictEqual(error.message, `Unknown metric "common.vmaf". Known metrics: ${builtinNames.join(", ")}`)
      const prefix = yield* Effect.flip(registry.resolve(["nothing.*"]))
      assert.strictEqual(prefix.name, "nothing.*")
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("adds the metrics of a user module, which may replace a built-in", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const names = registry.list.map((m) => m.name)
      assert.deepStrictEqual(names, [...builtinNames, "user.thread", "user.boom", "user.count", "user.setboom", "user.crash", "user.hang", "user.keepview"])
      assert.strictEqual(registry.list.find((m) => m.name === "quality.sharpness")!.description, "replaced by a user module")
      assert.deepStrictEqual((yield* registry.resolve(["user.*"])).map((m) => m.kind), ["sample", "sample", "set", "set", "sample", "sample", "sample"])
      assert.strictEqual(registry.sources.modules.length, 1)
      assert.match(registry.sources.modules[0], /^file:\/\/.*user-metrics\.js$/)
      assert.isNull(registry.sources.extractor)
    }).pipe(Effect.provide(MetricRegistry.layerWith([fixture("user-metrics.js")]))))

  it.effect("fails to build with a MetricError naming a module that cannot be loaded or has no metric", () =>
    Effect.gen(function*() {
      for (const [file, why] of [["missing.js", /cannot load metric module/], ["not-metrics.js", /exports no "metrics" array/]] as const) {
        const exit = yield* Effect.exit(Layer.build(MetricRegistry.layerWith([fixture(file)])).pipe(Effect.scoped))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
        assert.instanceOf((error as { error: unknown }).error, MetricError)
        const e = (error as { error: MetricError }).error
        assert.include(e.message, file)
        assert.match(e.message, why)
      }
    }))
})

describe("metric versions", () => {
  const define = (version?: string) =>
    Metric.sample({
      name: "my.frames",
      needs: ["video"],
      description: "frames",
      ...(version !== undefined ? { version } : {}),
      compute: () => Metric.result("my.frames", 1)
    })

  it("gives each metric the version of its scores: the definition's, else 1", () => {
    // FastVideo's definitions of common.mse, common.psnr and common.ssim replaced vidpool's own in 0.3.0.
    const redefined = ["common.mse", "common.psnr", "common.ssim"]
    assert.deepStrictEqual(builtinRegistry.list.map((m) => m.version), builtinNames.map((name) => redefined.includes(name) ? "2" : "1"))
    assert.strictEqual(Metric.info(define("2024-06")).version, "2024-06")
    assert.strictEqual(Metric.info(define()).version, Metric.defaultVersion)
  })

  it("refuses a module's metric whose version is not a non-empty string", () => {
    const bad = { ...define(), version: 2 }
    assert.throws(() => metricsOfModule("m.js", { metrics: [bad] }), "module m.js: metric my.frames has a version that is not a non-empty string")
    assert.throws(() => metricsOfModule("m.js", { metrics: [define("")] }), /not a non-empty string/)
    assert.lengthOf(metricsOfModule("m.js", { metrics: [define("3")] }), 1)
  })
})

describe("resolving short names (the library's rule and the command's)", () => {
  it.effect("resolve gives common.psnr for psnr, and takes groups and the start of a short name", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      assert.deepStrictEqual((yield* registry.resolve(["psnr"])).map((m) => m.name), ["common.psnr"])
      assert.deepStrictEqual((yield* registry.resolve(["ssim", "common.psnr"])).map((m) => m.name), ["common.psnr", "common.ssim"])
      assert.deepStrictEqual((yield* registry.resolve(["common"])).map((m) => m.name), [
        "common.mse",
        "common.psnr",
        "common.ssim",
        "common.frechet_distance",
        "common.fvd",
        "common.lpips"
      ])
      assert.deepStrictEqual((yield* registry.resolve(["quality.*", "sharp"])).map((m) => m.name), ["quality.sharpness"])
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("fails on an unknown short name with an UnknownMetric naming it", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const error = yield* Effect.flip(registry.resolve(["psnr", "vmaf"]))
      assert.instanceOf(error, UnknownMetric)
      assert.strictEqual(error.name, "vmaf")
      assert.isUndefined(error.candidates)
      assert.strictEqual(error.message, `Unknown metric "vmaf". Known metrics: ${builtinNames.join(", ")}`)
      // a trailing `*` is a prefix of full names only
      assert.strictEqual((yield* Effect.flip(registry.resolve(["psnr*"]))).name, "psnr*")
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("fails on a short name that fits several metrics with an UnknownMetric naming it and them", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const started = yield* Effect.flip(registry.resolve(["s"]))
      assert.instanceOf(started, UnknownMetric)
      assert.strictEqual(started.name, "s")
      assert.deepStrictEqual(started.candidates, [
        "common.ssim",
        "vidpool.ssim_luma",
        "quality.sharpness",
        "vbench.subject_consistency",
        "physics_iq.spatiotemporal_iou",
        "physics_iq.spatial_iou"
      ])
      // FastVideo's names share the short name mse: the full name picks one.
      const mse = yield* Effect.flip(registry.resolve(["mse"]))
      assert.deepStrictEqual(mse.candidates, ["common.mse", "physics_iq.mse"])
      assert.deepStrictEqual((yield* registry.resolve(["physics_iq"])).map((m) => m.name), builtinNames.slice(-4))
      const twice = yield* Effect.flip(select([{ name: "common.psnr" }, { name: "other.psnr" }], ["psnr"]))
      assert.strictEqual(twice.name, "psnr")
      assert.strictEqual(twice.message, `Ambiguous metric "psnr": it could be common.psnr, other.psnr; give the full name`)
      // the full name still picks one
      assert.deepStrictEqual(
        (yield* select([{ name: "common.psnr" }, { name: "other.psnr" }], ["other.psnr"])).map((m) => m.name),
        ["other.psnr"]
      )
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it("selectResult is the same rule without an Effect", () => {
    const found = selectResult(builtinRegistry.list, ["sharpness", "psnr"])
    assert.isTrue(Result.isSuccess(found))
    assert.deepStrictEqual(Result.isSuccess(found) ? found.success.map((m) => m.name) : [], ["common.psnr", "quality.sharpness"])
    const missing = selectResult(builtinRegistry.list, ["vmaf"])
    assert.isTrue(Result.isFailure(missing) && missing.failure.name === "vmaf")
  })
})

describe("the default-metric rule", () => {
  type Input = { readonly fields: Record<string, unknown>; readonly role?: Metric.Role }
  const has = (input: Input, field: string) => input.fields[field] !== undefined
  const names = (inputs: ReadonlyArray<Input>) =>
    applicable(builtinRegistry.list, inputs, has, (input) => input.role ?? "generated").map((m) => m.name)

  it("chooses the single-video metrics for videos alone, and every metric once references are given", () => {
    const single = ["vbench.temporal_flickering", "motion.frame_difference", "quality.sharpness"]
    assert.deepStrictEqual(names([{ fields: { video: 1 } }]), single)
    const modelMetrics = ["common.fvd", "vbench.subject_consistency", "common.lpips", "vbench.dynamic_degree", ...clipNames]
    const withoutModels = builtinNames.filter((name) => !modelMetrics.includes(name))
    assert.deepStrictEqual(names([{ fields: { video: 1 } }, { fields: { video: 2, reference: 3 } }]), withoutModels)
    assert.deepStrictEqual(names([]), [])
  })

  it("chooses a metric that runs a model only when its model is given", () => {
    const inputs = [{ fields: { video: 1 } }, { fields: { video: 2, reference: 3 } }]
    const chosen = (models: Record<string, string>) =>
      applicable(builtinRegistry.list, inputs, has, () => "generated", models).map((m) => m.name)
    const notClip = builtinNames.filter((name) => !clipNames.includes(name))
    const others = ["common.fvd", "common.lpips", "vbench.dynamic_degree"]
    assert.deepStrictEqual(chosen({ dino: "dino.onnx" }), notClip.filter((name) => !others.includes(name)))
    assert.deepStrictEqual(chosen({ dino: "dino.onnx", lpips: "lpips.onnx" }), notClip.filter((name) => name !== "common.fvd" && name !== "vbench.dynamic_degree"))
    assert.deepStrictEqual(chosen({ dino: "dino.onnx", i3d: "i3d.onnx", lpips: "lpips.onnx", raft: "raft.onnx" }), notClip)
  })

  it("chooses each CLIP metric when all its models are given, appearance style only for samples with a text_prompt", () => {
    const clipModels = {
      clip_b32_image: "b32.onnx",
      clip_b32_text: "text.onnx",
      clip_tokenizer: "tokenizer.json",
      clip_l14_image: "l14.onnx",
      aesthetic_head: "head.onnx"
    }
    const chosen = (inputs: ReadonlyArray<Input>, models: Record<string, string>) =>
      applicable(builtinRegistry.list, inputs, has, () => "generated", models).map((m) => m.name).filter((n) => clipNames.includes(n))
    assert.deepStrictEqual(chosen([{ fields: { video: 1 } }], clipModels), ["vbench.background_consistency", "vbench.aesthetic_quality"])
    assert.deepStrictEqual(chosen([{ fields: { video: 1, text_prompt: "a" } }], clipModels), clipNames)
    assert.deepStrictEqual(chosen([{ fields: { video: 1 } }], { clip_l14_image: "l14.onnx" }), [])
  })

  it("takes per-sample metrics from generated samples only; a reference sample enables the set metrics", () => {
    assert.deepStrictEqual(names([{ fields: { video: 1, reference: 2 }, role: "reference" }]), ["common.frechet_distance"])
    assert.deepStrictEqual(
      names([{ fields: { video: 1 } }, { fields: { video: 2 }, role: "reference" }]),
      ["vbench.temporal_flickering", "motion.frame_difference", "quality.sharpness", "common.frechet_distance"]
    )
  })

  it.effect("select works on the listed infos as on the metrics", () =>
    Effect.gen(function*() {
      const chosen = yield* select(builtinRegistry.list, ["common.*", "quality.sharpness"])
      assert.deepStrictEqual(chosen.map((m) => m.name), [
        "common.mse",
        "common.psnr",
        "common.ssim",
        "quality.sharpness",
        "common.frechet_distance",
        "common.fvd",
        "common.lpips"
      ])
      const unknown = yield* Effect.flip(select(builtinRegistry.list, ["nope"]))
      assert.instanceOf(unknown, UnknownMetric)
    }))
})

describe("evaluatorConfig", () => {
  const read = (env: Record<string, string>) =>
    Effect.exit(evaluatorConfig.parse(ConfigProvider.fromEnvRecord(env)))

  it.effect("reads the set variables and leaves the others out", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* read({}), Exit.succeed({}))
      assert.deepStrictEqual(
        yield* read({ VIDPOOL_WORKERS: "3", VIDPOOL_PREFETCH_FACTOR: "4", VIDPOOL_LOADER_THREADS: "2", VIDPOOL_ON_ERROR: "record" }),
        Exit.succeed({ workers: 3, prefetchFactor: 4, loaderThreads: 2, onError: "record" as const })
      )
    }))

  it.effect("passes a malformed value on as written, for the options' Schema to name it", () =>
    Effect.gen(function*() {
      for (const [env, option] of [[{ VIDPOOL_WORKERS: "many" }, "workers"], [{ VIDPOOL_ON_ERROR: "ignore" }, "onError"], [{ VIDPOOL_LOADER_THREADS: "0" }, "loaderThreads"]] as const) {
        const exit = yield* read(env)
        assert.isTrue(Exit.isSuccess(exit))
        const defaults = Exit.isSuccess(exit) ? exit.value : {}
        const error = yield* Effect.flip(EvaluateOptionsSchema.decode(defaults))
        assert.strictEqual(error.option, option)
      }
    }))
})

describe("the feature extractor as a parameter of common.frechet_distance", () => {
  const firstByte = { name: "first-byte", dimension: 1, extract: (video: { data: ArrayLike<number> }) => [video.data[0]] }

  it("replaces the built-in common.frechet_distance with one over the given extractor", () => {
    const plugged = catalogue([], firstByte)
    assert.deepStrictEqual(plugged.map((m) => m.name), builtinNames)
    const fd = plugged.find((m) => m.name === "common.frechet_distance")!
    assert.notStrictEqual(fd, BuiltinMetrics.frechetDistance)
    assert.include(fd.description, "first-byte")
  })

  it("keeps the built-in metric with the built-in extractor, and a module's own metric over any extractor", () => {
    assert.strictEqual(catalogue([]).find((m) => m.name === "common.frechet_distance"), BuiltinMetrics.frechetDistance)
    assert.strictEqual(
      catalogue([], Frechet.colourMotionFeatures).find((m) => m.name === "common.frechet_distance"),
      BuiltinMetrics.frechetDistance
    )
    const own = Metric.set({ ...BuiltinMetrics.frechetDistance, description: "a module's own" })
    const replaced = catalogue([[own]], firstByte)
    assert.strictEqual(replaced.find((m) => m.name === "common.frechet_distance"), own)
  })

  it.effect("layerWithExtractor registers it over the extractor module in context, which the workers load too", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const fd = registry.metrics.find((m) => m.name === "common.frechet_distance")!
      assert.notStrictEqual(fd, BuiltinMetrics.frechetDistance)
      assert.match(registry.sources.extractor ?? "", /^file:\/\/.*extractor\.js$/)
    }).pipe(Effect.provide(
      MetricRegistry.layerWithExtractor().pipe(Layer.provide(FeatureExtractor.layerModule(fixture("extractor.js"))))
    )))

  it.effect("layerWithExtractor fails with a MetricError for an extractor the worker threads cannot load", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(
        MetricRegistry.layerWithExtractor().pipe(Layer.provide(Layer.succeed(FeatureExtractor, firstByte)))
      ))
      assert.instanceOf(error, MetricError)
      assert.strictEqual(error.metric, "common.frechet_distance")
      assert.match(error.detail, /first-byte has no module/)
    }).pipe(Effect.scoped))
})
