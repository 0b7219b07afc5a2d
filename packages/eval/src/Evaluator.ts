/**
 * The Evaluator service and its layers: evaluations over the `VideoPool` and `MetricRegistry` in
 * context, computed on a pool of metric worker threads that the layer owns.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { VideoPool } from "@vidpool/pool"
import { type EvaluateError, type EvaluateOptions, evaluatorConfig } from "./EvaluateOptions.ts"
import { run } from "./internal/Evaluation.ts"
import { MetricRegistry } from "./MetricRegistry.ts"
import { makeChecker, neededModels } from "./ModelChecks.ts"
import { modelsConfig } from "./Models.ts"
import * as MetricWorker from "./internal/MetricWorker.ts"
import type { EvalResults, SampleResult } from "./Results.ts"

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
   * The Evaluator over the `VideoPool` and the `MetricRegistry` in context (`MetricRegistry.layer`
   * for the built-in metrics). Each sample's decoded memory is leased from the pool and goes back
   * to the decoder (from the worker threads too) for the next decodes. Defaults of `workers`, `prefetchFactor`,
   * `loaderThreads` and `onError` can be set by `VIDPOOL_WORKERS`, `VIDPOOL_PREFETCH_FACTOR`,
   * `VIDPOOL_LOADER_THREADS` and `VIDPOOL_ON_ERROR` (read when the layer is built); the model
   * metrics' files by `VIDPOOL_MODEL_<NAME>` and their settings by `VIDPOOL_MODEL_THREADS`,
   * `VIDPOOL_MODEL_BATCH`, `VIDPOOL_MODEL_PROVIDERS`, `VIDPOOL_REFERENCE_CACHE`, `VIDPOOL_CACHE_DIR`. Metric worker threads are started on demand,
   * reused by later calls, stopped after a minute idle and when the layer's scope closes.
   *
   * @example
   * ```ts
   * import { Effect, Layer } from "effect"
   * import { Video, VideoDecoder, VideoPool } from "@vidpool/pool"
   * import { Evaluator, MetricRegistry } from "@vidpool/eval"
   * import { Live } from "@vidpool/cli"
   *
   * const program = Evaluator.use((ev) =>
   *   ev.evaluate([{ video: Video.file("gen.mp4"), reference: Video.file("ref.mp4") }], {
   *     metrics: ["common.psnr", "common.ssim"],
   *     workers: 2
   *   })
   * )
   * // The default wiring comes from the composition root, `Live` of @vidpool/cli: this layer over
   * // the built-in metrics, a VideoPool and the default decoder.
   * Effect.runPromise(program.pipe(Effect.provide(Live.layerEvaluator))).then((r) => console.log(r.summary))
   *
   * // By hand, with the decoder layer of your choice (here the pool's scriptable test decoder):
   * const EvaluatorTest = Evaluator.layer.pipe(
   *   Layer.provide(MetricRegistry.layer),
   *   Layer.provide(VideoPool.layer),
   *   Layer.provide(VideoDecoder.layerTest())
   * )
   * ```
   */
  static readonly layer: Layer.Layer<Evaluator, never, VideoPool | MetricRegistry> = Layer.effect(
    Evaluator,
    Effect.gen(function*() {
      const pool = yield* VideoPool
      const registry = yield* MetricRegistry
      const workers = yield* MetricWorker.makePool
      const defaults = yield* Effect.orDie(evaluatorConfig)
      // VIDPOOL_MODEL_<NAME> for each model a metric of the registry runs, over the registry's own.
      const envModels = yield* Effect.orDie(modelsConfig(neededModels(registry.metrics).map((m) => m.spec.name)))
      // Models that passed their checks, for the layer's lifetime.
      const checker = makeChecker()
      const evaluate = Effect.fn("Evaluator.evaluate")(
        function*(samples: ReadonlyArray<object>, options?: EvaluateOptions) {
          // Options that are not an object reach the Schema as they are, which names them.
          const given = options === undefined
            ? { ...defaults, models: envModels }
            : typeof options === "object" && options !== null && !Array.isArray(options)
            ? { ...defaults, ...options, models: { ...envModels, ...options.models } }
            : options
          return yield* run(pool, registry, workers, samples, given as EvaluateOptions, checker)
        }
      )
      const evaluateOne = Effect.fn("Evaluator.evaluateOne")(function*(sample: object, options?: EvaluateOptions) {
        const results = yield* evaluate([sample], options)
        return results.samples[0]
      })
      return Evaluator.of({ evaluate, evaluateOne })
    })
  )
}
