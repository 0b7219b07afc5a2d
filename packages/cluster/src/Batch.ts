/**
 * The cluster's one entity: `EvalBatch`, which evaluates a batch of samples on the runner that
 * owns its shard, with that runner's own `VideoPool` and `Evaluator`, and replies with the
 * samples' results and the set metrics' partial states. Its one message is persisted and keyed,
 * so it survives the runner that was computing it and is answered once per key.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import { ClusterSchema, Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { MetricError, ModelError, Models, UnknownMetric } from "@vidpool/eval"
import { DecodeError, InvalidPoolOptions } from "@vidpool/pool"

/**
 * How a runner evaluates a batch: the Evaluator's options that travel, as the coordinator
 * checked them.
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchOptions = Schema.Struct({
  metrics: Schema.Array(Schema.String),
  workers: Schema.optionalKey(Schema.Int),
  prefetchFactor: Schema.optionalKey(Schema.Int),
  loaderThreads: Schema.optionalKey(Schema.Int),
  onError: Schema.Literals(["fail", "record"]),
  /** Whether the whole run has samples of role "reference" (`EvaluateOptions.referenceSamples`). */
  referenceSamples: Schema.Boolean,
  /** A decoder name the runner's `BatchEvaluator` understands (the CLI's `auto`, `libav`, `ffmpeg`). */
  decoder: Schema.optionalKey(Schema.String),
  /** Model files by name, as absolute paths that every runner reads, as it reads the videos. */
  models: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  /** The SHA-256 of each model file as the coordinator read it: a runner that reads another refuses the batch. */
  modelDigests: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  modelThreads: Schema.optionalKey(Schema.Int),
  modelBatch: Schema.optionalKey(Schema.Int),
  modelProviders: Schema.optionalKey(Schema.Array(Schema.Literals(Models.providerNames))),
  referenceCache: Schema.optionalKey(Schema.Literals(["off", "read", "read-write"]))
})

/**
 * @since 0.2.0
 * @category models
 */
export type BatchOptions = typeof BatchOptions.Type

/**
 * The fields of one `Evaluate` message.
 *
 * - `runId`, `batch`: which run and which of its batches; with `digest` they make the message's
 *   primary key, so that sending it again (a coordinator restarted with the same run id) finds
 *   the stored message and its reply instead of a second evaluation, and a run id reused for
 *   other inputs is never answered with the old replies.
 * - `indices`: the samples' positions in the run's whole input.
 * - `samples`: the samples as `Wire` text: paths and decode options for the videos, the other
 *   fields as given. Never a tensor: every runner decodes from the paths itself.
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchRequest = {
  runId: Schema.String,
  batch: Schema.Int,
  digest: Schema.String,
  indices: Schema.Array(Schema.Int),
  samples: Schema.String,
  options: BatchOptions
} as const

/**
 * @since 0.2.0
 * @category models
 */
export type BatchRequest = Schema.Struct<typeof BatchRequest>["Type"]

/**
 * The timings of a batch's evaluation on its runner (the Evaluator's `timing`).
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchTiming = Schema.Struct({
  wallMs: Schema.Number,
  decodeMs: Schema.Number,
  computeMs: Schema.Number,
  waitMs: Schema.Number
})

/**
 * The reply: `results` (the samples' `SampleResult`s, indexed in the whole input) and
 * `partials` (each set metric's merged partial state over the batch), both as `Wire` text; the
 * runner that computed it and its timings.
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchReply = Schema.Struct({
  batch: Schema.Int,
  runner: Schema.String,
  results: Schema.String,
  partials: Schema.String,
  timing: BatchTiming
})

/**
 * @since 0.2.0
 * @category models
 */
export type BatchReply = typeof BatchReply.Type

/**
 * A batch could not be evaluated for a reason that is not the Evaluator's (its decoder cannot
 * start on that runner, a result has no data form to send back...).
 *
 * @since 0.2.0
 * @category errors
 */
export class BatchFailed extends Schema.TaggedError<BatchFailed>()("BatchFailed", {
  batch: Schema.Int,
  runner: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `batch ${this.batch} failed on runner ${this.runner}: ${this.detail}`
  }
}

/**
 * How a batch fails: with `onError: "fail"`, the Evaluator's own errors (a DecodeError or a
 * MetricError naming the sample by its index in the whole input); an unknown metric, invalid
 * pool options, a model the runner cannot use (a `ModelError`); or a `BatchFailed`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const BatchError = Schema.Union([DecodeError, MetricError, UnknownMetric, InvalidPoolOptions, ModelError, BatchFailed])

/**
 * @since 0.2.0
 * @category models
 */
export type BatchError = typeof BatchError.Type

/**
 * The `Evaluate` message: persisted before it is delivered, keyed by run, batch and digest, and
 * not interrupted with its sender: a coordinator that stops (Ctrl-C, a failed batch with
 * `onError: "fail"`) leaves its batches to be evaluated, so the same run id finishes later.
 *
 * @since 0.2.0
 * @category rpcs
 */
export const Evaluate = Rpc.make("Evaluate", {
  payload: BatchRequest,
  success: BatchReply,
  error: BatchError,
  primaryKey: (request) => `${request.runId}/${request.batch}/${request.digest}`
}).annotate(ClusterSchema.Persisted, true).annotate(ClusterSchema.Uninterruptible, "client")

/**
 * The entity: one per batch (`entityId`), so that a run's batches spread over the shards and
 * so over the runners.
 *
 * @since 0.2.0
 * @category entities
 */
export const EvalBatch = Entity.make("VidpoolEvalBatch", [Evaluate])

/**
 * The entity id of a run's batch.
 *
 * @since 0.2.0
 * @category constructors
 */
export const entityId = (runId: string, batch: number): string => `${runId}/${batch}`
