/**
 * The typed errors of metrics: a metric that failed on a sample, and a metric name that no
 * registered metric matches.
 *
 * @since 0.3.0
 */
import { Schema } from "effect"

/**
 * A metric failed on a sample: its code threw, or its input was not what it can read.
 *
 * @since 0.1.0
 * @category errors
 */
export class MetricError extends Schema.TaggedError<MetricError>()("MetricError", {
  metric: Schema.String,
  /** The sample's position in the input, when the failure concerns one sample. */
  index: Schema.optionalKey(Schema.Number),
  detail: Schema.String
}) {
  override get message(): string {
    const where = this.index !== undefined ? ` on sample ${this.index}` : ""
    return `Metric ${this.metric} failed${where}: ${this.detail}`
  }
}

/**
 * A metric name (or prefix) that no registered metric matches.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownMetric extends Schema.TaggedError<UnknownMetric>()("UnknownMetric", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
  /** For a short name that fits several metrics: those metrics. */
  candidates: Schema.optionalKey(Schema.Array(Schema.String))
}) {
  override get message(): string {
    if (this.candidates !== undefined) {
      return `Ambiguous metric "${this.name}": it could be ${this.candidates.join(", ")}; give the full name`
    }
    return `Unknown metric "${this.name}". Known metrics: ${this.known.join(", ")}`
  }
}
