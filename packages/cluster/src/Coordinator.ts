/**
 * The coordinator: one evaluation split into batches, each sent to its `EvalBatch` entity
 * (and so to whichever runner owns its shard), the replies put back into input order and the
 * set metrics' partials merged, in batch order, then finalized once: the `EvalResults` of a
 * one-machine `evaluate` of the samples, with the same per-sample results; the set metrics' sums
 * are grouped by batch, so they agree to float rounding (the same inputs and batch size always
 * give the same value).
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import * as NodePath from "node:path"
import { Effect, Schema } from "effect"
import type { Sharding } from "effect/cluster"
import {
  type EvalResults,
  EvaluateOptionsSchema,
  Metric,
  howToGive,
  MetricRegistry,
  modelDigest,
  ModelError,
  neededModels,
  type SampleResult,
  summarize
} from "@vidpool/eval"
import { isVideo, Options } from "@vidpool/pool"
import { BatchFailed, type BatchOptions, type BatchReply, entityId, EvalBatch } from "./Batch.ts"
import * as Paths from "./internal/Paths.ts"
import * as Wire from "./Wire.ts"

/**
 * @since 0.2.0
 * @category models
 */
export interface ClusterEvaluateOptions extends Omit<BatchOptions, "referenceSamples"> {
  /**
   * The run's id. A coordinator started again with the same id and the same inputs gets the
   * stored replies of the batches already evaluated, and waits for the others.
   */
  readonly runId: string
  /** Samples per batch (default 8). */
  readonly batchSize?: number | undefined
  /** Batches sent and awaited at once (default 64); the rest are sent as these finish. */
  readonly inFlight?: number | undefined
  /** Called with each sample's result (indexed in the whole input) as its batch's reply arrives. */
  readonly onResult?: ((result: SampleResult) => Effect.Effect<void>) | undefined
}

/**
 * A coordinator's option that cannot work.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidClusterOptions extends Schema.TaggedError<InvalidClusterOptions>()("InvalidClusterOptions", {
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid cluster options: ${this.detail}`
  }
}

/**
 * The cluster could not take a batch: its message could not be stored or routed (storage
 * failed, a mailbox was full...).
 *
 * @since 0.2.0
 * @category errors
 */
export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", {
  batch: Schema.Int,
  detail: Schema.String
}) {
  override get message(): string {
    return `the cluster could not take batch ${this.batch}: ${this.detail}`
  }
}

/**
 * What a coordinator measured about its messages: the bytes of the samples sent and of the
 * replies received (their `Wire` text, the part that grows with the samples), per batch.
 *
 * @since 0.2.0
 * @category models
 */
export interface WireStats {
  readonly batches: number
  readonly requestBytes: number
  readonly replyBytes: number
}

/** A sample whose videos can travel: only paths and decode options, never a tensor. */
const checkSample = (sample: object, index: number): string | undefined => {
  for (const [field, value] of Object.entries(sample)) {
    if (Metric.isTensor(value)) return `sample ${index}'s field "${field}" is a decoded tensor: a cluster run sends paths (Video values), never tensors`
    if (isVideo(value) && value.source !== "file" && value.source !== "folder") return `sample ${index}'s field "${field}" is not a file or folder`
  }
  return undefined
}

const digestOf = (runId: string, batch: number, indices: ReadonlyArray<number>, options: BatchOptions, samples: string): string =>
  createHash("sha256").update(JSON.stringify([runId, batch, indices, options])).update("\n").update(samples).digest("hex").slice(0, 32)

/**
 * The model files as they travel: the files of the models the chosen metrics run, as absolute
 * paths (the runners read them, as they read the videos) with the SHA-256 of what this machine
 * reads there (or the caller's `modelDigests`, recorded when its run began), so that a runner
 * reading another file refuses the batch (`ModelError`, `Changed`) instead of scoring with another
 * model. A model the chosen metrics need and `models` does not give is a `NotGiven` error, and a
 * file that cannot be read here a `FileMissing` one, before anything is sent: a runner never scores
 * with a file of its own that nobody checked.
 */
const modelsToSend = Effect.fnUntraced(function*(
  chosen: ReadonlyArray<Metric.Metric>,
  models: Readonly<Record<string, string>> | undefined,
  given: Readonly<Record<string, string>> | undefined
) {
  const needed = neededModels(chosen)
  if (needed.length === 0) return {}
  const paths: Record<string, string> = {}
  const digests: Record<string, string> = {}
  for (const { metrics, spec } of needed) {
    const file = models?.[spec.name]
    if (file === undefined || file === "") {
      return yield* new ModelError({
        reason: "NotGiven",
        model: spec.name,
        metrics,
        detail: `a cluster run sends its model files to the runners, and no file was given: ${howToGive(spec)}`
      })
    }
    paths[spec.name] = NodePath.resolve(file)
    digests[spec.name] = given?.[spec.name] ?? (yield* modelDigest(spec.name, file, metrics))
  }
  return { models: paths, modelDigests: digests }
})

/** The coordinator's own options, checked: samples per batch and batches in flight. */
const checkOptions = (options: ClusterEvaluateOptions) =>
  Effect.gen(function*() {
    const batchSize = options.batchSize ?? 8
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      return yield* new InvalidClusterOptions({ detail: `batchSize must be a whole number >= 1, got ${batchSize}` })
    }
    const inFlight = options.inFlight ?? 64
    if (!Number.isSafeInteger(inFlight) || inFlight < 1) {
      return yield* new InvalidClusterOptions({ detail: `inFlight must be a whole number >= 1, got ${inFlight}` })
    }
    if (options.runId.length === 0 || options.runId.length > 200) {
      return yield* new InvalidClusterOptions({ detail: "the run id must have 1 to 200 characters" })
    }
    return { batchSize, inFlight }
  })

/** The options every batch is evaluated with: the chosen metrics by name and the model files as they travel. */
const batchOptionsOf = (samples: ReadonlyArray<object>, chosen: ReadonlyArray<Metric.Metric>, options: ClusterEvaluateOptions) =>
  Effect.map(modelsToSend(chosen, options.models, options.modelDigests), (models): BatchOptions => ({
    metrics: chosen.map((m) => m.name),
    onError: options.onError,
    // Decided over the whole run, as one evaluate call would, not batch by batch.
    referenceSamples: samples.some((s) => (s as { role?: unknown }).role === "reference"),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.prefetchFactor !== undefined ? { prefetchFactor: options.prefetchFactor } : {}),
    ...(options.loaderThreads !== undefined ? { loaderThreads: options.loaderThreads } : {}),
    ...(options.decoder !== undefined ? { decoder: options.decoder } : {}),
    ...models,
    ...(options.modelThreads !== undefined ? { modelThreads: options.modelThreads } : {}),
    ...(options.modelBatch !== undefined ? { modelBatch: options.modelBatch } : {}),
    ...(options.modelProviders !== undefined ? { modelProviders: options.modelProviders } : {}),
    ...(options.referenceCache !== undefined ? { referenceCache: options.referenceCache } : {})
  }))

/**
 * Every sample written before anything is sent, so that one that cannot travel fails the run at
 * once. A relative path travels absolute; what comes back names it as given (`Paths`).
 */
const encodeSamples = (samples: ReadonlyArray<object>) =>
  Effect.gen(function*() {
    const texts: Array<string> = []
    const given: Array<Paths.Given> = []
    for (let i = 0; i < samples.length; i++) {
      const sent = Paths.absolute(samples[i])
      given.push(sent.given)
      texts.push(yield* Effect.try({
        try: () => Wire.encodeUnsafe(sent.sample),
        catch: (error) =>
          error instanceof Wire.WireError
            ? new Wire.WireError({ path: `sample ${i}${error.path.slice(1)}`, detail: error.detail })
            : new Wire.WireError({ path: `sample ${i}`, detail: String(error) })
      }))
    }
    return { texts, given }
  })

/** One run's batches as they go out and come back: what is sent, and the replies and results gathered. */
interface Sending {
  readonly runId: string
  readonly batchSize: number
  readonly batchOptions: BatchOptions
  readonly texts: ReadonlyArray<string>
  readonly given: ReadonlyArray<Paths.Given>
  readonly onResult: ((result: SampleResult) => Effect.Effect<void>) | undefined
  readonly client: Effect.Success<typeof EvalBatch.client>
  readonly results: Array<SampleResult | undefined>
  readonly replies: Array<BatchReply | undefined>
  requestBytes: number
  replyBytes: number
}

/** The results of a batch's reply, which must cover exactly the batch's samples: a stored reply of another layout never fills a row. */
const placedResults = (batch: number, indices: ReadonlyArray<number>, reply: BatchReply) =>
  Effect.gen(function*() {
    const placed = yield* Effect.try({
      try: () => Wire.decodeUnsafe(reply.results) as Array<SampleResult>,
      catch: (cause) => new BatchFailed({ batch, runner: reply.runner, detail: `its reply cannot be read: ${String(cause)}` })
    })
    const covered = Array.isArray(placed) ? placed.map((r) => r?.index).sort((a, b) => a - b) : []
    if (covered.length !== indices.length || covered.some((index, k) => index !== indices[k])) {
      return yield* new BatchFailed({ batch, runner: reply.runner, detail: `its reply covers samples ${covered.join(", ")}, not ${indices.join(", ")}` })
    }
    return placed
  })

/** Sends batch `batch` to its entity and places its reply's results, each passed to `onResult` once. */
const sendBatch = (run: Sending, batch: number) =>
  Effect.gen(function*() {
    const { batchSize, given, runId } = run
    const count = Math.min(batchSize, run.texts.length - batch * batchSize)
    const indices = Array.from({ length: count }, (_, i) => batch * batchSize + i)
    const text = `[${indices.map((i) => run.texts[i]).join(",")}]`
    run.requestBytes += text.length
    const unavailable = (error: { readonly message: string }) => Effect.fail(new ClusterUnavailable({ batch, detail: error.message }))
    const reply = yield* run.client(entityId(runId, batch)).Evaluate({
      runId,
      batch,
      digest: digestOf(runId, batch, indices, run.batchOptions, text),
      indices,
      samples: text,
      options: run.batchOptions
    }).pipe(
      Effect.catchTags({
        MailboxFull: unavailable,
        AlreadyProcessingMessage: unavailable,
        PersistenceError: unavailable,
        EntityNotAssignedToRunner: unavailable
      }),
      Effect.mapError((error) => Paths.showError(error, (index) => given[index] ?? []))
    )
    run.replyBytes += reply.results.length + reply.partials.length
    const placed = yield* placedResults(batch, indices, reply)
    run.replies[batch] = reply
    for (const item of placed) {
      if (run.results[item.index] !== undefined) continue
      const result = Paths.showResult(item, given[item.index])
      run.results[result.index] = result
      if (run.onResult !== undefined) yield* run.onResult(result)
    }
  })

/**
 * The set metrics' partials of the replies merged in batch order, whatever order the replies came
 * in (the same inputs give the same sums), and the runners' timings summed.
 */
const mergeReplies = (setMetrics: ReadonlyArray<Metric.SetMetric>, replies: ReadonlyArray<BatchReply | undefined>) =>
  Effect.gen(function*() {
    const merged: Record<string, unknown> = {}
    const timing = { decodeMs: 0, computeMs: 0, waitMs: 0 }
    for (const reply of replies) {
      if (reply === undefined) continue
      timing.decodeMs += reply.timing.decodeMs
      timing.computeMs += reply.timing.computeMs
      timing.waitMs += reply.timing.waitMs
      yield* Effect.try({
        try: () => {
          const partials = Wire.decodeUnsafe(reply.partials) as Record<string, unknown>
          for (const metric of setMetrics) {
            if (!(metric.name in partials)) continue
            merged[metric.name] = metric.name in merged ? metric.merge(merged[metric.name], partials[metric.name]) : partials[metric.name]
          }
        },
        catch: (cause) =>
          new BatchFailed({
            batch: reply.batch,
            runner: reply.runner,
            detail: `its set-metric partials cannot be merged: ${cause instanceof Error ? cause.message : String(cause)}`
          })
      })
    }
    return { merged, timing }
  })

/**
 * Evaluates `samples` over the cluster that `Sharding` reaches (a client-only connection, or the
 * single-process mode), with the metrics of the `MetricRegistry` in context for merging and
 * finalizing the set metrics. `stats`, when given, receives the bytes the messages carried.
 *
 * @since 0.2.0
 * @category running
 */
export const evaluate = Effect.fn("Coordinator.evaluate")(function*(
  samples: ReadonlyArray<object>,
  options: ClusterEvaluateOptions,
  stats?: (stats: WireStats) => void
) {
  const started = performance.now()
  const registry = yield* MetricRegistry
  const { batchSize, inFlight } = yield* checkOptions(options)
  yield* Options.checkSamples(samples)
  const { metrics } = yield* EvaluateOptionsSchema.decode({ metrics: options.metrics })
  for (let i = 0; i < samples.length; i++) {
    const problem = checkSample(samples[i], i)
    if (problem !== undefined) return yield* new InvalidClusterOptions({ detail: problem })
  }
  const chosen = yield* registry.resolve(metrics ?? [])
  const batchOptions = yield* batchOptionsOf(samples, chosen, options)
  const { given, texts } = yield* encodeSamples(samples)
  const batches = Math.ceil(samples.length / batchSize)
  const run: Sending = {
    runId: options.runId,
    batchSize,
    batchOptions,
    texts,
    given,
    onResult: options.onResult,
    client: yield* EvalBatch.client,
    results: new Array(samples.length),
    replies: new Array(batches),
    requestBytes: 0,
    replyBytes: 0
  }
  yield* Effect.forEach(Array.from({ length: batches }, (_, b) => b), (batch) => sendBatch(run, batch), { concurrency: inFlight, discard: true })
  const setMetrics = chosen.filter((m): m is Metric.SetMetric => m.kind === "set")
  const { merged, timing } = yield* mergeReplies(setMetrics, run.replies)
  stats?.({ batches, requestBytes: run.requestBytes, replyBytes: run.replyBytes })
  const ordered = run.results.map((r, index) => r ?? { index, metrics: {} })
  const out: EvalResults = {
    samples: ordered,
    corpus: setMetrics.map((metric) => metric.finalize(metric.name in merged ? merged[metric.name] : metric.init())),
    partials: merged,
    summary: summarize(ordered, chosen.filter((m) => m.kind === "sample").map((m) => m.name)),
    timing: { wallMs: performance.now() - started, ...timing }
  }
  return out
})

/**
 * The services `evaluate` needs.
 *
 * @since 0.2.0
 * @category models
 */
export type Requirements = Sharding.Sharding | MetricRegistry
