/**
 * What one `vidpool eval` run produced: the inputs, each sample's scores (or error), the corpus
 * scores, per-metric statistics and where the time went. Complete, or the part computed before an
 * interruption. Every output format is rendered from it.
 *
 * @since 0.1.0
 */
import type { InputSample } from "./Inputs.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface MetricScore {
  readonly name: string
  readonly score: number | null
  readonly details: Readonly<Record<string, unknown>>
}

/**
 * One sample's result, as the Evaluator reports it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SampleOutcome {
  readonly index: number
  readonly metrics: Readonly<Record<string, MetricScore>>
  readonly error?: { readonly _tag: string; readonly message: string }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly count: number
  readonly mean: number
  readonly std: number
  readonly min: number
  readonly max: number
}

/**
 * Milliseconds: the run's wall time, and the time summed over loaders (decode), over workers
 * (compute) and over workers waiting for a decoded sample (wait).
 *
 * @since 0.1.0
 * @category models
 */
export interface Timing {
  readonly wallMs: number
  readonly decodeMs: number
  readonly computeMs: number
  readonly waitMs: number
}

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
}

/**
 * Per-metric statistics over the samples' non-null scores (population standard deviation).
 * Metrics without any score are left out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const summarize = (
  samples: ReadonlyArray<SampleOutcome>,
  metrics: ReadonlyArray<string>
): Record<string, Stats> => {
  const out: Record<string, Stats> = {}
  for (const name of metrics) {
    let count = 0
    let sum = 0
    let sumSq = 0
    let min = Infinity
    let max = -Infinity
    for (const sample of samples) {
      const score = sample.metrics[name]?.score
      if (typeof score !== "number" || !Number.isFinite(score)) continue
      count++
      sum += score
      sumSq += score * score
      if (score < min) min = score
      if (score > max) max = score
    }
    if (count === 0) continue
    const mean = sum / count
    out[name] = { count, mean, std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)), min, max }
  }
  return out
}

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
