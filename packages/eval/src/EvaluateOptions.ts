/**
 * The options of an evaluation: what `evaluate` takes, their Schema (decoded once per call, also
 * the CLI's flags and variables), the defaults the environment sets, and the errors a call ends with.
 *
 * @since 0.2.0
 */
import { Config, type Effect, Option, Schema } from "effect"
import { cacheModes } from "./FeatureCache.ts"
import { type DecodeError, type InvalidPoolOptions, Options } from "@vidpool/pool"
import type * as Metric from "./Metric.ts"
import { listFromText, type ModelError, Providers } from "./Models.ts"
import type { SampleResult } from "./Results.ts"
import { MetricError, UnknownMetric } from "./MetricError.ts"

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
  /**
   * Model files by name (`{ i3d: "i3d.onnx", dino: "dino.onnx" }`), over the registry's: the
   * models the model metrics run. A chosen metric whose model is not given fails the call with a
   * `ModelError` before anything is decoded; unchosen (the default set), it is left out.
   */
  readonly models?: Readonly<Record<string, string>>
  /**
   * The SHA-256 (hex) each model file must have, by name: a file whose content differs fails the
   * call with a `ModelError` (`Changed`) before anything is decoded. The cluster's coordinator
   * sends the digests of its files, so that every runner scores with the same models.
   */
  readonly modelDigests?: Readonly<Record<string, string>>
  /**
   * ONNX Runtime's intra-op threads per model session (each metric worker thread has its own
   * session of a model). Default: the machine's cores divided by `workers`, at least 1.
   */
  readonly modelThreads?: number
  /** Frames an image model takes in one run. Default 16. */
  readonly modelBatch?: number
  /**
   * Execution providers, in order (`["cuda"]`, `["cuda", "cpu"]`). Default `["cpu"]`. One that
   * does not load fails the call with a `ModelError`; it falls back only to providers listed after it.
   */
  readonly modelProviders?: ReadonlyArray<"cpu" | "cuda" | "dml" | "coreml" | "webgpu" | "tensorrt">
  /**
   * The reference-feature cache of the model set metrics (`common.fvd`): `"read-write"`
   * (default) uses what earlier evaluations stored for the same reference videos (same content,
   * decode options and model file), without decoding them, and stores what it computes;
   * `"read"` only uses; `"off"` neither.
   */
  readonly referenceCache?: "off" | "read" | "read-write"
  /**
   * The cache's folder. Default: `VIDPOOL_CACHE_DIR`, else `$XDG_CACHE_HOME/vidpool`, else
   * `~/.cache/vidpool`; reference features are in its `features/` folder.
   */
  readonly cacheDir?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type EvaluateError = DecodeError | MetricError | UnknownMetric | InvalidPoolOptions | ModelError

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
  referenceSamples: Options.option(Schema.Boolean as unknown as Schema.Codec<boolean, unknown>, "true or false"),
  modelDigests: Options.option(
    Schema.Record(Schema.String, Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))) as unknown as Schema.Codec<
      Readonly<Record<string, string>>,
      unknown
    >,
    "a record of SHA-256 digests (64 lower-case hex digits) by model name"
  ),
  modelThreads: Options.Count,
  modelBatch: Options.Count,
  modelProviders: Providers,
  referenceCache: Options.oneOf(cacheModes),
  cacheDir: Options.option(Schema.String.check(Schema.isMinLength(1)) as unknown as Schema.Codec<string, unknown>, "a folder path")
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
  readonly modelThreads?: number
  readonly modelBatch?: number
  readonly modelProviders?: ReadonlyArray<"cpu" | "cuda" | "dml" | "coreml" | "webgpu" | "tensorrt">
  readonly referenceCache?: "off" | "read" | "read-write"
  readonly cacheDir?: string
}

/**
 * The Evaluator's environment settings as one Effect `Config`, read by `Evaluator.layer`:
 * `VIDPOOL_WORKERS`, `VIDPOOL_PREFETCH_FACTOR`, `VIDPOOL_LOADER_THREADS`, `VIDPOOL_ON_ERROR`,
 * `VIDPOOL_MODEL_THREADS`, `VIDPOOL_MODEL_BATCH`, `VIDPOOL_MODEL_PROVIDERS` (comma-separated),
 * `VIDPOOL_REFERENCE_CACHE` and `VIDPOOL_CACHE_DIR`,
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
  onError: Config.option(Config.String("VIDPOOL_ON_ERROR")),
  modelThreads: Config.option(Config.String("VIDPOOL_MODEL_THREADS")),
  modelBatch: Config.option(Config.String("VIDPOOL_MODEL_BATCH")),
  modelProviders: Config.option(Config.String("VIDPOOL_MODEL_PROVIDERS")),
  referenceCache: Config.option(Config.String("VIDPOOL_REFERENCE_CACHE")),
  cacheDir: Config.option(Config.String("VIDPOOL_CACHE_DIR"))
}).pipe(Config.map((read) => {
  // Numbers as numbers, lists as lists, anything else as written: `evaluate` decodes them with its Schema.
  const defaults: Record<string, unknown> = {}
  for (const [key, found] of Object.entries(read)) {
    const text = Option.getOrUndefined(found)
    const value = Options.fromText(text) === undefined
      ? undefined
      : key === "modelProviders"
      ? listFromText(text)
      : key === "cacheDir"
      ? text
      : Options.fromText(text)
    if (value !== undefined) defaults[key] = value
  }
  return defaults as EvaluatorDefaults
}))
