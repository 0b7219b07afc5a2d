/**
 * The feature extractor of `common.frechet_distance`, as a service: the built-in per-clip colour
 * and motion statistics by default, or a user extractor loaded from a module, which the worker
 * threads load too (they run the extraction).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { colourMotionFeatures, type FeatureExtractorShape } from "./Frechet.ts"
import { describeThrow, extractorOfModule, moduleUrl } from "./internal/Modules.ts"
import { MetricError } from "./MetricError.ts"

export type { FeatureExtractorShape } from "./Frechet.ts"
export { extractorOfModule } from "./internal/Modules.ts"

/**
 * The extractor `common.frechet_distance` uses. Without this service in context the Evaluator
 * uses the built-in one (`Frechet.colourMotionFeatures`, which does not make the distance FVD).
 *
 * @since 0.1.0
 * @category services
 */
export class FeatureExtractor extends Context.Service<FeatureExtractor, FeatureExtractorShape>()(
  "@vidpool/eval/FeatureExtractor"
) {
  /**
   * The built-in extractor: per-clip colour and motion statistics (8 values).
   */
  static readonly layer: Layer.Layer<FeatureExtractor> = Layer.succeed(FeatureExtractor, colourMotionFeatures)

  /**
   * The extractor exported by a module (a path or a package specifier): its `extractor` export
   * or its default export, `{ name, dimension, extract(video) }`. The module is imported here and
   * by each worker thread. A module that cannot be loaded or exports no extractor fails the layer
   * with a `MetricError` naming it.
   *
   * @example
   * ```ts
   * import { Evaluator, FeatureExtractor } from "@vidpool/eval"
   * import { Layer } from "effect"
   *
   * const EvaluatorLive = Evaluator.layer.pipe(
   *   Layer.provide(FeatureExtractor.layerModule("./my-extractor.js"))
   * )
   * ```
   */
  static readonly layerModule = (specifier: string): Layer.Layer<FeatureExtractor, MetricError> =>
    Layer.effect(
      FeatureExtractor,
      Effect.tryPromise({
        try: async () => {
          const url = moduleUrl(specifier)
          return { ...extractorOfModule(specifier, await import(url)), module: url }
        },
        catch: (cause) =>
          new MetricError({
            metric: "common.frechet_distance",
            detail: `cannot load the feature extractor module ${specifier}: ${describeThrow(cause)}`
          })
      })
    )
}
