/**
 * The worker side of the metric protocol: a metric worker thread's `Compute` handler, which loads
 * the registry's catalogue from its sources (once per set of sources) and runs the asked metrics
 * over one sample. Stateless between samples; also usable in-process, which the tests do.
 *
 * @since 0.2.0
 */
import { Effect, Result } from "effect"
import type { Rpc } from "effect/rpc"
import { builtins } from "../BuiltinMetrics.ts"
import * as Metric from "../Metric.ts"
import { Compute, type ComputeReply, type MetricFailure, MetricRpcs, type ModelsPayload } from "./MetricProtocol.ts"
import { makeSessionsUnsafe, type ModelSessions } from "./ModelSessions.ts"
import { catalogue, type MetricSources } from "../MetricRegistry.ts"
import { describeThrow, extractorOfModule, metricsOfModule } from "./Modules.ts"
import { MetricError } from "../MetricError.ts"

/** How deep `viewedBuffers` looks into a metric's result or partial. */
const viewDepth = 8

/**
 * The buffers that views (typed arrays, DataViews) inside some values use: what a reply must not
 * hand back for reuse. Results and partials are small; the walk stops at `viewDepth`.
 */
const viewedBuffers = (values: ReadonlyArray<unknown>): Set<ArrayBufferLike> => {
  const found = new Set<ArrayBufferLike>()
  const seen = new Set<object>()
  const walk = (value: unknown, depth: number): void => {
    if (typeof value !== "object" || value === null || seen.has(value) || depth > viewDepth) return
    seen.add(value)
    if (ArrayBuffer.isView(value)) {
      found.add(value.buffer)
      return
    }
    if (value instanceof ArrayBuffer) {
      found.add(value)
      return
    }
    if (value instanceof Map) {
      for (const [k, v] of value) {
        walk(k, depth + 1)
        walk(v, depth + 1)
      }
      return
    }
    if (value instanceof Set) {
      for (const v of value) walk(v, depth + 1)
      return
    }
    for (const v of Object.values(value)) walk(v, depth + 1)
  }
  for (const value of values) walk(value, 0)
  return found
}

/** A thread's catalogues of metrics, loaded once per set of sources. */
type Catalogues = Map<string, Promise<Map<string, Metric.Metric>>>

/** The catalogue of a request without modules: the built-in metrics (read-only, shared). */
const builtinsOnly = Effect.succeed(new Map<string, Metric.Metric>(builtins.map((m) => [m.name, m])))

/** The metrics of `sources`: the built-ins, or the catalogue of the modules (loaded on first use). */
const load = (catalogues: Catalogues, sources: MetricSources): Effect.Effect<Map<string, Metric.Metric>, MetricError> => {
  const { extractor, modules } = sources
  if (modules.length === 0 && extractor === null) return builtinsOnly
  let entry = catalogues.get(sources.key)
  if (entry === undefined) {
    entry = (async () => {
      const lists = await Promise.all(modules.map(async (url) => metricsOfModule(url, await import(url))))
      const plugged = extractor === null ? undefined : extractorOfModule(extractor, await import(extractor))
      return new Map(catalogue(lists, plugged).map((m) => [m.name, m]))
    })()
    catalogues.set(sources.key, entry)
  }
  const pending = entry
  return Effect.tryPromise({
    try: () => pending,
    catch: (cause) =>
      new MetricError({
        metric: [...modules, ...(extractor === null ? [] : [extractor])].join(", "),
        detail: `cannot load metric modules: ${describeThrow(cause)}`
      })
  })
}

/** One `Compute` request as it runs: the thread's sessions, the metrics known, the sample's input, the failures so far. */
interface Computation {
  readonly request: Rpc.Payload<typeof Compute>
  readonly sessions: ModelSessions
  readonly metrics: Map<string, Metric.Metric>
  readonly input: Metric.MetricInput
  readonly failures: Array<MetricFailure>
}

/** The metric `name` of the request's catalogue, or a `MetricError` when the worker does not know it. */
const find = (run: Computation, name: string) => {
  const metric = run.metrics.get(name)
  return metric === undefined
    ? Effect.fail(new MetricError({ metric: name, index: run.request.index, detail: "not known to the worker" }))
    : Effect.succeed(metric)
}

/** Records that `metric` threw `cause` on the sample, and returns the error. */
const fail = (run: Computation, metric: string, cause: unknown) => {
  const error = new MetricError({ metric, index: run.request.index, detail: describeThrow(cause) })
  run.failures.push({ metric, detail: error.detail })
  return error
}

/** A model metric's input from its `prepare` (the input itself for other metrics), or what it threw. */
const prepared = (run: Computation, metric: Metric.Metric, input: Metric.MetricInput) => {
  const prepare = metric.prepare
  if (prepare === undefined) return Effect.succeed(Result.succeed(input) as Result.Result<Metric.MetricInput, unknown>)
  return Effect.result(Effect.tryPromise({
    try: () => prepare(input, run.sessions.context(metric, run.request.models)),
    catch: (cause) => cause
  }))
}

/** The per-sample metrics' results: one that throws records its error, and the others still run. */
const sampleResults = Effect.fnUntraced(function*(run: Computation) {
  const results: Record<string, Metric.MetricResult> = {}
  for (const name of run.request.sampleMetrics) {
    const metric = yield* find(run, name)
    if (metric.kind !== "sample") continue
    const missing = Metric.missingField(metric.needs, run.input)
    if (missing !== undefined) {
      results[name] = Metric.skipped(name, `the sample has no "${missing}" field`)
      continue
    }
    const ready = yield* prepared(run, metric, run.input)
    if (Result.isFailure(ready)) {
      results[name] = Metric.failed(fail(run, name, ready.failure))
      continue
    }
    try {
      results[name] = metric.compute(ready.success)
    } catch (cause) {
      // The other metrics of the sample are still computed; this one records its error.
      results[name] = Metric.failed(fail(run, name, cause))
    }
  }
  return results
})

/**
 * The set metrics' partials over the sample's feeds, and the reference features to cache; a set
 * metric that throws records its error, and `failed` says that one did.
 */
const setPartials = Effect.fnUntraced(function*(run: Computation) {
  const { input, request } = run
  const partials: Record<string, unknown> = {}
  const features: Record<string, Float32Array | null> = {}
  let failed = false
  for (const name of request.setMetrics) {
    const metric = yield* find(run, name)
    if (metric.kind !== "set") continue
    let acc: unknown = undefined
    for (const feed of request.feeds) {
      const video = input[feed.field]
      if (!Metric.isTensor(video)) continue
      const ready = yield* prepared(run, metric, { ...input, video })
      try {
        if (Result.isFailure(ready)) throw ready.failure
        if (request.cacheFeatures && metric.cached !== undefined && feed.role === "reference") {
          const found = ready.success[metric.cached.field]
          features[name] = found instanceof Float32Array ? found : null
        }
        acc = metric.accumulate(acc === undefined ? metric.init() : acc, ready.success, feed.role)
      } catch (cause) {
        fail(run, name, cause)
        failed = true
        acc = undefined
        break
      }
    }
    if (acc !== undefined) partials[name] = acc
  }
  return { partials, features, failed }
})

/**
 * Every metric is done with the sample: the memory asked back goes with the reply, unless one of
 * `kept` (a result, a partial, a feature) still holds a view of it (it would be overwritten by the
 * next decode).
 */
const returnedMemory = (request: Rpc.Payload<typeof Compute>, kept: ReadonlyArray<unknown>) => {
  const returned: Array<Uint8Array | Float32Array> = []
  if (request.giveBack.length === 0) return returned
  const held = viewedBuffers(kept)
  for (const field of request.giveBack) {
    const tensor = request.input.tensors[field]
    if (tensor !== undefined && !returned.includes(tensor.data) && !held.has(tensor.data.buffer)) returned.push(tensor.data)
  }
  return returned
}

/**
 * The handlers run inside the worker thread. `sessions`: the thread's model sessions, opened on
 * first use, reused by every later sample and call.
 *
 * @since 0.1.0
 * @category worker
 */
export const makeHandlers = (sessions: ModelSessions = makeSessionsUnsafe()) => {
  const catalogues: Catalogues = new Map()
  const compute = Effect.fnUntraced(function*(request: Rpc.Payload<typeof Compute>) {
    const metrics = yield* load(catalogues, request.sources)
    const started = performance.now()
    const run: Computation = {
      request,
      sessions,
      metrics,
      input: { ...request.input.values, ...request.input.tensors },
      failures: []
    }
    const results = yield* sampleResults(run)
    const { failed, features, partials } = yield* setPartials(run)
    const reply: ComputeReply = {
      results,
      failures: run.failures,
      partials: failed ? {} : partials,
      computeMs: performance.now() - started,
      returned: returnedMemory(request, [results, partials, features]),
      features: failed ? {} : features
    }
    return reply
  })
  return MetricRpcs.of({ Compute: compute })
}

/**
 * The handlers as a layer, for the worker's RPC server.
 *
 * @since 0.1.0
 * @category worker
 */
export const HandlersLive = MetricRpcs.toLayer(Effect.sync(() => makeHandlers()))
