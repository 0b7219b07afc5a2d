/**
 * What an evaluation gives: each sample's metrics or its recorded error, the set metrics, the
 * per-metric summary and the timings; and how a summary and an error entry are made.
 *
 * @since 0.2.0
 */
import type { DecodeError } from "@vidpool/pool"
import type * as Metric from "./Metric.ts"
import { MetricError } from "./MetricError.ts"

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
  /**
   * Each set metric's merged partial state before `finalize`, by metric name (absent for a
   * metric no sample fed): what a caller that evaluates a corpus in parts (the cluster's batches)
   * merges with the other parts' by the metric's own `merge`, then finalizes once.
   */
  readonly partials: Readonly<Record<string, unknown>>
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

/**
 * A DecodeError or MetricError as a sample's recorded error.
 *
 * @since 0.2.0
 * @category constructors
 */
export const errorEntry = (error: DecodeError | MetricError): SampleError =>
  error._tag === "MetricError"
    ? { _tag: error._tag, message: error.message, metric: error.metric, detail: error.detail }
    : {
      _tag: error._tag,
      message: error.message,
      path: error.path,
      ...(error.key !== undefined ? { key: error.key } : {}),
      reason: error.reason._tag
    }

/**
 * A DecodeError's or MetricError's message with the sample it names (`(sample i, ...`,
 * `(sample i)` or ` on sample i`, the last such mention: a path before it may hold the same
 * words) renumbered from `from` to `to`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const renumber = (message: string, from: number, to: number): string => {
  for (const [before, after] of [[`(sample ${from},`, `(sample ${to},`], [`(sample ${from})`, `(sample ${to})`], [` on sample ${from}`, ` on sample ${to}`]]) {
    const at = message.lastIndexOf(before)
    if (at >= 0) return message.slice(0, at) + after + message.slice(at + before.length)
  }
  return message
}

/**
 * A result of an evaluation over a part of the samples, placed at `index` in all of them: its
 * recorded error, and the errors in its failed metrics' details, name the sample by that index too.
 *
 * @since 0.2.0
 * @category constructors
 */
export const placed = (result: SampleResult, index: number): SampleResult => {
  if (result.index === index) return result
  const move = (message: string) => renumber(message, result.index, index)
  const metrics: Record<string, Metric.MetricResult> = {}
  for (const [name, metric] of Object.entries(result.metrics)) {
    const error = metric.details.error as { message?: unknown } | undefined
    metrics[name] = typeof error === "object" && error !== null && typeof error.message === "string"
      ? { ...metric, details: { ...metric.details, error: { ...error, message: move(error.message) } } }
      : metric
  }
  return {
    index,
    metrics,
    ...(result.error !== undefined ? { error: { ...result.error, message: move(result.error.message) } } : {})
  }
}
