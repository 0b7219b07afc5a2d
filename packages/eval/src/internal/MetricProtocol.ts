/**
 * The messages between an Evaluator consumer and the metric worker thread that computes for it
 * (`effect/rpc` over `effect/workers`), each with a Schema: a sample's tensors (their ArrayBuffers
 * transferred, not copied) and other values, which metrics to run, and the reply, which can hand
 * the tensors' memory back for the next decode.
 *
 * @since 0.2.0
 */
import { Schema, SchemaGetter } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import { Transferable } from "effect/workers"
import * as Metric from "../Metric.ts"
import { MetricError } from "../MetricError.ts"

/**
 * The ArrayBuffer behind an array when it can be moved to another thread (memory shared between
 * threads is not moved: both sides see it).
 */
const movable = (data: Uint8Array | Float32Array): ArrayBuffer | undefined =>
  data.buffer instanceof ArrayBuffer ? data.buffer : undefined

/**
 * Worker messages are structured clones, not JSON: a value declared with this link goes to the
 * other thread as it is.
 */
const asItIs = Schema.link<unknown>()(Schema.Any, {
  decode: SchemaGetter.passthrough(),
  encode: SchemaGetter.passthrough()
})

/**
 * Any value a structured clone carries (a metric's details or partial state, a sample's field).
 *
 * @since 0.2.0
 * @category schemas
 */
export const Cloned = Schema.declare((_u: unknown): _u is unknown => true, {
  expected: "a value a structured clone can carry",
  toCodecJson: () => asItIs
})

/**
 * The data of a tensor: bytes or 32-bit floats.
 *
 * @since 0.2.0
 * @category schemas
 */
export const TensorData = Schema.declare(
  (u): u is Uint8Array | Float32Array => u instanceof Uint8Array || u instanceof Float32Array,
  { expected: "a Uint8Array or a Float32Array", toCodecJson: () => asItIs }
)

const Dimension = Schema.Number

/**
 * A decoded video as it travels between threads: a `VideoTensor`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Tensor = Schema.Struct({
  data: TensorData,
  shape: Schema.Tuple([Dimension, Dimension, Dimension, Dimension]),
  layout: Schema.Literals(["THWC", "TCHW"]),
  dtype: Schema.Literals(["uint8", "float32"]),
  fps: Schema.Number,
  timestamps: Schema.optionalKey(Schema.Array(Schema.Number)),
  source: Schema.Struct({
    path: Schema.String,
    width: Schema.optionalKey(Schema.Number),
    height: Schema.optionalKey(Schema.Number),
    fps: Schema.optionalKey(Schema.Number),
    frameCount: Schema.optionalKey(Schema.Number),
    duration: Schema.optionalKey(Schema.Number),
    codec: Schema.optionalKey(Schema.String),
    pixelFormat: Schema.optionalKey(Schema.String),
    rotation: Schema.optionalKey(Schema.Number),
    decodedFrames: Schema.optionalKey(Schema.Number)
  })
})

/**
 * The fields of one sample for its metrics: the decoded videos, whose memory is transferred to
 * the worker, and every other field (a prompt, a number...), cloned as given.
 *
 * @since 0.2.0
 * @category schemas
 */
export const SampleInput = Schema.Struct({
  tensors: Schema.Record(Schema.String, Tensor),
  values: Schema.Record(Schema.String, Cloned)
}).pipe(Transferable.schema((input) => buffersOf(Object.values(input.tensors).map((t) => t.data))))

/**
 * The distinct movable ArrayBuffers of some arrays.
 *
 * @since 0.2.0
 * @category transfer
 */
export const buffersOf = (arrays: Iterable<Uint8Array | Float32Array>): Array<ArrayBuffer> => {
  const buffers = new Set<ArrayBuffer>()
  for (const data of arrays) {
    const buffer = movable(data)
    if (buffer !== undefined && buffer.byteLength > 0) buffers.add(buffer)
  }
  return Array.from(buffers)
}

/**
 * Which field of a sample feeds the set metrics' `video`, and in which role.
 *
 * @since 0.1.0
 * @category models
 */
export const SetFeed = Schema.Struct({
  field: Schema.String,
  role: Schema.Literals(["generated", "reference"])
})

/**
 * @since 0.1.0
 * @category models
 */
export type SetFeed = typeof SetFeed.Type

/**
 * Where a worker thread finds the registry's metrics (see `MetricRegistry.metricSources`).
 *
 * @since 0.2.0
 * @category schemas
 */
export const MetricSourcesSchema = Schema.Struct({
  key: Schema.String,
  modules: Schema.Array(Schema.String),
  extractor: Schema.NullOr(Schema.String)
})

/**
 * The models a request's metrics may run: each given model (name, path, content digest) and the
 * runtime settings.
 *
 * @since 0.3.0
 * @category schemas
 */
export const ModelsPayload = Schema.Struct({
  given: Schema.Array(Schema.Struct({ name: Schema.String, path: Schema.String, digest: Schema.String })),
  settings: Schema.Struct({
    threads: Schema.Number,
    batch: Schema.Number,
    providers: Schema.Array(Schema.String)
  })
})

/**
 * @since 0.3.0
 * @category models
 */
export type ModelsPayload = typeof ModelsPayload.Type

/**
 * One metric's verdict, as data.
 *
 * @since 0.2.0
 * @category schemas
 */
export const MetricResultSchema = Schema.Struct({
  name: Schema.String,
  score: Schema.NullOr(Schema.Number),
  details: Schema.Record(Schema.String, Cloned)
})

/**
 * A metric that threw on a sample: its name and the message.
 *
 * @since 0.1.0
 * @category models
 */
export const MetricFailure = Schema.Struct({ metric: Schema.String, detail: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export type MetricFailure = typeof MetricFailure.Type

/**
 * What `Compute` answers: the sample metrics' results (one that threw has a `Metric.failed`
 * result), the metrics that threw (per-sample or set, in the order they ran), each set metric's
 * partial over this sample alone (empty when a set metric threw: the sample then counts for no
 * set metric), the CPU time spent, and the memory of the tensors the request asked to have back
 * (transferred, so the main thread can reuse it for the next decode).
 *
 * @since 0.1.0
 * @category models
 */
export const ComputeReply = Schema.Struct({
  results: Schema.Record(Schema.String, MetricResultSchema),
  failures: Schema.Array(MetricFailure),
  partials: Schema.Record(Schema.String, Cloned),
  computeMs: Schema.Number,
  returned: Schema.Array(TensorData),
  /** With `cacheFeatures`: each cacheable set metric's features of the sample (null: left out). */
  features: Schema.Record(Schema.String, Schema.NullOr(TensorData))
}).pipe(Transferable.schema((reply) => buffersOf(reply.returned)))

/**
 * @since 0.1.0
 * @category models
 */
export type ComputeReply = typeof ComputeReply.Type

/**
 * Computes the sample metrics of one sample and folds it into a fresh partial (`init()`) of each
 * set metric, which the reply carries back to be merged on the main thread: the worker keeps no
 * state between samples, so a worker that dies loses nothing but the sample it was computing. A
 * metric that throws does not stop the others. `giveBack` names the tensors whose memory the
 * reply returns (those the main thread's decoder can reuse).
 *
 * @since 0.1.0
 * @category messages
 */
export class Compute extends Rpc.make("Compute", {
  payload: {
    index: Schema.Number,
    input: SampleInput,
    sampleMetrics: Schema.Array(Schema.String),
    setMetrics: Schema.Array(Schema.String),
    feeds: Schema.Array(SetFeed),
    /** The modules the worker loads its catalogue from. */
    sources: MetricSourcesSchema,
    /** The model files and runtime settings of the model metrics. */
    models: ModelsPayload,
    /** Whether the reply carries the features of the set metrics that have a `cached` field. */
    cacheFeatures: Schema.Boolean,
    giveBack: Schema.Array(Schema.String)
  },
  success: ComputeReply,
  error: MetricError
}) {}

/**
 * @since 0.1.0
 * @category messages
 */
export const MetricRpcs = RpcGroup.make(Compute)
