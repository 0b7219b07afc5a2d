/**
 * What one `vidpool eval` run produced: the inputs, each sample's scores (or error), the corpus
 * scores, per-metric statistics and where the time went. Complete, or the part computed before an
 * interruption. Every output format is rendered from it.
 *
 * @since 0.1.0
 */
import { type EvalResults, type Metric, type MetricSummary, type SampleResult, summarize as summarizeScores } from "@vidpool/eval"
import type { InputSample } from "./Inputs.ts"
import type { RunSettings } from "./internal/RunSettings.ts"

/**
 * One metric's result for a sample: the Evaluator's `MetricResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricScore = Metric.MetricResult

/**
 * One sample's result, as the Evaluator reports it.
 *
 * @since 0.1.0
 * @category models
 */
export type SampleOutcome = SampleResult

/**
 * Per-metric statistics: the Evaluator's `MetricSummary`.
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = MetricSummary

/**
 * Milliseconds: the run's wall time, and the time summed over loaders (decode), over workers
 * (compute) and over workers waiting for a decoded sample (wait).
 *
 * @since 0.1.0
 * @category models
 */
export type Timing = EvalResults["timing"]

/**
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly inputs: ReadonlyArray<InputSample>
  /** The per-sample metric names, in column order. */
  readonly metrics: ReadonlyArray<string>
  /** The corpus (set) metric names: one score for the whole run, in `corpus`. */
  readonly corpusMetrics: ReadonlyArray<string>
  /** The samples evaluated, by index. Fewer than `inputs` when the run was interrupted. */
  readonly samples: ReadonlyArray<SampleOutcome>
  readonly corpus: ReadonlyArray<MetricScore>
  readonly summary: Readonly<Record<string, Stats>>
  readonly timing: Timing
  /** False when the run was interrupted before every sample was evaluated. */
  readonly complete: boolean
  /** What the scores depend on besides the inputs; JSON Lines output starts with them. */
  readonly settings?: RunSettings | undefined
}

/**
 * Per-metric statistics over the samples' finite scores (population standard deviation); metrics
 * without any score are left out. The Evaluator's own summary, applied to any part of a run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const summarize: (
  samples: ReadonlyArray<SampleOutcome>,
  metrics: ReadonlyArray<string>
) => Record<string, Stats> = summarizeScores

/**
 * How many samples failed.
 *
 * @since 0.1.0
 * @category getters
 */
export const errorCount = (samples: ReadonlyArray<SampleOutcome>): number => {
  let n = 0
  for (const sample of samples) if (sample.error !== undefined) n++
  return n
}
