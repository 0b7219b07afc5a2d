/**
 * One evaluation run: opens a `VideoPool` over the samples, lets `workers` consumers lease decoded
 * samples from it (take -> compute on a metric worker thread borrowed for the consumer's lifetime
 * -> record), the lease handing the decoded memory back for the next decode, and gathers the
 * results in input order with the set metrics, a summary and the run's own timings.
 *
 * @since 0.2.0
 */
import { Effect, Exit, Option, Pool, Result, Schema, Scope } from "effect"
import { type DecodeError, isVideo, Lease, Options, type Pool as SamplePool, type VideoPool, type VideoTensor } from "@vidpool/pool"
import { type EvaluateError, type EvaluateOptions, EvaluateOptionsSchema } from "../EvaluateOptions.ts"
import * as Metric from "../Metric.ts"
import { type ComputeReply, type ModelsPayload, type SetFeed, Tensor } from "./MetricProtocol.ts"
import { applicable, type MetricRegistryShape } from "../MetricRegistry.ts"
import * as FeatureCache from "../FeatureCache.ts"
import type { ModelChecker } from "../ModelChecks.ts"
import { defaultBatch, type ModelSettings } from "../Models.ts"
import { availableParallelism } from "node:os"
import type { MetricWorkerHandle, MetricWorkerPool } from "./MetricWorker.ts"
import { type EvalResults, errorEntry, type SampleResult, summarize } from "../Results.ts"
import { MetricError } from "../MetricError.ts"

const roleOf = (sample: object): Metric.Role =>
  (sample as { role?: unknown }).role === "reference" ? "reference" : "generated"

const present = (sample: object, field: string): boolean => {
  const value = (sample as Record<string, unknown>)[field]
  return value !== undefined && value !== null
}

/**
 * A tensor whose data owns its whole ArrayBuffer, so that the buffer can be transferred; memory a
 * decoder shares with other threads (not moved) goes as it is.
 */
const transferable = (tensor: VideoTensor, lease: Lease.Lease): VideoTensor => {
  const data = tensor.data
  if (lease.isShared(data)) return tensor
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
    return tensor
  }
  return { ...tensor, data: data.slice() }
}

const isSendable = Schema.is(Tensor)

/**
 * ONNX Runtime's threads per session when not set: the cores divided among the metric workers
 * (each has its own session), at least 1.
 *
 * @since 0.3.0
 * @category defaults
 */
export const defaultModelThreads = (workers: number): number => Math.max(1, Math.floor(availableParallelism() / workers))

/**
 * What a run computes, read once from its options: the consumers and loaders, the metrics chosen
 * and their checked models, the reference features the cache holds, and the feeds of the set
 * metrics.
 */
interface RunPlan {
  readonly workers: number
  readonly prefetchFactor: number
  readonly loaderThreads: number
  /** `onError: "record"`: a failed sample is recorded, not the run's failure. */
  readonly record: boolean
  readonly onResult: ((result: SampleResult) => Effect.Effect<void>) | undefined
  readonly models: ComputeModels
  readonly cacheMode: FeatureCache.CacheMode
  readonly cacheRoot: string
  readonly cache: FeatureCache.CachePlan
  readonly sampleNames: ReadonlyArray<string>
  readonly setMetrics: ReadonlyArray<Metric.SetMetric>
  readonly setNames: ReadonlyArray<string>
  readonly setByName: ReadonlyMap<string, Metric.SetMetric>
  readonly generatedFeeds: ReadonlyArray<SetFeed>
  readonly referenceFeeds: ReadonlyArray<SetFeed>
  /** The sample fields a metric reads, and the tensors. */
  readonly fields: ReadonlySet<string>
}

type ComputeModels = ModelsPayload

/**
 * The reference features a run reads from and writes to the cache: reference samples whose
 * features the cache holds are not decoded (see `FeatureCache.plan`).
 */
const planCache = (
  samples: ReadonlyArray<object>,
  read: { readonly referenceCache?: FeatureCache.CacheMode | undefined; readonly cacheDir?: string | undefined },
  chosen: ReadonlyArray<Metric.Metric>,
  given: ReadonlyArray<{ readonly name: string; readonly digest: string }>
) => {
  const cacheMode = read.referenceCache ?? "read-write"
  const cacheRoot = FeatureCache.cacheRoot(read.cacheDir)
  return Effect.map(
    Effect.promise(() =>
      FeatureCache.plan({
        mode: cacheMode,
        root: cacheRoot,
        references: samples.flatMap((s, i) => {
          const video = (s as Record<string, unknown>).video
          return roleOf(s) === "reference" && isVideo(video) ? [[i, video] as const] : []
        }),
        metrics: chosen,
        modelDigests: Object.fromEntries(given.map((m) => [m.name, m.digest]))
      })
    ),
    (cache) => ({ cache, cacheMode, cacheRoot })
  )
}

const makePlan = Effect.fnUntraced(function*<S extends object>(
  registry: MetricRegistryShape,
  samples: ReadonlyArray<S>,
  options: EvaluateOptions,
  checker: ModelChecker
) {
  yield* Options.checkSamples(samples)
  const read = yield* EvaluateOptionsSchema.decode(options)
  // No more consumers (each with its worker thread) nor loaders than there are samples: the
  // others would only start threads that never get one.
  const workers = Math.min(read.workers ?? 1, Math.max(1, samples.length))
  const hasReferenceRole = read.referenceSamples ?? samples.some((s) => roleOf(s) === "reference")
  const given: Record<string, string> = { ...registry.models, ...options.models }
  const settings: ModelSettings = {
    threads: read.modelThreads ?? defaultModelThreads(workers),
    batch: read.modelBatch ?? defaultBatch,
    providers: read.modelProviders ?? ["cpu"]
  }
  // By default, a model metric is chosen only when its models were given.
  const chosen = read.metrics === undefined
    ? applicable(registry.metrics, samples, present, roleOf, given)
    : yield* registry.resolve(read.metrics)
  // The models are checked before anything is decoded.
  const models = { given: yield* checker.check(registry.metrics, chosen, given, settings, read.modelDigests), settings }
  const { cache, cacheMode, cacheRoot } = yield* planCache(samples, read, chosen, models.given)
  const setMetrics = chosen.filter((m): m is Metric.SetMetric => m.kind === "set")
  const plan: RunPlan = {
    workers,
    prefetchFactor: read.prefetchFactor ?? 2,
    loaderThreads: Math.min(read.loaderThreads ?? 1, Math.max(1, samples.length)),
    record: read.onError === "record",
    onResult: read.onResult,
    models,
    cacheMode,
    cacheRoot,
    cache,
    sampleNames: chosen.filter((m) => m.kind === "sample").map((m) => m.name),
    setMetrics,
    setNames: setMetrics.map((m) => m.name),
    setByName: new Map(setMetrics.map((m) => [m.name, m])),
    generatedFeeds: hasReferenceRole
      ? [{ field: "video", role: "generated" }]
      : [{ field: "video", role: "generated" }, { field: "reference", role: "reference" }],
    referenceFeeds: [{ field: "video", role: "reference" }],
    fields: new Set<string>([...chosen.flatMap((m) => m.needs), "video", "reference"])
  }
  return plan
})

/**
 * A consumer's metric worker thread, borrowed in a scope of its own (not a child of the
 * consumer's: the consumer's finalizer decides the order) so that a thread that died or may be
 * busy is invalidated before it goes back, and another can be borrowed. The thread comes with the
 * `Lease.Holder` of the memory sent to it: made before the thread is borrowed in that scope, it
 * gives the memory back only once the thread is ended or back in the pool.
 */
interface WorkerLease {
  /** The thread, borrowed on first use and after a `discard`. */
  readonly current: Effect.Effect<{ readonly handle: MetricWorkerHandle; readonly holder: Lease.Holder }>
  /** The thread died or misbehaved: it is terminated, and the next `current` borrows another. */
  readonly discard: Effect.Effect<void>
}

const borrowWorker = (workerPool: MetricWorkerPool): Effect.Effect<WorkerLease, never, Scope.Scope> =>
  Effect.gen(function*() {
    let lease: { handle: MetricWorkerHandle | undefined; readonly holder: Lease.Holder; readonly scope: Scope.Closeable } | undefined
    const end = (reuse: boolean) =>
      Effect.suspend(() => {
        const ended = lease
        lease = undefined
        if (ended === undefined) return Effect.void
        // Invalidated first: the pool then finalizes it (terminating the thread) when the lease
        // closes, instead of offering it to the next borrower.
        const invalidate = reuse || ended.handle === undefined ? Effect.void : Pool.invalidate(workerPool, ended.handle)
        return Effect.andThen(invalidate, Scope.close(ended.scope, Exit.void))
      })
    // A consumer that failed or was interrupted may leave its thread mid-metric: not reused.
    yield* Effect.addFinalizer((exit) => end(Exit.isSuccess(exit)))
    const current = Effect.suspend(() =>
      lease?.handle !== undefined ? Effect.succeed({ handle: lease.handle, holder: lease.holder }) : Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          // Recorded before the wait, so that an interrupted wait's scope is closed too.
          const scope = yield* Scope.make()
          const holder = yield* Scope.provide(Lease.holder, scope)
          const borrowed: NonNullable<typeof lease> = { handle: undefined, holder, scope }
          lease = borrowed
          const handle = yield* restore(Scope.provide(Pool.get(workerPool), scope))
          borrowed.handle = handle
          return { handle, holder }
        })
      )
    )
    return { current, discard: Effect.uninterruptible(end(false)) }
  })

/** A sample leased from the pool, its decode's failure (recorded), or the end of the samples. */
type Taken =
  | { readonly _tag: "sample"; readonly index: number; readonly sample: Record<string, unknown>; readonly lease: Lease.Lease }
  | { readonly _tag: "error"; readonly error: DecodeError; readonly index: number }
  | { readonly _tag: "done" }

const done: Taken = { _tag: "done" }

/** The timings and results one run gathers, shared by its consumers. */
interface Tally {
  readonly results: Array<SampleResult | undefined>
  computeMs: number
  waitMs: number
}

/**
 * Evaluates `samples` with the metrics of `registry`, decoding with `videoPool` and computing on
 * threads of `workerPool`. `options` are the caller's over the layer's defaults, not yet checked.
 * Each sample is leased from the pool: its decoded memory goes back to the decoder once the
 * sample is recorded (from the worker thread, which returns what was transferred to it), or when
 * the run fails or is interrupted.
 *
 * @since 0.2.0
 * @category running
 */
export const run = <S extends object>(
  videoPool: VideoPool["Service"],
  registry: MetricRegistryShape,
  workerPool: MetricWorkerPool,
  samples: ReadonlyArray<S>,
  options: EvaluateOptions,
  checker: ModelChecker
): Effect.Effect<EvalResults, EvaluateError> =>
  Effect.scoped(Effect.gen(function*() {
    const started = performance.now()
    const plan = yield* makePlan(registry, samples, options, checker)
    const tally: Tally = { results: new Array(samples.length), computeMs: 0, waitMs: 0 }
    // The pool holds prefetchFactor x workers samples, decoded or decoding.
    const pool = yield* videoPool.open(samples.map((s, i) => plan.cache.hits.has(i) ? { role: "reference" } : s), {
      loaderThreads: plan.loaderThreads,
      maxSize: plan.prefetchFactor * plan.workers,
      order: "completion"
    })
    const consumers: Consumers = { plan, pool: pool as SamplePool<unknown>, samples, registry, tally }
    const partials = yield* Effect.forEach(
      Array.from({ length: plan.workers }, (_, i) => i),
      () => consume(consumers, workerPool),
      { concurrency: plan.workers }
    )
    const merged = mergePartials(plan.setMetrics, partials)
    const ordered = tally.results.map((r, index) => r ?? { index, metrics: {} })
    return {
      samples: ordered,
      corpus: plan.setMetrics.map((metric) => metric.finalize(metric.name in merged ? merged[metric.name] : metric.init())),
      partials: merged,
      summary: summarize(ordered, plan.sampleNames),
      timing: {
        wallMs: performance.now() - started,
        decodeMs: yield* pool.decodeMillis,
        computeMs: tally.computeMs,
        waitMs: tally.waitMs
      }
    }
  }))

/** The consumers' partials of the set metrics, merged in consumer order. */
const mergePartials = (
  setMetrics: ReadonlyArray<Metric.SetMetric>,
  partials: ReadonlyArray<Record<string, unknown>>
): Record<string, unknown> => {
  const merged: Record<string, unknown> = {}
  for (const metric of setMetrics) {
    for (const partial of partials) {
      if (!(metric.name in partial)) continue
      merged[metric.name] = metric.name in merged
        ? metric.merge(merged[metric.name], partial[metric.name])
        : partial[metric.name]
    }
  }
  return merged
}

/** What a run's consumers share: the plan, the pool they lease from, the samples as given, the tally. */
interface Consumers {
  readonly plan: RunPlan
  readonly pool: SamplePool<unknown>
  readonly samples: ReadonlyArray<object>
  readonly registry: MetricRegistryShape
  readonly tally: Tally
}

/** A sample's results on a reference sample: its per-sample metrics are not computed. */
const skippedForReference = (plan: RunPlan) =>
  Object.fromEntries(plan.sampleNames.map((name) =>
    [name, Metric.skipped(name, "reference sample: per-sample metrics are not computed")]
  ))

/** Records a sample's result in the tally, and passes it to `onResult`. */
const finish = (run: Consumers, result: SampleResult) =>
  Effect.suspend(() => {
    run.tally.results[result.index] = result
    return run.plan.onResult === undefined ? Effect.void : run.plan.onResult(result)
  })

/** Folds a sample's partial of the set metric `name` into a consumer's `partials`. */
const fold = (plan: RunPlan, partials: Record<string, unknown>, name: string, partial: unknown) => {
  const metric = plan.setByName.get(name)
  if (metric === undefined) return
  partials[name] = name in partials ? metric.merge(partials[name], partial) : partial
}

/** The next sample leased from the pool, its decode's failure when failures are recorded, or `done`. */
const take = (run: Consumers): Effect.Effect<Taken, DecodeError, Scope.Scope> =>
  Effect.suspend(() => {
    const waitStart = performance.now()
    return run.pool.lease.pipe(
      Effect.map(Option.match({
        onNone: () => done,
        onSome: ([index, sample, lease]): Taken => ({ _tag: "sample", index, sample: sample as Record<string, unknown>, lease })
      })),
      Effect.catch((error: DecodeError) =>
        run.plan.record && error.index !== undefined
          ? Effect.succeed<Taken>({ _tag: "error", error, index: error.index })
          : Effect.fail(error)
      ),
      Effect.ensuring(Effect.sync(() => {
        run.tally.waitMs += performance.now() - waitStart
      }))
    )
  })

/** What a sample sends to a worker thread: its tensors (transferable), its other values, the fields to give back. */
interface Outbound {
  readonly tensors: Record<string, VideoTensor>
  readonly values: Record<string, unknown>
  readonly giveBack: Array<string>
}

/**
 * The fields of a leased sample that the metrics read, as a worker thread receives them; the name
 * of a field whose tensor a worker cannot receive (data of another type, no source path...).
 */
const outbound = (run: Consumers, taken: Extract<Taken, { _tag: "sample" }>): Outbound | string => {
  const { index, lease, sample } = taken
  const out: Outbound = { tensors: {}, values: {}, giveBack: [] }
  const given = run.samples[index] as Record<string, unknown>
  for (const field of run.plan.fields) {
    const value = sample[field]
    if (value === undefined) continue
    if (!Metric.isTensor(value)) {
      out.values[field] = value
      continue
    }
    if (!isSendable(value)) return field
    out.tensors[field] = transferable(value, lease)
    // What the pool decoded and moves to the thread comes back with the reply; a tensor the
    // caller gave stays the caller's.
    if (isVideo(given[field]) && !lease.isShared(value.data)) out.giveBack.push(field)
  }
  return out
}

/**
 * Computes one sample on the consumer's thread. Its lease moves to the thread with the tensors,
 * and the reply moves it back with the memory the thread returned; a thread that died keeps it
 * until it is ended. A tensor a worker cannot receive fails the sample, as data, instead of the run.
 */
const compute = (run: Consumers, taken: Extract<Taken, { _tag: "sample" }>, worker: WorkerLease) =>
  Effect.gen(function*() {
    const { plan } = run
    const { index, lease } = taken
    const role = roleOf(taken.sample)
    const requested = role === "reference" ? [] : plan.sampleNames
    const failure = (detail: string) =>
      new MetricError({ metric: [...requested, ...plan.setNames].join(", "), index, detail })
    const input = outbound(run, taken)
    if (typeof input === "string") {
      return Result.fail(failure(`the sample's field "${input}" is not a VideoTensor a worker thread can receive`))
    }
    const { handle, holder } = yield* worker.current
    yield* lease.moveTo(holder)
    return yield* handle.client.Compute({
      index,
      input: { tensors: input.tensors, values: input.values },
      sampleMetrics: requested,
      setMetrics: plan.setNames,
      feeds: role === "reference" ? plan.referenceFeeds : plan.generatedFeeds,
      sources: run.registry.sources,
      models: plan.models,
      cacheFeatures: plan.cacheMode === "read-write" && plan.cache.keys.has(index),
      giveBack: input.giveBack
    }).pipe(
      Effect.tap((reply) => lease.moveBack(reply.returned)),
      // The thread died (a metric ended it, ran out of memory...): the sample fails with a
      // MetricError, the thread is discarded and the next sample gets a new one.
      Effect.catchTag("RpcClientError", (error) =>
        Effect.andThen(worker.discard, Effect.fail(failure(`the worker thread computing it stopped: ${error.message}`)))),
      Effect.result
    )
  })

/** Writes the reference features of a computed sample to the cache; a failed write costs only a later decode. */
const cacheFeatures = (plan: RunPlan, index: number, reply: ComputeReply) => {
  const writeKeys = plan.cacheMode === "read-write" ? plan.cache.keys.get(index) : undefined
  if (writeKeys === undefined) return Effect.void
  return Effect.promise(() =>
    Promise.all(Object.entries(reply.features).map(([name, features]) =>
      writeKeys[name] === undefined || features instanceof Uint8Array
        ? undefined
        : FeatureCache.write(plan.cacheRoot, writeKeys[name], { features })
    ))
  )
}

/** Records a computed sample: its results, its partials folded into `partials`, its features cached. */
const record = (
  run: Consumers,
  taken: Extract<Taken, { _tag: "sample" }>,
  outcome: Result.Result<ComputeReply, MetricError>,
  partials: Record<string, unknown>
) =>
  Effect.gen(function*() {
    const { plan } = run
    const { index } = taken
    const reference = roleOf(taken.sample) === "reference"
    if (outcome._tag === "Failure") {
      if (!plan.record) return yield* Effect.fail(outcome.failure)
      // No metric of the sample could run: each records the error.
      const error = outcome.failure
      return yield* finish(run, {
        index,
        metrics: reference
          ? skippedForReference(plan)
          : Object.fromEntries(plan.sampleNames.map((name) => [name, Metric.failed(error, name)])),
        error: errorEntry(error)
      })
    }
    const reply = outcome.success
    yield* cacheFeatures(plan, index, reply)
    run.tally.computeMs += reply.computeMs
    const failures = reply.failures.map((f) => new MetricError({ metric: f.metric, index, detail: f.detail }))
    if (failures.length > 0 && !plan.record) return yield* Effect.fail(failures[0])
    for (const [name, partial] of Object.entries(reply.partials)) fold(plan, partials, name, partial)
    yield* finish(run, {
      index,
      metrics: reference ? skippedForReference(plan) : reply.results,
      ...(failures.length > 0 ? { error: errorEntry(failures[0]) } : {})
    })
  })

/** One sample, in its own scope: take -> compute -> record. `false` once the samples are done. */
const step = (run: Consumers, worker: WorkerLease, partials: Record<string, unknown>) =>
  Effect.scoped(Effect.gen(function*() {
    const taken = yield* take(run)
    if (taken._tag === "done") return false
    if (taken._tag === "error") {
      yield* finish(run, { index: taken.index, metrics: {}, error: errorEntry(taken.error) })
      return true
    }
    const hit = run.plan.cache.hits.get(taken.index)
    if (hit !== undefined) {
      // Features from the cache: folded here, without a decode or a model run.
      for (const [name, partial] of Object.entries(FeatureCache.partialsOf(run.plan.setMetrics, hit))) {
        fold(run.plan, partials, name, partial)
      }
      yield* finish(run, { index: taken.index, metrics: skippedForReference(run.plan) })
      return true
    }
    const outcome = yield* compute(run, taken, worker)
    yield* record(run, taken, outcome, partials)
    return true
  }))

/**
 * A consumer of the run's pool, on a worker thread of `workerPool`: each sample in a scope of its
 * own, taken (with its lease), computed on the consumer's worker thread, recorded; the lease gives
 * its memory back when the scope closes. Returns the consumer's partials of the set metrics.
 */
const consume = (run: Consumers, workerPool: MetricWorkerPool) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* borrowWorker(workerPool)
    // Borrowed at once, so that a new thread starts while the first samples decode.
    yield* worker.current
    /** This consumer's partials of the set metrics, merged from the samples' partials. */
    const partials: Record<string, unknown> = {}
    while (yield* step(run, worker, partials)) {
      // every sample is recorded by `step`
    }
    return partials
  }))
