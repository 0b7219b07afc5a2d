/**
 * One evaluation run: opens a `VideoPool` over the samples, lets `workers` consumers take decoded
 * samples from it, has each computed on a metric worker thread borrowed for the consumer's
 * lifetime, hands the decoded memory back for the next decode, and gathers the results in input
 * order with the set metrics, a summary and the run's own timings.
 *
 * @since 0.2.0
 */
import { Effect, Exit, Option, Pool, Result, Schema, Scope } from "effect"
import { type DecodeError, isVideo, Options, TensorBuffers, type TensorBuffersShape, type VideoPool, type VideoTensor } from "@vidpool/pool"
import { type EvaluateError, type EvaluateOptions, EvaluateOptionsSchema } from "./EvaluateOptions.ts"
import * as Metric from "./Metric.ts"
import { type ComputeReply, type SetFeed, Tensor } from "./MetricProtocol.ts"
import { applicable, type MetricRegistryShape } from "./MetricRegistry.ts"
import * as FeatureCache from "./FeatureCache.ts"
import type { ModelChecker } from "./ModelChecks.ts"
import { defaultBatch, type ModelSettings } from "./Models.ts"
import { availableParallelism } from "node:os"
import type { MetricWorkerHandle, MetricWorkerPool } from "./MetricWorker.ts"
import { type EvalResults, errorEntry, type SampleResult, summarize } from "./Results.ts"

const roleOf = (sample: object): Metric.Role =>
  (sample as { role?: unknown }).role === "reference" ? "reference" : "generated"

const present = (sample: object, field: string): boolean => {
  const value = (sample as Record<string, unknown>)[field]
  return value !== undefined && value !== null
}

/**
 * A tensor whose data owns its whole ArrayBuffer, so that the buffer can be transferred; memory a
 * decoder lent (shared with the worker, not moved) goes as it is.
 */
const transferable = (tensor: VideoTensor): VideoTensor => {
  const data = tensor.data
  if (TensorBuffers.isLent(data)) return tensor
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

type Taken =
  | { readonly _tag: "item"; readonly item: readonly [number, unknown] }
  | { readonly _tag: "error"; readonly error: DecodeError; readonly index: number }

/**
 * Evaluates `samples` with the metrics of `registry`, decoding with `videoPool` and computing on
 * threads of `workerPool`. `options` are the caller's over the layer's defaults, not yet checked.
 * With `buffers` (the free list the decoder takes from), the workers hand the decoded memory back
 * with their replies and it goes there for the next decodes; memory a decoder lent goes back to
 * it in any case.
 *
 * @since 0.2.0
 * @category running
 */
export const run = <S extends object>(
  videoPool: VideoPool["Service"],
  registry: MetricRegistryShape,
  workerPool: MetricWorkerPool,
  buffers: TensorBuffersShape | undefined,
  samples: ReadonlyArray<S>,
  options: EvaluateOptions,
  checker: ModelChecker
): Effect.Effect<EvalResults, EvaluateError> =>
  Effect.scoped(Effect.gen(function*() {
    const started = performance.now()
    yield* Options.checkSamples(samples)
    const read = yield* EvaluateOptionsSchema.decode(options)
    // No more consumers (each with its worker thread) nor loaders than there are samples: the
    // others would only start threads that never get one.
    const workers = Math.min(read.workers ?? 1, Math.max(1, samples.length))
    const prefetchFactor = read.prefetchFactor ?? 2
    const loaderThreads = Math.min(read.loaderThreads ?? 1, Math.max(1, samples.length))
    const record = read.onError === "record"
    const onResult = read.onResult

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
    // Reference samples whose features the cache holds are not decoded (see `FeatureCache.plan`).
    const cacheMode = read.referenceCache ?? "read-write"
    const cacheRoot = FeatureCache.cacheRoot(read.cacheDir)
    const cache = yield* Effect.promise(() =>
      FeatureCache.plan({
        mode: cacheMode,
        root: cacheRoot,
        references: samples.flatMap((s, i) => {
          const video = (s as Record<string, unknown>).video
          return roleOf(s) === "reference" && isVideo(video) ? [[i, video] as const] : []
        }),
        metrics: chosen,
        modelDigests: Object.fromEntries(models.given.map((m) => [m.name, m.digest]))
      })
    )
    const sampleMetrics = chosen.filter((m): m is Metric.SampleMetric => m.kind === "sample")
    const setMetrics = chosen.filter((m): m is Metric.SetMetric => m.kind === "set")
    const sampleNames = sampleMetrics.map((m) => m.name)
    const setNames = setMetrics.map((m) => m.name)
    const setByName = new Map(setMetrics.map((m) => [m.name, m]))
    const generatedFeeds: ReadonlyArray<SetFeed> = hasReferenceRole
      ? [{ field: "video", role: "generated" }]
      : [{ field: "video", role: "generated" }, { field: "reference", role: "reference" }]
    const referenceFeeds: ReadonlyArray<SetFeed> = [{ field: "video", role: "reference" }]
    const fields = new Set<string>([...chosen.flatMap((m) => m.needs), "video", "reference"])

    const results: Array<SampleResult | undefined> = new Array(samples.length)
    let computeMs = 0
    let waitMs = 0

    const finish = (result: SampleResult) =>
      Effect.suspend(() => {
        results[result.index] = result
        return onResult === undefined ? Effect.void : onResult(result)
      })

    const skippedForReference = () =>
      Object.fromEntries(sampleNames.map((name) =>
        [name, Metric.skipped(name, "reference sample: per-sample metrics are not computed")]
      ))

    // The pool holds prefetchFactor x workers samples, decoded or decoding.
    const pool = yield* videoPool.open(samples.map((s, i) => cache.hits.has(i) ? { role: "reference" } : s), {
      loaderThreads,
      maxSize: prefetchFactor * workers,
      order: "completion"
    })

    const consume = Effect.fnUntraced(function*(_: number) {
      // This consumer's worker thread, borrowed in a scope of its own (not a child of the
      // consumer's: its finalizer below decides the order) so that a thread that died or may be
      // busy is invalidated before it goes back, and another can be borrowed.
      let lease: { handle: MetricWorkerHandle | undefined; readonly scope: Scope.Closeable } | undefined
      // Memory a decoder lent for the sample in the worker: handed back once the worker is done
      // with it (after its reply, or, when the consumer is interrupted, once it is terminated).
      let lent: Array<VideoTensor> = []
      const giveBackLent = Effect.sync(() => {
        for (const tensor of lent) TensorBuffers.releaseLentUnsafe(tensor.data)
        lent = []
      })
      const endLease = (reuse: boolean) =>
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
      yield* Effect.addFinalizer((exit) => Effect.andThen(endLease(Exit.isSuccess(exit)), giveBackLent))
      const currentWorker = Effect.suspend(() =>
        lease?.handle !== undefined ? Effect.succeed(lease.handle) : Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            // Recorded before the wait, so that an interrupted wait's scope is closed too.
            const current = { handle: undefined as MetricWorkerHandle | undefined, scope: yield* Scope.make() }
            lease = current
            current.handle = yield* restore(Scope.provide(Pool.get(workerPool), current.scope))
            return current.handle
          })
        )
      )
      // Borrowed at once, so that a new thread starts while the first samples decode.
      yield* currentWorker
      /** This consumer's partials of the set metrics, merged from the samples' partials. */
      const partials: Record<string, unknown> = {}
      while (true) {
        const waitStart = performance.now()
        const next: Option.Option<Taken> = yield* pool.take.pipe(
          Effect.map(Option.map((item): Taken => ({ _tag: "item", item }))),
          Effect.catch((error: DecodeError) =>
            record && error.index !== undefined
              ? Effect.succeed(Option.some<Taken>({ _tag: "error", error, index: error.index }))
              : Effect.fail(error)
          )
        )
        waitMs += performance.now() - waitStart
        if (Option.isNone(next)) break
        const taken = next.value
        if (taken._tag === "error") {
          yield* finish({ index: taken.index, metrics: {}, error: errorEntry(taken.error) })
          continue
        }
        const [index, decoded] = taken.item
        const hit = cache.hits.get(index)
        if (hit !== undefined) {
          // Features from the cache: folded here, without a decode or a model run.
          for (const [name, partial] of Object.entries(FeatureCache.partialsOf(setMetrics, hit))) {
            const metric = setByName.get(name)!
            partials[name] = name in partials ? metric.merge(partials[name], partial) : partial
          }
          yield* finish({ index, metrics: skippedForReference() })
          continue
        }
        const writeKeys = cacheMode === "read-write" ? cache.keys.get(index) : undefined
        const sample = decoded as Record<string, unknown>
        const role = roleOf(sample)
        const tensors: Record<string, VideoTensor> = {}
        const values: Record<string, unknown> = {}
        const giveBack: Array<string> = []
        let unsendable: string | undefined
        const given = samples[index] as Record<string, unknown>
        for (const field of fields) {
          const value = sample[field]
          if (value === undefined) continue
          if (!Metric.isTensor(value)) {
            values[field] = value
            continue
          }
          if (!isSendable(value)) {
            unsendable ??= field
            continue
          }
          tensors[field] = transferable(value)
          // Only what the pool decoded is handed back; a tensor the caller gave stays the caller's.
          if (!isVideo(given[field])) continue
          if (TensorBuffers.isLent(value.data)) lent.push(value)
          else if (buffers !== undefined) giveBack.push(field)
        }
        const requested = role === "reference" ? [] : sampleNames
        const { client } = yield* currentWorker
        // A tensor a worker cannot receive (data of another type, no source path...) fails its
        // sample, as data, instead of the run.
        const outcome = unsendable !== undefined
          ? Result.fail(
            new Metric.MetricError({
              metric: [...requested, ...setNames].join(", "),
              index,
              detail: `the sample's field "${unsendable}" is not a VideoTensor a worker thread can receive`
            })
          )
          : yield* client.Compute({
          index,
          input: { tensors, values },
          sampleMetrics: requested,
          setMetrics: setNames,
          feeds: role === "reference" ? referenceFeeds : generatedFeeds,
          sources: registry.sources,
          models,
          cacheFeatures: writeKeys !== undefined,
          giveBack
        }).pipe(
          // The thread died (a metric ended it, ran out of memory...): the sample fails with a
          // MetricError, the thread is discarded and the next sample gets a new one.
          Effect.catchTag("RpcClientError", (error) =>
            Effect.andThen(
              Effect.uninterruptible(endLease(false)),
              Effect.fail(
                new Metric.MetricError({
                  metric: [...requested, ...setNames].join(", "),
                  index,
                  detail: `the worker thread computing it stopped: ${error.message}`
                })
              )
            )),
          Effect.result
        )
        // The worker is done with the sample (or was discarded): lent memory goes back at once.
        yield* giveBackLent
        if (outcome._tag === "Failure") {
          if (!record) return yield* Effect.fail(outcome.failure)
          // No metric of the sample could run: each records the error.
          const error = outcome.failure
          yield* finish({
            index,
            metrics: role === "reference"
              ? skippedForReference()
              : Object.fromEntries(requested.map((name) => [name, Metric.failed(error, name)])),
            error: errorEntry(error)
          })
          continue
        }
        const reply: ComputeReply = outcome.success
        if (buffers !== undefined) for (const data of reply.returned) buffers.giveUnsafe(data)
        if (writeKeys !== undefined) {
          // A failed write costs only a later decode: it does not fail the sample.
          yield* Effect.promise(() =>
            Promise.all(Object.entries(reply.features).map(([name, features]) =>
              writeKeys[name] === undefined || features instanceof Uint8Array
                ? undefined
                : FeatureCache.write(cacheRoot, writeKeys[name], { features })
            ))
          )
        }
        computeMs += reply.computeMs
        const failures = reply.failures.map((f) => new Metric.MetricError({ metric: f.metric, index, detail: f.detail }))
        if (failures.length > 0 && !record) return yield* Effect.fail(failures[0])
        for (const [name, partial] of Object.entries(reply.partials)) {
          const metric = setByName.get(name)
          if (metric === undefined) continue
          partials[name] = name in partials ? metric.merge(partials[name], partial) : partial
        }
        yield* finish({
          index,
          metrics: role === "reference" ? skippedForReference() : reply.results,
          ...(failures.length > 0 ? { error: errorEntry(failures[0]) } : {})
        })
      }
      return partials
    }, Effect.scoped)

    const partials = yield* Effect.forEach(
      Array.from({ length: workers }, (_, i) => i),
      consume,
      { concurrency: workers }
    )

    const merged: Record<string, unknown> = {}
    for (const metric of setMetrics) {
      for (const partial of partials) {
        if (!(metric.name in partial)) continue
        merged[metric.name] = metric.name in merged
          ? metric.merge(merged[metric.name], partial[metric.name])
          : partial[metric.name]
      }
    }
    const corpus = setMetrics.map((metric) =>
      metric.finalize(metric.name in merged ? merged[metric.name] : metric.init())
    )
    const ordered = results.map((r, index) => r ?? { index, metrics: {} })
    return {
      samples: ordered,
      corpus,
      partials: merged,
      summary: summarize(ordered, sampleNames),
      timing: {
        wallMs: performance.now() - started,
        decodeMs: yield* pool.decodeMillis,
        computeMs,
        waitMs
      }
    }
  }))
