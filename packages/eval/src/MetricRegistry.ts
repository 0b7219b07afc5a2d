/**
 * The metric catalogue: the built-ins plus user metrics loaded from module files, and the
 * resolution of names and prefixes (`"common.*"`) into metrics.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Result } from "effect"
import { builtins, frechetDistance, frechetDistanceWith } from "./BuiltinMetrics.ts"
import { FeatureExtractor } from "./FeatureExtractor.ts"
import { colourMotionFeatures, type FeatureExtractorShape } from "./Frechet.ts"
import * as Metric from "./Metric.ts"
import { describeThrow, metricsOfModule, moduleUrl } from "./internal/Modules.ts"
import { MetricError, UnknownMetric } from "./MetricError.ts"

export { metricsOfModule, moduleUrl } from "./internal/Modules.ts"

/**
 * Where a worker thread finds the registry's metrics: the metric modules to import, and the
 * module of the feature extractor `common.frechet_distance` runs over (null for the built-in
 * one). `key` names the combination, for the worker's cache of loaded catalogues.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricSources {
  readonly key: string
  readonly modules: ReadonlyArray<string>
  readonly extractor: string | null
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const metricSources = (modules: ReadonlyArray<string>, extractor: string | null): MetricSources => ({
  key: [...modules, `extractor:${extractor}`].join("\n"),
  modules,
  extractor
})

/**
 * The built-ins, with `common.frechet_distance` over `extractor` (the built-in colour and motion
 * statistics when absent), then the metrics of `extra`, later definitions replacing earlier ones
 * of the same name (so a module can replace a built-in). The registry builds it on the main
 * thread, each worker thread from the registry's `sources`.
 *
 * @since 0.1.0
 * @category loading
 */
export const catalogue = (
  extra: ReadonlyArray<ReadonlyArray<Metric.Metric>>,
  extractor?: FeatureExtractorShape
): ReadonlyArray<Metric.Metric> => {
  const byName = new Map<string, Metric.Metric>()
  for (const m of builtins) byName.set(m.name, m)
  if (extractor !== undefined && extractor !== colourMotionFeatures) {
    byName.set(frechetDistance.name, frechetDistanceWith(extractor))
  }
  for (const list of extra) for (const m of list) byName.set(m.name, m)
  return Array.from(byName.values())
}

/** The part of a metric's name after its last dot: `psnr` for `common.psnr`. */
const shortName = (name: string): string => name.slice(name.lastIndexOf(".") + 1)

/**
 * The metrics one selector names, tried in this order: with a trailing `*`, every name it
 * prefixes (`*` alone is everything); an exact name; every name it prefixes (`common` gives every
 * `common.*`); the one metric whose short name (after the last dot) is it, or else the one whose
 * short name it prefixes (`psnr`, `sharp`). Names nothing, or a short name that fits several
 * metrics: an `UnknownMetric` naming the selector (with the candidates, when ambiguous).
 */
const matchSelector = <M extends { readonly name: string }>(
  metrics: ReadonlyArray<M>,
  selector: string
): Result.Result<ReadonlyArray<M>, UnknownMetric> => {
  const known = () => metrics.map((m) => m.name)
  if (selector.endsWith("*")) {
    const matches = metrics.filter((m) => m.name.startsWith(selector.slice(0, -1)))
    return matches.length > 0 ? Result.succeed(matches) : Result.fail(new UnknownMetric({ name: selector, known: known() }))
  }
  const exact = metrics.filter((m) => m.name === selector)
  if (exact.length > 0) return Result.succeed(exact)
  const prefixed = metrics.filter((m) => m.name.startsWith(selector))
  if (prefixed.length > 0) return Result.succeed(prefixed)
  for (const fits of [(m: M) => shortName(m.name) === selector, (m: M) => shortName(m.name).startsWith(selector)]) {
    const matches = metrics.filter(fits)
    if (matches.length === 1) return Result.succeed(matches)
    if (matches.length > 1) {
      return Result.fail(new UnknownMetric({ name: selector, known: known(), candidates: matches.map((m) => m.name) }))
    }
  }
  return Result.fail(new UnknownMetric({ name: selector, known: known() }))
}

/**
 * `select` as a pure function: the metrics the selectors name, in catalogue order without
 * duplicates, or the `UnknownMetric` of the first selector that names none (or several, for a
 * short name).
 *
 * @example
 * ```ts
 * import { builtinRegistry, selectResult } from "@vidpool/eval"
 *
 * selectResult(builtinRegistry.list, ["psnr", "quality"]) // Success: common.psnr, quality.sharpness
 * ```
 *
 * @since 0.2.0
 * @category resolution
 */
export const selectResult = <M extends { readonly name: string }>(
  metrics: ReadonlyArray<M>,
  selectors: ReadonlyArray<string>
): Result.Result<ReadonlyArray<M>, UnknownMetric> => {
  const chosen = new Set<string>()
  for (const raw of selectors) {
    const matched = matchSelector(metrics, raw.trim())
    if (Result.isFailure(matched)) return matched
    for (const m of matched.success) chosen.add(m.name)
  }
  return Result.succeed(metrics.filter((m) => chosen.has(m.name)))
}

/**
 * Resolves metric names against a catalogue, the one rule of the library and the command: an
 * exact name (`common.psnr`); a prefix, with or without a trailing `*` (`common.*`, `common`,
 * `*` for everything); or a short name, the part after the last dot, or its start (`psnr`,
 * `sharp`), when it fits one metric only. Order follows the catalogue; duplicates are dropped. A
 * selector that names nothing, or a short name that fits several metrics, fails with an
 * `UnknownMetric` naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { builtinRegistry, select } from "@vidpool/eval"
 *
 * const names = Effect.map(select(builtinRegistry.list, ["psnr", "ssim"]), (ms) => ms.map((m) => m.name))
 * // ["common.psnr", "common.ssim"]
 * ```
 *
 * @since 0.1.0
 * @category resolution
 */
export const select = <M extends { readonly name: string }>(
  metrics: ReadonlyArray<M>,
  selectors: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<M>, UnknownMetric> => Effect.suspend(() => Effect.fromResult(selectResult(metrics, selectors)))

/**
 * The metrics that apply when none were named: each per-sample metric whose needed fields some
 * generated sample has, and each set metric whose needed fields some sample has, when the
 * samples have references (a sample of role `"reference"`, or a `reference` field). `has` says
 * whether a sample has a field; `roleOf` gives a sample's role (default: every sample is
 * generated). A metric that runs a model applies only when `models` (files by name) gives it.
 * Order follows `metrics`.
 *
 * @example
 * ```ts
 * import { applicable, builtinRegistry } from "@vidpool/eval"
 *
 * const samples = [{ video: "gen.mp4", reference: "ref.mp4" }]
 * const names = applicable(builtinRegistry.list, samples, (s, field) => field in s).map((m) => m.name)
 * ```
 *
 * @since 0.1.0
 * @category resolution
 */
export const applicable = <
  M extends Pick<Metric.MetricInfo, "name" | "kind" | "needs"> & {
    readonly models?: ReadonlyArray<string | { readonly name: string }> | undefined
  },
  S
>(
  metrics: ReadonlyArray<M>,
  samples: ReadonlyArray<S>,
  has: (sample: S, field: string) => boolean,
  roleOf: (sample: S) => Metric.Role = () => "generated",
  models: Readonly<Record<string, string>> = {}
): ReadonlyArray<M> => {
  const hasReferences = samples.some((s) => roleOf(s) === "reference" || has(s, "reference"))
  const modelsGiven = (m: M) =>
    (m.models ?? []).every((model) => models[typeof model === "string" ? model : model.name] !== undefined)
  return metrics.filter((m) =>
    !modelsGiven(m) ? false : m.kind === "sample"
      ? samples.some((s) => roleOf(s) === "generated" && m.needs.every((f) => has(s, f)))
      : hasReferences && samples.some((s) => m.needs.every((f) => has(s, f)))
  )
}

/**
 * What the registry offers.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricRegistryShape {
  /** Every known metric, built-ins first. */
  readonly metrics: ReadonlyArray<Metric.Metric>
  /** What `vidpool metrics` prints. */
  readonly list: ReadonlyArray<Metric.MetricInfo>
  /**
   * The metrics that names, prefixes (`"common.*"`) or short names (`"psnr"`) select, by
   * `select`'s rule; a selector that names none, or a short name that fits several, fails.
   */
  readonly resolve: (selectors: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Metric.Metric>, UnknownMetric>
  /** What the worker threads load to build the same catalogue. */
  readonly sources: MetricSources
  /** Model files by name, for the model metrics (an evaluation's `models` option adds to them). */
  readonly models: Readonly<Record<string, string>>
}

/**
 * The registry's options.
 *
 * @since 0.3.0
 * @category models
 */
export interface MetricRegistryOptions {
  /** Model files by name (`{ i3d: "models/i3d.onnx" }`), for the model metrics. */
  readonly models?: Readonly<Record<string, string>>
}

const make = (
  lists: ReadonlyArray<ReadonlyArray<Metric.Metric>>,
  modules: ReadonlyArray<string>,
  extractor?: FeatureExtractorShape,
  options: MetricRegistryOptions = {}
): MetricRegistryShape => {
  const metrics = catalogue(lists, extractor)
  return ({
    metrics,
    list: metrics.map(Metric.info),
    resolve: (selectors) => select(metrics, selectors),
    sources: metricSources(modules, extractor?.module ?? null),
    models: { ...options.models }
  })
}

/** The metrics of each module, imported here (the worker threads import them again). */
const loadModules = (modules: ReadonlyArray<string>) =>
  Effect.forEach(modules, (specifier) =>
    Effect.tryPromise({
      try: async () => metricsOfModule(specifier, await import(moduleUrl(specifier))),
      catch: (cause) => new MetricError({ metric: specifier, detail: `cannot load metric module: ${describeThrow(cause)}` })
    }))

/**
 * The registry of the built-in metrics alone.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtinRegistry: MetricRegistryShape = make([], [])

/**
 * @since 0.1.0
 * @category services
 */
export class MetricRegistry extends Context.Service<MetricRegistry, MetricRegistryShape>()("@vidpool/eval/MetricRegistry") {
  /**
   * The built-in metrics only.
   */
  static readonly layer: Layer.Layer<MetricRegistry> = Layer.succeed(MetricRegistry, builtinRegistry)

  /**
   * The built-ins plus the metrics exported by each module (a path or a package specifier). The
   * module must export `metrics` (an array of `Metric.sample` / `Metric.set` values) or a default
   * metric; the worker threads load the same module to run them.
   *
   * @example
   * ```ts
   * import { Evaluator, MetricRegistry } from "@vidpool/eval"
   * import { Layer } from "effect"
   *
   * const EvaluatorLive = Evaluator.layer.pipe(
   *   Layer.provide(MetricRegistry.layerWith(["./my-metrics.js"]))
   * )
   * ```
   */
  static readonly layerWith = (
    modules: ReadonlyArray<string>,
    options: MetricRegistryOptions = {}
  ): Layer.Layer<MetricRegistry, MetricError> =>
    Layer.effect(MetricRegistry, Effect.map(loadModules(modules), (lists) => make(lists, modules.map(moduleUrl), undefined, options)))

  /**
   * The built-in metrics, with model files given by name for the model metrics (`common.fvd`
   * runs `i3d`, `vbench.subject_consistency` runs `dino`). The files are checked when an
   * evaluation chooses a metric that runs them, before anything is decoded.
   *
   * @example
   * ```ts
   * import { Evaluator, MetricRegistry } from "@vidpool/eval"
   * import { Layer } from "effect"
   *
   * const EvaluatorLive = Evaluator.layer.pipe(
   *   Layer.provide(MetricRegistry.layerModels({ i3d: "models/i3d.onnx", dino: "models/dino.onnx" }))
   * )
   * ```
   *
   * @since 0.3.0
   */
  static readonly layerModels = (models: Readonly<Record<string, string>>): Layer.Layer<MetricRegistry> =>
    Layer.succeed(MetricRegistry, make([], [], undefined, { models }))

  /**
   * As `layerWith`, with `common.frechet_distance` computed over the `FeatureExtractor` in
   * context: the extractor is a parameter of the metric, fixed when the registry is built. The
   * worker threads compute it, so an extractor other than the built-in one must come from a
   * module (`FeatureExtractor.layerModule`); one without fails the layer with a `MetricError`.
   *
   * @example
   * ```ts
   * import { Evaluator, FeatureExtractor, MetricRegistry } from "@vidpool/eval"
   * import { Layer } from "effect"
   *
   * const Registry = MetricRegistry.layerWithExtractor().pipe(
   *   Layer.provide(FeatureExtractor.layerModule("./my-extractor.js"))
   * )
   * const EvaluatorLive = Evaluator.layer.pipe(Layer.provide(Registry))
   * ```
   *
   * @since 0.2.0
   */
  static readonly layerWithExtractor = (
    modules: ReadonlyArray<string> = [],
    options: MetricRegistryOptions = {}
  ): Layer.Layer<MetricRegistry, MetricError, FeatureExtractor> =>
    Layer.effect(
      MetricRegistry,
      Effect.gen(function*() {
        const extractor = yield* FeatureExtractor
        if (extractor !== colourMotionFeatures && extractor.module === undefined) {
          return yield* new MetricError({
            metric: frechetDistance.name,
            detail: `the feature extractor ${extractor.name} has no module for the worker threads to load ` +
              `(provide it with FeatureExtractor.layerModule)`
          })
        }
        const lists = yield* loadModules(modules)
        return make(lists, modules.map(moduleUrl), extractor, options)
      })
    )
}

/**
 * The catalogue of the registry in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listMetrics: Effect.Effect<ReadonlyArray<Metric.MetricInfo>, never, MetricRegistry> = MetricRegistry.useSync((registry) => registry.list)
