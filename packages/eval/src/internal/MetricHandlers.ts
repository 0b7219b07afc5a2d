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

/**
 * The handlers run inside the worker thread.
 *
 * @since 0.1.0
 * @category worker
 */
export const makeHandlers = (sessions: ModelSessions = makeSessionsUnsafe()) => {
  // `sessions`: the thread's model sessions, opened on first use, reused by every later sample and call.
  const catalogues = new Map<string, Promise<Map<string, Metric.Metric>>>()
  const builtinsOnly = Effect.succeed(new Map<string, Metric.Metric>(builtins.map((m) => [m.name, m])))

  const load = (sources: MetricSources): Effect.Effect<Map<string, Metric.Metric>, MetricError> => {
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

  /** A model metric's input from its `prepare` (the input itself for other metrics), or what it threw. */
  const prepared = (metric: Metric.Metric, input: Metric.MetricInput, models: ModelsPayload) => {
    const prepare = metric.prepare
    if (prepare === undefined) return Effect.succeed(Result.succeed(input) as Result.Result<Metric.MetricInput, unknown>)
    return Effect.result(Effect.tryPromise({
      try: () => prepare(input, sessions.context(metric, models)),
      catch: (cause) => cause
    }))
  }

  const compute = Effect.fnUntraced(function*(request: Rpc.Payload<typeof Compute>) {
    const metrics = yield* load(request.sources)
    const find = (name: string) => {
      const metric = metrics.get(name)
      return metric === undefined
        ? Effect.fail(new MetricError({ metric: name, index: request.index, detail: "not known to the worker" }))
        : Effect.succeed(metric)
    }
    const started = performance.now()
    const results: Record<string, Metric.MetricResult> = {}
    const failures: Array<MetricFailure> = []
    const fail = (metric: string, cause: unknown) => {
      const error = new MetricError({ metric, index: request.index, detail: describeThrow(cause) })
      failures.push({ metric, detail: error.detail })
      return error
    }
    const input: Metric.MetricInput = { ...request.input.values, ...request.input.tensors }
    for (const name of request.sampleMetrics) {
      const metric = yield* find(name)
      if (metric.kind !== "sample") continue
      const missing = Metric.missingField(metric.needs, input)
      if (missing !== undefined) {
        results[name] = Metric.skipped(name, `the sample has no "${missing}" field`)
        continue
      }
      const ready = yield* prepared(metric, input, request.models)
      if (Result.isFailure(ready)) {
        results[name] = Metric.failed(fail(name, ready.failure))
        continue
      }
      try {
        results[name] = metric.compute(ready.success)
      } catch (cause) {
        // The other metrics of the sample are still computed; this one records its error.
        results[name] = Metric.failed(fail(name, cause))
      }
    }
    const partials: Record<string, unknown> = {}
    const features: Record<string, Float32Array | null> = {}
    let setFailed = false
    for (const name of request.setMetrics) {
      const metric = yield* find(name)
      if (metric.kind !== "set") continue
      let acc: unknown = undefined
      for (const feed of request.feeds) {
        const video = input[feed.field]
        if (!Metric.isTensor(video)) continue
        const ready = yield* prepared(metric, { ...input, video }, request.models)
        try {
          if (Result.isFailure(ready)) throw ready.failure
          if (request.cacheFeatures && metric.cached !== undefined && feed.role === "reference") {
            const found = ready.success[metric.cached.field]
            features[name] = found instanceof Float32Array ? found : null
          }
          acc = metric.accumulate(acc === undefined ? metric.init() : acc, ready.success, feed.role)
        } catch (cause) {
          fail(name, cause)
          setFailed = true
          acc = undefined
          break
        }
      }
      if (acc !== undefined) partials[name] = acc
    }
    // Every metric is done with the sample: the memory asked back goes with the reply, unless a
    // result or a partial still holds a view of it (it would be overwritten by the next decode).
    const returned: Array<Uint8Array | Float32Array> = []
    if (request.giveBack.length > 0) {
      const held = viewedBuffers([results, partials, features])
      for (const field of request.giveBack) {
        const tensor = request.input.tensors[field]
        if (tensor !== undefined && !returned.includes(tensor.data) && !held.has(tensor.data.buffer)) returned.push(tensor.data)
      }
    }
    const reply: ComputeReply = {
      results,
      failures,
      partials: setFailed ? {} : partials,
      computeMs: performance.now() - started,
      returned,
      features: setFailed ? {} : features
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
