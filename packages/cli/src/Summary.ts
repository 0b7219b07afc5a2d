/**
 * The end-of-run summary written to stderr: per-metric statistics, throughput, and where the
 * time went, with a hint on whether more loaders or more workers would help.
 *
 * @since 0.1.0
 */
import { columns, decimalsFor, formatScore } from "./Format.ts"
import { errorCount, type Report } from "./Report.ts"

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`

/**
 * What the timing says about the bottleneck.
 *
 * @since 0.1.0
 * @category formatting
 */
export const hint = (timing: Report["timing"]): string | undefined => {
  const busy = timing.computeMs + timing.waitMs
  if (busy <= 0 || timing.wallMs < 200) return undefined
  const waiting = timing.waitMs / busy
  if (waiting > 0.3) {
    return `workers spent ${Math.round(waiting * 100)}% of their time waiting for decoded clips: more --loaders (or a smaller --size/--frames) would help`
  }
  if (waiting < 0.1) {
    return `metrics kept the workers busy (${Math.round((1 - waiting) * 100)}% computing): more --workers would help, if cores are free`
  }
  return undefined
}

/**
 * Renders the summary of a report.
 *
 * @since 0.1.0
 * @category formatting
 */
export const render = (report: Report): string => {
  const lines: Array<string> = []
  const names = report.metrics.filter((name) => report.summary[name] !== undefined)
  if (names.length > 0) {
    lines.push(columns([
      ["metric", "count", "mean", "std", "min", "max"],
      ...names.map((name) => {
        const s = report.summary[name]
        const d = decimalsFor([s.mean, s.min, s.max])
        return [name, String(s.count), formatScore(s.mean, d), formatScore(s.std, d), formatScore(s.min, d), formatScore(s.max, d)]
      })
    ], [false, true, true, true, true, true]))
  }
  for (const metric of report.corpus) {
    lines.push(`corpus ${metric.name}: ${formatScore(metric.score)}`)
  }
  const { timing } = report
  const n = report.samples.length
  const errors = errorCount(report.samples)
  const rate = timing.wallMs > 0 ? n / (timing.wallMs / 1000) : 0
  lines.push(
    `${n}${report.complete ? "" : ` of ${report.inputs.length}`} ${
      (report.complete ? n : report.inputs.length) === 1 ? "sample" : "samples"
    } in ${seconds(timing.wallMs)} ` +
      `(${rate.toFixed(2)} clips/s), ${errors} error${errors === 1 ? "" : "s"}`
  )
  lines.push(
    `time: decoding ${seconds(timing.decodeMs)} (summed over loaders), computing ${seconds(timing.computeMs)}, ` +
      `waiting for clips ${seconds(timing.waitMs)} (summed over workers)`
  )
  const advice = hint(timing)
  if (advice !== undefined) lines.push(`hint: ${advice}`)
  return lines.join("\n") + "\n"
}
