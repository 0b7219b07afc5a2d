/**
 * The metric catalogue: the built-ins plus user metrics loaded from module files, and the
 * resolution of names and prefixes (`"common.*"`) into metrics.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { pathToFileURL } from "node:url"
import * as path from "node:path"
import { builtins, frechetDistance, frechetDistanceWith } from "./BuiltinMetrics.ts"
import type { FeatureExtractorShape } from "./FeatureExtractor.ts"
import { colourMotionFeatures } from "./Frechet.ts"
import * as Metric from "./Metric.ts"

/**
 * Reads the metrics a module exports: its `metrics` export (an array), or its default export (a
 * metric or an array of them).
 *
 * @since 0.1.0
 * @category loading
 */
export const metricsOfModule = (specifier: string, mod: Record<string, unknown>): ReadonlyArray<Metric.Metric> => {
  const exported = mod.metrics ?? mod.default
  const list = Array.isArray(exported) ? exported : exported === undefined ? [] : [exported]
  if (list.length === 0) throw new Error(`module ${specifier} exports no "metrics" array and no default metric`)
  for (const m of list) {
    const ok = typeof m === "object" && m !== null && typeof m.name === "string" &&
      (m.kind === "sample" ? typeof m.compute === "function" :
        m.kind === "set" && typeof m.accumulate === "function" && typeof m.finalize === "function")
    if (!ok) throw new Error(`module ${specifier} exports something that is not a metric: ${String(m?.name ?? m)}`)
  }
  return list as ReadonlyArray<Metric.Metric>
}

/**
 * A module path as an import specifier: absolute and relative paths become file URLs.
 *
 * @since 0.1.0
 * @category loading
 */
export const moduleUrl = (specifier: string): string =>
  specifier.startsWith(".") || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(specifier)).href : specifier

/**
 * Built-ins plus the metrics of `modules`, later definitions replacing earlier ones of the same
 * name (so a module can replace a built-in).
 *
 * @since 0.1.0
 * @category loading
 */
export const catalogue = (extra: ReadonlyArray<ReadonlyArray<Metric.Metric>>): ReadonlyArray<Metric.Metric> => {
  const byName = new Map<string, Metric.Metric>()
  for (const m of builtins) byName.set(m.name, m)
  for (const list of extra) for (const m of list) byName.set(m.name, m)
  return Array.from(byName.values())
}

/**
 * The metrics with `common.frechet_distance` computed over `extractor`: the built-in metric is
 * replaced (a module's own metric of that name is kept). Without an extractor, with the built-in
 * one, or when the built-in metric is not among `metrics`, returns `metrics` itself. The Evaluator
 * applies it to the metrics it chose, the worker threads to their catalogue.
 *
 * @since 0.1.0
 * @category loading
 */
export const withExtractor = <M extends Metric.Metric>(
  metrics: ReadonlyArray<M>,
  extractor: FeatureExtractorShape | undefined
): ReadonlyArray<M | Metric.SetMetric> => {
  if (extractor === undefined || extractor === colourMotionFeatures) return metrics
  if (!metrics.some((m) => m === frechetDistance)) return metrics
  const plugged = frechetDistanceWith(extractor)
  return metrics.map((m) => m === frechetDistance ? plugged : m)
}

/**
 * `catalogue(extra)` with `common.frechet_distance` over `extractor` (see `withExtractor`).
 *
 * @since 0.1.0
 * @category loading
 */
export const catalogueFor = (
  extra: ReadonlyArray<ReadonlyArray<Metric.Metric>>,
  extractor: FeatureExtractorShape | undefined
): ReadonlyArray<Metric.Metric> => withExtractor(catalogue(extra), extractor)

/**
 * Matches selectors against a catalogue: an exact name, a prefix ending in `.*` or `*`, or `*`
 * alone for everything. Order follows the catalogue; duplicates are dropped.
 *
 * @since 0.1.0
 * @category resolution
 */
export const select = <M extends { readonly name: string }>(
  metrics: ReadonlyArray<M>,
  selectors: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<M>, Metric.UnknownMetric> =>
  Effect.suspend(() => {
    const chosen = new Set<string>()
    for (const raw of selectors) {
      const selector = raw.trim()
      const matches = selector.endsWith("*")
        ? metrics.filter((m) => m.name.startsWith(selector.slice(0, -1)))
        : metrics.filter((m) => m.name === selector)
      if (matches.length === 0) {
        return Effect.fail(new Metric.UnknownMetric({ name: selector, known: metrics.map((m) => m.name) }))
      }
      for (const m of matches) chosen.add(m.name)
    }
    return Effect.succeed(metrics.filter((m) => chosen.has(m.name)))
  })

/**
 * The metrics that apply when none were named: each per-sample metric whose needed fields some
 * generated sample has, and each set metric whose needed fields some sample has, when the
 * samples have references (a sample of role `"reference"`, or a `reference` field). `has` says
 * whether a sample has a field; `roleOf` gives a sample's role (default: every sample is
 * generated). Order follows `metrics`.
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
export const applicable = <M extends Metric.MetricInfo, S>(
  metrics: ReadonlyArray<M>,
  samples: ReadonlyArray<S>,
  has: (sample: S, field: string) => boolean,
  roleOf: (sample: S) => Metric.Role = () => "generated"
): ReadonlyArray<M> => {
  const hasReferences = samples.some((s) => roleOf(s) === "reference" || has(s, "reference"))
  return metrics.filter((m) =>
    m.kind === "sample"
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
  /** Metrics matching names or prefixes (`"common.*"`); an unmatched selector fails. */
  readonly resolve: (selectors: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Metric.Metric>, Metric.UnknownMetric>
  /** Module specifiers the worker threads load to find the user metrics. */
  readonly modules: ReadonlyArray<string>
}

const make = (
  lists: ReadonlyArray<ReadonlyArray<Metric.Metric>>,
  modules: ReadonlyArray<string>
): MetricRegistryShape => {
  const metrics = catalogue(lists)
  return ({
    metrics,
    list: metrics.map(Metric.info),
    resolve: (selectors) => select(metrics, selectors),
    modules
  })
}

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
  static readonly layerWith = (modules: ReadonlyArray<string>): Layer.Layer<MetricRegistry, Metric.MetricError> =>
    Layer.effect(
      MetricRegistry,
      Effect.gen(function*() {
        const urls = modules.map(moduleUrl)
        const lists = yield* Effect.forEach(urls, (url, i) =>
          Effect.tryPromise({
            try: async () => metricsOfModule(modules[i], await import(url)),
            catch: (cause) =>
              new Metric.MetricError({
                metric: modules[i],
                detail: `cannot load metric module: ${cause instanceof Error ? cause.message : String(cause)}`
              })
          }))
        return make(lists, urls)
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
