import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
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
  type Role,
  select,
  UnknownMetric
} from "../src/index.ts"
import { catalogueFor, withExtractor } from "../src/MetricRegistry.ts"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

const builtinNames = [
  "common.mse",
  "common.psnr",
  "common.ssim",
  "vbench.temporal_flickering",
  "motion.frame_difference",
  "quality.sharpness",
  "common.frechet_distance"
]

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
      assert.deepStrictEqual(common.map((m) => m.name), ["common.mse", "common.psnr", "common.ssim", "common.frechet_distance"])
      const mixed = yield* registry.resolve(["quality.sharpness", "common.psnr", "common.p*"])
      assert.deepStrictEqual(mixed.map((m) => m.name), ["common.psnr", "quality.sharpness"])
      assert.strictEqual((yield* registry.resolve(["*"])).length, builtinNames.length)
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("fails on an unknown name with an UnknownMetric that lists the known ones", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const error = yield* Effect.flip(registry.resolve(["common.psnr", "common.lpips"]))
      assert.instanceOf(error, UnknownMetric)
      assert.strictEqual(error.name, "common.lpips")
      assert.strictEqual(error.message, `Unknown metric "common.lpips". Known metrics: ${builtinNames.join(", ")}`)
      const prefix = yield* Effect.flip(registry.resolve(["nothing.*"]))
      assert.strictEqual(prefix.name, "nothing.*")
    }).pipe(Effect.provide(MetricRegistry.layer)))

  it.effect("adds the metrics of a user module, which may replace a built-in", () =>
    Effect.gen(function*() {
      const registry = yield* MetricRegistry
      const names = registry.list.map((m) => m.name)
      assert.deepStrictEqual(names, [...builtinNames, "user.thread", "user.boom", "user.count", "user.setboom", "user.crash", "user.hang"])
      assert.strictEqual(registry.list.find((m) => m.name === "quality.sharpness")!.description, "replaced by a user module")
      assert.deepStrictEqual((yield* registry.resolve(["user.*"])).map((m) => m.kind), ["sample", "sample", "set", "set", "sample", "sample"])
      assert.strictEqual(registry.modules.length, 1)
      assert.match(registry.modules[0], /^file:\/\/.*user-metrics\.js$/)
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

describe("the default-metric rule", () => {
  type Input = { readonly fields: Record<string, unknown>; readonly role?: Role }
  const has = (input: Input, field: string) => input.fields[field] !== undefined
  const names = (inputs: ReadonlyArray<Input>) =>
    applicable(builtinRegistry.list, inputs, has, (input) => input.role ?? "generated").map((m) => m.name)

  it("chooses the single-video metrics for videos alone, and every metric once references are given", () => {
    const single = ["vbench.temporal_flickering", "motion.frame_difference", "quality.sharpness"]
    assert.deepStrictEqual(names([{ fields: { video: 1 } }]), single)
    assert.deepStrictEqual(names([{ fields: { video: 1 } }, { fields: { video: 2, reference: 3 } }]), builtinNames)
    assert.deepStrictEqual(names([]), [])
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
        "common.frechet_distance"
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

describe("withExtractor", () => {
  const firstByte = { name: "first-byte", dimension: 1, extract: (video: { data: ArrayLike<number> }) => [video.data[0]] }

  it("replaces the built-in common.frechet_distance with one over the plugged extractor", () => {
    const plugged = withExtractor(builtinRegistry.metrics, firstByte)
    assert.deepStrictEqual(plugged.map((m) => m.name), builtinNames)
    const fd = plugged.find((m) => m.name === "common.frechet_distance")!
    assert.notStrictEqual(fd, BuiltinMetrics.frechetDistance)
    assert.include(fd.description, "first-byte")
    assert.deepStrictEqual(catalogueFor([], firstByte).map((m) => m.description), plugged.map((m) => m.description))
  })

  it("returns the metrics themselves without an extractor, with the built-in one, or without the built-in metric", () => {
    const metrics = builtinRegistry.metrics
    assert.strictEqual(withExtractor(metrics, undefined), metrics)
    assert.strictEqual(withExtractor(metrics, Frechet.colourMotionFeatures), metrics)
    const own = Metric.set({ ...BuiltinMetrics.frechetDistance, description: "a module's own" })
    const replaced = catalogueFor([[own]], firstByte)
    assert.strictEqual(replaced.find((m) => m.name === "common.frechet_distance"), own)
  })
})
