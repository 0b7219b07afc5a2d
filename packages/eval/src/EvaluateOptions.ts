/**
 * The options of an evaluation: what `evaluate` takes, their Schema (decoded once per call, also
 * the CLI's flags and variables), the defaults the environment sets, and the errors a call ends with.
 *
 * @since 0.2.0
 */
import { Config, type Effect, Option, Schema } from "effect"
import { type DecodeError, type InvalidPoolOptions, Options } from "@vidpool/pool"
import type * as Metric from "./Metric.ts"
import type { SampleResult } from "./Results.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface EvaluateOptions {
  /** Metric names or prefixes (`"common.*"`, `"*"`). Default: every metric whose fields the samples have. */
  readonly metrics?: ReadonlyArray<string>
  /**
   * Consumers, each computing on its own worker thread. Default 1. A call never starts more of
   * them than it has samples (nor more metric worker threads).
   */
  readonly workers?: number
  /**
   * Decoded samples kept ready per consumer. Default 2. The pool's `maxSize` is
   * `prefetchFactor x workers` (the workers actually started). The pool counts decodes in flight against `maxSize`, so set
   * `prefetchFactor x workers >= loaderThreads` for every loader to have a slot.
   */
  readonly prefetchFactor?: number
  /** Decodes running at once. Default 1; never more than the call has samples. */
  readonly loaderThreads?: number
  /**
   * `"fail"` (default): the first DecodeError or MetricError ends the call, interrupting loaders
   * and workers. `"record"`: the sample's result carries the error and the run goes on.
   */
  readonly onError?: "fail" | "record"
  /** Called as each sample finishes (in completion order), e.g. for progress. */
  readonly onResult?: (result: SampleResult) => Effect.Effect<void>
  /**
   * Whether the corpus has samples of role `"reference"`: then only those feed the set metrics'
   * reference side, and a generated sample's `reference` field does not. Default: whether these
   * samples have one. A caller that evaluates a corpus in parts (the cluster's batches) gives the
   * whole corpus's answer, so that every part feeds the set metrics as one call would.
   */
  readonly referenceSamples?: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export type EvaluateError = DecodeError | Metric.MetricError | Metric.UnknownMetric | InvalidPoolOptions

/**
 * The Evaluator's options as one Schema, decoded once by `evaluate` (a bad one fails it with
 * `InvalidPoolOptions` naming the option: a single name where `metrics` wants a list, say), and
 * used by the CLI for its flags and variables. Defaults: every applicable metric, `workers` 1,
 * `prefetchFactor` 2, `loaderThreads` 1, `onError` `"fail"` (the CLI's default is `"record"`).
 *
 * @since 0.2.0
 * @category options
 */
export const EvaluateOptionsSchema = Options.struct({
  metrics: Options.option(
    Schema.Array(Schema.String) as unknown as Schema.Codec<ReadonlyArray<string>, unknown>,
    `a list of metric names or prefixes, such as ["common.psnr"]`
  ),
  workers: Options.Count,
  prefetchFactor: Options.Count,
  loaderThreads: Options.Count,
  onError: Options.oneOf(["fail", "record"]),
  onResult: Options.option(
    Schema.declare((u: unknown): u is (result: SampleResult) => Effect.Effect<void> => typeof u === "function") as unknown as Schema.Codec<
      (result: SampleResult) => Effect.Effect<void>,
      unknown
    >,
    "a function"
  ),
  referenceSamples: Options.option(Schema.Boolean as unknown as Schema.Codec<boolean, unknown>, "true or false")
})

/**
 * The defaults of `EvaluateOptions` that the environment can set.
 *
 * @since 0.1.0
 * @category models
 */
export interface EvaluatorDefaults {
  readonly workers?: number
  readonly prefetchFactor?: number
  readonly loaderThreads?: number
  readonly onError?: "fail" | "record"
}

/**
 * The Evaluator's environment settings as one Effect `Config`, read by `Evaluator.layer`:
 * `VIDPOOL_WORKERS`, `VIDPOOL_PREFETCH_FACTOR`, `VIDPOOL_LOADER_THREADS` and `VIDPOOL_ON_ERROR`,
 * as written (a number as a number). `evaluate` decodes them with `EvaluateOptionsSchema`, as it
 * does options, so a bad value fails the call with `InvalidPoolOptions` naming the option. An
 * unset or empty variable leaves its key out.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { evaluatorConfig } from "@vidpool/eval"
 *
 * const program = Effect.map(evaluatorConfig, (defaults) => defaults.workers ?? 1)
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const evaluatorConfig: Config.Config<EvaluatorDefaults> = Config.all({
  workers: Config.option(Config.String("VIDPOOL_WORKERS")),
  prefetchFactor: Config.option(Config.String("VIDPOOL_PREFETCH_FACTOR")),
  loaderThreads: Config.option(Config.String("VIDPOOL_LOADER_THREADS")),
  onError: Config.option(Config.String("VIDPOOL_ON_ERROR"))
}).pipe(Config.map((read) => {
  // Numbers as numbers, anything else as written: `evaluate` decodes them with its Schema.
  const defaults: Record<string, unknown> = {}
  for (const [key, found] of Object.entries(read)) {
    const value = Options.fromText(Option.getOrUndefined(found))
    if (value !== undefined) defaults[key] = value
  }
  return defaults as EvaluatorDefaults
}))
