/**
 * vidpool's evaluation: the `Evaluator` that scores samples while the pool decodes them, the
 * metric model and registry, and the built-in metrics.
 *
 * @since 0.1.0
 */
export * as BuiltinMetrics from "./BuiltinMetrics.ts"
export {
  type EvaluateError,
  type EvaluateOptions,
  EvaluateOptionsSchema,
  evaluatorConfig,
  type EvaluatorDefaults
} from "./EvaluateOptions.ts"
export { Evaluator } from "./Evaluator.ts"
export { type EvalResults, type MetricSummary, placed, renumber, type SampleError, type SampleResult, summarize } from "./Results.ts"
export * as Frames from "./Frames.ts"
export * as Frechet from "./Frechet.ts"
export { frechetMetric } from "./Frechet.ts"
export { extractorOfModule, FeatureExtractor, type FeatureExtractorShape } from "./FeatureExtractor.ts"
export * as Metric from "./Metric.ts"
export { MetricError, UnknownMetric } from "./MetricError.ts"
export {
  applicable,
  builtinRegistry,
  listMetrics,
  MetricRegistry,
  type MetricRegistryShape,
  metricSources,
  type MetricSources,
  select,
  selectResult
} from "./MetricRegistry.ts"
export * as FeatureCache from "./FeatureCache.ts"
export { howToGive, modelDigest, neededModels } from "./ModelChecks.ts"
export * as ClipMetrics from "./ClipMetrics.ts"
export * as ModelMetrics from "./ModelMetrics.ts"
export * as LpipsMetric from "./LpipsMetric.ts"
export * as DynamicDegree from "./DynamicDegree.ts"
export {
  type GivenModel,
  ModelError,
  type ModelErrorReason,
  type ModelSettings,
  type ModelSpec,
  modelsConfig,
  type TensorSpec,
  variableOf
} from "./Models.ts"
export * as Models from "./Models.ts"
export * as Preprocess from "./Preprocess.ts"
export { type MetricRegistryOptions } from "./MetricRegistry.ts"
export * as PhysicsIq from "./PhysicsIq.ts"
export * as Psnr from "./Psnr.ts"
export * as Sharpness from "./Sharpness.ts"
export * as Ssim from "./Ssim.ts"
export * as Temporal from "./Temporal.ts"
