/**
 * The Evaluator: opens one `VideoPool` per call, lets `workers` consumers take decoded samples
 * from it, computes each sample's metrics on the consumer's own worker thread, and gathers the
 * results in input order with the corpus (set) metrics, a summary and timings.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Exit, Layer, Metric as EffectMetric, Option, Scope } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { LibavDecoder } from "@vidpool/libav"
import { type DecodeError, type InvalidPoolOptions, isVideo, Options, poolMetrics, TensorBuffers, VideoPool, type VideoTensor } from "@vidpool/pool"
import * as BuiltinMetrics from "./BuiltinMetrics.ts"
import { FeatureExtractor, type FeatureExtractorShape } from "./FeatureExtractor.ts"
import * as Metric from "./Metric.ts"
import { applicable, builtinRegistry, MetricRegistry, withExtractor } from "./MetricRegistry.ts"
import * as MetricWorker from "./MetricWorker.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface EvaluateOptions {
  /** Metric names or prefixes (`"common.*"`, `"*"`). Default: every metric whose fields the samples have. */
  readonly metrics?: ReadonlyArray<string>
  /** Consumers, each computing on its own worker thread. Default 1. */
  readonly workers?: number
  /**
   * Decoded samples kept ready per consumer. Default 2. The pool's `maxSize` is
   * `prefetchFactor x workers`. The pool counts decodes in flight against `maxSize`, so set
   * `prefetchFactor x workers >= loaderThreads` for every loader to have a slot.
   */
  readonly prefetchFactor?: number
  /** Decodes running at once. Default 1. */
  readonly loaderThreads?: number
  /**
   * `"fail"` (default): the first DecodeError or MetricError ends the call, interrupting loaders
   * and workers. `"record"`: the sample's result carries the error and the run goes on.
   */
  readonly onError?: "fail" | "record"
  /** Called as each sample finishes (in completion order), e.g. for progress. */
  readonly onResult?: (result: SampleResult) => Effect.Effect<void>
}

/**
 * The metrics of one input sample.
 *
 * @since 0.1.0
 * @category models
 */
export interface SampleResult {
  readonly index: number
  readonly metrics: Record<string, Metric.MetricResult>
  /**
   * Set when `onError: "record"` caught a DecodeError or MetricError for this sample (the first,
   * when several metrics failed). The metrics that did not fail keep their results; a per-sample
   * metric that failed has `score: null` and the same data in `details.error`.
   */
  readonly error?: SampleError
}

/**
 * A failure recorded on a sample, as data.
 *
 * @since 0.1.0
 * @category models
 */
export interface SampleError {
  /** `"DecodeError"` or `"MetricError"`. */
  readonly _tag: string
  readonly message: string
  /** MetricError: the metric that failed, and why. */
  readonly metric?: string
  readonly detail?: string
  /** DecodeError: the file, the sample field that held it, and the reason's tag (`"NotFound"`...). */
  readonly path?: string
  readonly key?: string
  readonly reason?: string
}

/**
 * Statistics of one metric's scores over the samples that have one.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricSummary {
  readonly count: number
  readonly mean: number
  /** Population standard deviation. */
  readonly std: number
  readonly min: number
  readonly max: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EvalResults {
  /** One per input sample, in input order. */
  readonly samples: ReadonlyArray<SampleResult>
  /** The set metrics. */
  readonly corpus: ReadonlyArray<Metric.MetricResult>
  /** Per sample metric, over the samples it scored. */
  readonly summary: Record<string, MetricSummary>
  /**
   * Milliseconds: `wallMs` the whole call; `decodeMs` decoding (summed over loaders, from the
   * pool's decode timer); `computeMs` metric code on the worker threads (summed over workers);
   * `waitMs` consumers waiting for the pool (summed over consumers).
   */
  readonly timing: { readonly wallMs: number; readonly decodeMs: number; readonly computeMs: number; readonly waitMs: number }
}

/**
 * @since 0.1.0
 * @category models
 */
export type EvaluateError = DecodeError | Metric.MetricError | Metric.UnknownMetric | InvalidPoolOptions

/**
 * @since 0.1.0
 * @category services
 */
export class Evaluator extends Context.Service<Evaluator, {
  readonly evaluate: <S extends object>(
    samples: ReadonlyArray<S>,
    options?: EvaluateOptions
  ) => Effect.Effect<EvalResults, EvaluateError>
  /** One sample (the keyword form): its `SampleResult`. */
  readonly evaluateOne: <S extends object>(sample: S, options?: EvaluateOptions) => Effect.Effect<SampleResult, EvaluateError>
}>()("@vidpool/eval/Evaluator") {
  /**
   * The Evaluator over the `VideoPool` in context. Metrics come from the `MetricRegistry` in
   * context when one is provided, else the built-ins. Defaults of `workers`, `prefetchFactor`,
   * `loaderThreads` and `onError` can be set by `VIDPOOL_WORKERS`, `VIDPOOL_PREFETCH_FACTOR`,
   * `VIDPOOL_LOADER_THREADS` and `VIDPOOL_ON_ERROR` (read when the layer is built). Worker threads are started on demand and
   * kept for later calls until the layer's scope closes.
   *
   * @example
   * ```ts
   * import { Effect, Layer } from "effect"
   * import { Video, VideoPool } from "@vidpool/pool"
   * import { FfmpegDecoder } from "@vidpool/ffmpeg"
   * import { Evaluator } from "@vidpool/eval"
   *
   * const program = Evaluator.use((ev) =>
   *   ev.evaluate([{ video: Video.file("gen.mp4"), reference: Video.file("ref.mp4") }], {
   *     metrics: ["common.psnr", "common.ssim"],
   *     workers: 2
   *   })
   * )
   * const EvaluatorLive = Evaluator.layer.pipe(
   *   Layer.provide(VideoPool.layer),
   *   Layer.provide(FfmpegDecoder.layer)
   * )
   * Effect.runPromise(program.pipe(Effect.provide(EvaluatorLive))).then((r) => console.log(r.summary))
   * ```
   */
  static readonly layer: Layer.Layer<Evaluator, never, VideoPool> = Layer.effect(
    Evaluator,
    Effect.gen(function*() {
      const pool = yield* VideoPool
      const registry = Option.getOrElse(
        yield* Effect.serviceOption(MetricRegistry),
        () => builtinRegistry
      )
      const extractor = Option.getOrUndefined(yield* Effect.serviceOption(FeatureExtractor))
      const workerCache = yield* makeWorkerCache
      const defaults = yield* Effect.orDie(evaluatorConfig)
      const evaluate = <S extends object>(samples: ReadonlyArray<S>, options?: EvaluateOptions) =>
        run(pool, registry, extractor, workerCache, samples, { ...defaults, ...options })
      return Evaluator.of({
        evaluate,
        evaluateOne: (sample, options) => Effect.map(evaluate([sample], options), (results) => results.samples[0])
      })
    })
  )

  /**
   * The common case in one layer: the Evaluator, the `VideoPool` it draws from (also provided, for
   * programs that open pools of their own) and the default decoder: the in-process one
   * (`LibavDecoder`, FFmpeg's libraries on decode threads) where node-av loads, else the
   * command-line one (`FfmpegDecoder.layer`, one ffmpeg process per video). Fails to build with a
   * `DecodeError` of reason `FfmpegNotFound` when neither is there.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Video } from "@vidpool/pool"
   * import { Evaluator } from "@vidpool/eval"
   *
   * const program = Evaluator.use((ev) =>
   *   ev.evaluate([{ video: Video.file("gen.mp4"), reference: Video.file("ref.mp4") }], { metrics: ["common.psnr"] })
   * )
   * Effect.runPromise(program.pipe(Effect.provide(Evaluator.layerDefault))).then((r) => console.log(r.summary))
   * ```
   *
   * @since 0.2.0
   */
  static readonly layerDefault: Layer.Layer<Evaluator | VideoPool, DecodeError> = Evaluator.layer.pipe(
    Layer.provideMerge(VideoPool.layer),
    Layer.provide(LibavDecoder.layerAuto(FfmpegDecoder.layer))
  )
}

/**
 * The Evaluator's options (those of `EvaluateOptions` that are values) as one Schema, decoded
 * once by `evaluate` (a bad one fails it with `InvalidPoolOptions` naming the option), and used by
 * the CLI for its flags and variables. Defaults: `workers` 1, `prefetchFactor` 2,
 * `loaderThreads` 1, `onError` `"fail"` (the CLI's default is `"record"`).
 *
 * @since 0.2.0
 * @category options
 */
export const EvaluateOptionsSchema = Options.struct({
  workers: Options.Count,
  prefetchFactor: Options.Count,
  loaderThreads: Options.Count,
  onError: Options.oneOf(["fail", "record"])
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

interface WorkerHandle {
  readonly client: MetricWorker.MetricWorkerClient
  readonly terminate: Effect.Effect<void>
  readonly scope: Scope.Closeable
}

interface WorkerCache {
  /** An idle worker thread, or a new one. */
  readonly take: Effect.Effect<WorkerHandle>
  /** Back to the idle ones when `reuse`; else the thread is stopped at once and closed. */
  readonly give: (handle: WorkerHandle, reuse: boolean) => Effect.Effect<void>
}

/**
 * Idle worker threads, reused across calls. A worker given back after a failure, an
 * interruption or its own crash is terminated (not asked to close, which would wait for the
 * metric it may be running) rather than reused.
 */
const makeWorkerCache: Effect.Effect<WorkerCache, never, Scope.Scope> = Effect.gen(function*() {
  const owner = yield* Effect.scope
  const idle: Array<WorkerHandle> = []
  const fresh = Effect.gen(function*() {
    const scope = yield* Scope.fork(owner)
    const { client, terminate } = yield* Scope.provide(MetricWorker.spawn, scope)
    return { client, terminate, scope }
  })
  return {
    take: Effect.suspend(() => {
      const handle = idle.pop()
      return handle === undefined ? fresh : Effect.succeed(handle)
    }),
    give: (handle, reuse) =>
      reuse
        ? Effect.sync(() => {
          idle.push(handle)
        })
        : Effect.andThen(handle.terminate, Effect.asVoid(Effect.forkIn(Scope.close(handle.scope, Exit.void), owner)))
  }
})

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

/**
 * Per-metric count, mean, population standard deviation, min and max over the samples' finite
 * scores; metrics without any score are left out. What `EvalResults.summary` holds, for callers
 * that summarize a part of a run (results so far, say).
 *
 * @since 0.1.0
 * @category summaries
 */
export const summarize = (
  samples: ReadonlyArray<{ readonly metrics: Readonly<Record<string, { readonly score: number | null }>> }>,
  names: ReadonlyArray<string>
): Record<string, MetricSummary> => {
  const summary: Record<string, MetricSummary> = {}
  for (const name of names) {
    let count = 0, sum = 0, sumSq = 0, min = Infinity, max = -Infinity
    for (const s of samples) {
      const score = s.metrics[name]?.score
      if (typeof score !== "number" || !Number.isFinite(score)) continue
      count++
      sum += score
      sumSq += score * score
      if (score < min) min = score
      if (score > max) max = score
    }
    if (count === 0) continue
    const mean = sum / count
    summary[name] = { count, mean, std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)), min, max }
  }
  return summary
}

const errorEntry = (error: DecodeError | Metric.MetricError): SampleError =>
  error._tag === "MetricError"
    ? { _tag: error._tag, message: error.message, metric: error.metric, detail: error.detail }
    : {
      _tag: error._tag,
      message: error.message,
      path: error.path,
      ...(error.key !== undefined ? { key: error.key } : {}),
      reason: error.reason._tag
    }

const decodeMillis = Effect.map(EffectMetric.value(poolMetrics.decodeDuration), (state) => state.sum)

const run = <S extends object>(
  videoPool: VideoPool["Service"],
  registry: MetricRegistry["Service"],
  extractor: FeatureExtractorShape | undefined,
  workerCache: WorkerCache,
  samples: ReadonlyArray<S>,
  options: EvaluateOptions
): Effect.Effect<EvalResults, EvaluateError> =>
  Effect.scoped(Effect.gen(function*() {
    const started = performance.now()
    const decodeBefore = yield* decodeMillis
    const read = yield* EvaluateOptionsSchema.decode(options)
    const workers = read.workers ?? 1
    const prefetchFactor = read.prefetchFactor ?? 2
    const loaderThreads = read.loaderThreads ?? 1
    const record = read.onError === "record"
    const onResult = options.onResult

    const hasReferenceRole = samples.some((s) => roleOf(s) === "reference")
    const chosenRaw = options.metrics === undefined
      ? applicable(registry.metrics, samples, present, roleOf)
      : yield* registry.resolve(options.metrics)
    // The FeatureExtractor in context, when it replaced the built-in extractor of the chosen
    // common.frechet_distance here (init, merge, finalize), does so on the worker threads (its module).
    const chosen = withExtractor(chosenRaw, extractor)
    const plugged = chosen === chosenRaw ? undefined : extractor
    if (plugged !== undefined && plugged.module === undefined) {
      return yield* new Metric.MetricError({
        metric: BuiltinMetrics.frechetDistance.name,
        detail: `the feature extractor ${plugged.name} has no module for the worker threads to load ` +
          `(provide it with FeatureExtractor.layerModule)`
      })
    }
    const sources = MetricWorker.metricSources(registry.modules, plugged?.module ?? null)
    const sampleMetrics = chosen.filter((m): m is Metric.SampleMetric => m.kind === "sample")
    const setMetrics = chosen.filter((m): m is Metric.SetMetric => m.kind === "set")
    const sampleNames = sampleMetrics.map((m) => m.name)
    const setNames = setMetrics.map((m) => m.name)
    const generatedFeeds: ReadonlyArray<MetricWorker.SetFeed> = hasReferenceRole
      ? [{ field: "video", role: "generated" }]
      : [{ field: "video", role: "generated" }, { field: "reference", role: "reference" }]
    const referenceFeeds: ReadonlyArray<MetricWorker.SetFeed> = [{ field: "video", role: "reference" }]
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
    const pool = yield* videoPool.open(samples, {
      loaderThreads,
      maxSize: prefetchFactor * workers,
      order: "completion"
    })

    const setByName = new Map(setMetrics.map((m) => [m.name, m]))

    const consume = Effect.fnUntraced(function*(_: number) {
      // This consumer's worker thread: replaced when it dies, given back when the consumer ends
      // (to be reused after a success, terminated otherwise).
      let worker: WorkerHandle | undefined
      // Memory a decoder lent for the sample in the worker: handed back once the worker is done
      // with it (after its reply, or, when the consumer is interrupted, once it is terminated).
      let lent: Array<VideoTensor> = []
      const giveBackLent = Effect.sync(() => {
        for (const tensor of lent) TensorBuffers.recycle(tensor)
        lent = []
      })
      yield* Effect.addFinalizer((exit) =>
        Effect.andThen(worker === undefined ? Effect.void : workerCache.give(worker, Exit.isSuccess(exit)), giveBackLent)
      )
      const currentWorker = Effect.suspend(() =>
        worker !== undefined ? Effect.succeed(worker) : Effect.uninterruptible(Effect.tap(workerCache.take, (handle) =>
          Effect.sync(() => {
            worker = handle
          })))
      )
      const discardWorker = Effect.uninterruptible(Effect.suspend(() => {
        const dead = worker
        worker = undefined
        return dead === undefined ? Effect.void : workerCache.give(dead, false)
      }))
      // Started at once, so that the thread starts while the first samples decode.
      yield* currentWorker
      /** This consumer's partials of the set metrics, merged from the samples' partials. */
      const partials: Record<string, unknown> = {}
      while (true) {
        const waitStart = performance.now()
        type Taken =
          | { readonly _tag: "item"; readonly item: readonly [number, unknown] }
          | { readonly _tag: "error"; readonly error: DecodeError; readonly index: number }
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
        const sample = decoded as Record<string, unknown>
        const role = roleOf(sample)
        const input: Record<string, unknown> = {}
        const given = samples[index] as Record<string, unknown>
        for (const field of fields) {
          const value = sample[field]
          if (value === undefined) continue
          input[field] = Metric.isTensor(value) ? transferable(value) : value
          // Only what the pool decoded is handed back; a tensor the caller gave stays the caller's.
          if (Metric.isTensor(value) && isVideo(given[field]) && TensorBuffers.isLent(value.data)) lent.push(value)
        }
        const requested = role === "reference" ? [] : sampleNames
        const { client } = yield* currentWorker
        const outcome = yield* client.Compute({
          index,
          input,
          sampleMetrics: requested,
          setMetrics: setNames,
          feeds: role === "reference" ? referenceFeeds : generatedFeeds,
          sources
        }).pipe(
          Effect.map((reply) => reply as MetricWorker.ComputeReply),
          // The thread died (a metric ended it, ran out of memory...): the sample fails with a
          // MetricError, the thread is discarded and the next sample gets a new one.
          Effect.catchTag("RpcClientError", (error) =>
            Effect.andThen(
              discardWorker,
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
        const reply = outcome.success
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

    const corpus = setMetrics.map((metric) => {
      let acc: unknown = undefined
      for (const partial of partials) {
        if (!(metric.name in partial)) continue
        acc = acc === undefined ? partial[metric.name] : metric.merge(acc, partial[metric.name])
      }
      return metric.finalize(acc === undefined ? metric.init() : acc)
    })
    const ordered = results.map((r, index) => r ?? { index, metrics: {} })
    return {
      samples: ordered,
      corpus,
      summary: summarize(ordered, sampleNames),
      timing: {
        wallMs: performance.now() - started,
        decodeMs: (yield* decodeMillis) - decodeBefore,
        computeMs,
        waitMs
      }
    }
  }))
