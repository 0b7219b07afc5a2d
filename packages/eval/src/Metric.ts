/**
 * The metric model: per-sample metrics (decoded fields in, one `MetricResult` out) and set metrics
 * (`init`, `accumulate`, `merge`, `finalize` over a corpus). Their typed errors are `MetricError.ts`.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import type { MetricError } from "./MetricError.ts"
import type { ModelSpec } from "./Models.ts"

/**
 * One metric's verdict on a sample or a corpus. `score` is `null` when the metric was skipped;
 * `details.skipped` then says why.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricResult {
  readonly name: string
  readonly score: number | null
  readonly details: Record<string, unknown>
}

/**
 * The fields of a decoded sample as a metric sees them: tensors for decoded videos, anything
 * else as given.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricInput = Readonly<Record<string, unknown>>

/**
 * The role a sample plays for set metrics: generated samples are scored against references.
 *
 * @since 0.1.0
 * @category models
 */
export type Role = "generated" | "reference"

/**
 * What a model metric's `prepare` runs its models with, on a worker thread: `run` gives the named
 * model one float32 batch (its spec's input) and returns the output the spec chose; the session is
 * opened once per model and thread and reused. `runIds` does the same for a model whose input is
 * int64 ids (token ids). `load` gives a model that is a file the metric reads itself (a
 * tokenizer), loaded once per thread by its spec's `load`. `batch` is the frames (or clips) per
 * run setting.
 *
 * @since 0.3.0
 * @category models
 */
export interface ModelContext {
  readonly run: (
    model: string,
    data: Float32Array,
    dims: ReadonlyArray<number>
  ) => Promise<{ readonly data: Float32Array; readonly dims: ReadonlyArray<number> }>
  readonly runIds?: (
    model: string,
    ids: BigInt64Array,
    dims: ReadonlyArray<number>
  ) => Promise<{ readonly data: Float32Array; readonly dims: ReadonlyArray<number> }>
  readonly load?: (model: string) => Promise<unknown>
  readonly batch: number
}

/**
 * The model part of a metric: the models it needs (checked before anything is decoded) and
 * `prepare`, which runs on the worker thread before `compute` or `accumulate` and returns their
 * input (the sample's fields plus what the models gave).
 *
 * @since 0.3.0
 * @category models
 */
export interface ModelUse {
  readonly models?: ReadonlyArray<ModelSpec>
  readonly prepare?: (input: MetricInput, models: ModelContext) => Promise<MetricInput>
  /**
   * For a set metric: the field of `prepare`'s result that holds a video's features (a
   * Float32Array, absent when the video is left out), which the reference-feature cache stores and
   * gives back to `accumulate` instead of decoding the video again; `version` changes when the
   * features' definition does.
   */
  readonly cached?: { readonly field: string; readonly version: number }
}

/**
 * A metric computed on each sample independently.
 *
 * @since 0.1.0
 * @category models
 */
export interface SampleMetric extends ModelUse {
  readonly kind: "sample"
  readonly name: string
  /** The sample fields the metric reads; a sample without one of them gets a skipped result. */
  readonly needs: ReadonlyArray<string>
  readonly description: string
  /**
   * The version of the metric's scores: change it whenever a change to the metric (its code, a
   * constant, a kernel) changes the scores it gives, so that results of both are never mixed
   * (`vidpool eval --resume` refuses a file of another version). Default `"1"`.
   */
  readonly version?: string
  /** Runs on a worker thread. May throw; the throw becomes a `MetricError`. */
  readonly compute: (input: MetricInput) => MetricResult
}

/**
 * A metric over the whole corpus. Each sample is folded into a fresh partial (`init`,
 * `accumulate`) on a worker thread; the partials are merged and finalized once every sample was
 * seen.
 * Partials travel between threads, so they must be structured-cloneable (plain data, typed arrays),
 * and must not hold a view of an input tensor's data: that memory may be the decoder's, reused once
 * the sample's reply is back.
 *
 * `Acc` is the partial's type. A metric of any `Acc` is a `SetMetric` (`SetMetric<unknown>`), so a
 * list or registry holds metrics of different partials; such a holder passes a metric only the
 * partials that metric made. (The functions are methods so that this assignment type-checks.)
 *
 * @since 0.1.0
 * @category models
 */
export interface SetMetric<Acc = unknown> extends ModelUse {
  readonly kind: "set"
  readonly name: string
  readonly needs: ReadonlyArray<string>
  readonly description: string
  /**
   * The version of the metric's scores: change it whenever a change to the metric (its code, a
   * constant, a kernel) changes the scores it gives, so that results of both are never mixed
   * (`vidpool eval --resume` refuses a file of another version). Default `"1"`.
   */
  readonly version?: string
  init(): Acc
  /**
   * Runs on a worker thread, once per sample that has the needed fields, on a fresh `init()`: the
   * partial of one sample goes back to the main thread. When another set metric throws on the
   * same sample, the partial is dropped (a sample counts for every set metric or for none).
   */
  accumulate(acc: Acc, input: MetricInput, role: Role): Acc
  /** Runs on the main thread, once per sample: keep it cheap. */
  merge(self: Acc, other: Acc): Acc
  finalize(acc: Acc): MetricResult
}

/**
 * @since 0.1.0
 * @category models
 */
export type Metric = SampleMetric | SetMetric

/**
 * What `vidpool metrics` lists about a metric.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricInfo {
  readonly name: string
  readonly kind: "sample" | "set"
  readonly needs: ReadonlyArray<string>
  readonly description: string
  /** The version of its scores (`defaultVersion` when its definition gives none). */
  readonly version: string
  /** The models the metric runs, by the names users give them. */
  readonly models?: ReadonlyArray<string>
}

/**
 * The version of a metric whose definition gives none.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultVersion = "1"

/**
 * Defines a per-sample metric (an identity function that checks the shape at compile time).
 *
 * @example
 * ```ts
 * import { Metric } from "@vidpool/eval"
 *
 * export const frames = Metric.sample({
 *   name: "my.frames",
 *   needs: ["video"],
 *   description: "number of frames",
 *   compute: (input) => Metric.result("my.frames", (input.video as { shape: number[] }).shape[0])
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const sample = (metric: Omit<SampleMetric, "kind">): SampleMetric => ({ kind: "sample", ...metric })

/**
 * Defines a set metric.
 *
 * @since 0.1.0
 * @category constructors
 */
export const set = <Acc>(metric: Omit<SetMetric<Acc>, "kind">): SetMetric<Acc> => ({ kind: "set", ...metric })

/**
 * A scored result.
 *
 * @since 0.1.0
 * @category constructors
 */
export const result = (name: string, score: number, details: Record<string, unknown> = {}): MetricResult => ({
  name,
  score,
  details
})

/**
 * A skipped result: no score, and the reason in `details.skipped`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const skipped = (name: string, reason: string, details: Record<string, unknown> = {}): MetricResult => ({
  name,
  score: null,
  details: { ...details, skipped: reason }
})

/**
 * A failed result: no score, and the error as data in `details.error` (`_tag`, `message`, and
 * the failing `metric` with its `detail`). `name` is the metric's name (by default the error's).
 *
 * @since 0.1.0
 * @category constructors
 */
export const failed = (error: MetricError, name: string = error.metric): MetricResult => ({
  name,
  score: null,
  details: { error: { _tag: error._tag, message: error.message, metric: error.metric, detail: error.detail } }
})

/**
 * @since 0.1.0
 * @category accessors
 */
export const info = (metric: Metric): MetricInfo => ({
  name: metric.name,
  kind: metric.kind,
  needs: metric.needs,
  description: metric.description,
  version: metric.version ?? defaultVersion,
  ...(metric.models !== undefined && metric.models.length > 0 ? { models: metric.models.map((m) => m.name) } : {})
})

/**
 * Whether a value is a decoded video tensor (duck-typed, so it also recognises tensors that
 * crossed a thread boundary).
 *
 * @since 0.1.0
 * @category guards
 */
export const isTensor = (u: unknown): u is VideoTensor =>
  typeof u === "object" && u !== null && "data" in u && "shape" in u && "layout" in u &&
  (ArrayBuffer.isView((u as { data: unknown }).data))

/**
 * The first of `needs` that the input lacks, or `undefined`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const missingField = (needs: ReadonlyArray<string>, input: MetricInput): string | undefined =>
  needs.find((field) => input[field] === undefined || input[field] === null)
