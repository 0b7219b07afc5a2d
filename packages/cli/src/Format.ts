/**
 * The output formats of `vidpool eval`: an aligned table for people, and JSON, JSON Lines and
 * CSV for programs. Each renders a whole `Report` (complete or interrupted) to one string.
 *
 * @since 0.1.0
 */
import { errorCount, type Report, type SampleOutcome } from "./Report.ts"
import * as RunSettings from "./internal/RunSettings.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type Format = "table" | "json" | "jsonl" | "csv"

/**
 * @since 0.1.0
 * @category constants
 */
export const formats: ReadonlyArray<Format> = ["table", "json", "jsonl", "csv"]

/**
 * The format named by an output file's extension, if it names one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromExtension = (file: string): Format | undefined => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl"
  if (lower.endsWith(".json")) return "json"
  if (lower.endsWith(".csv")) return "csv"
  if (lower.endsWith(".txt")) return "table"
  return undefined
}

/**
 * Decimals for showing numbers of this size: 4 below 10, 2 below 100, 1 from 100.
 *
 * @since 0.1.0
 * @category formatting
 */
export const decimalsFor = (values: ReadonlyArray<number | null | undefined>): number => {
  let max = 0
  for (const v of values) if (typeof v === "number" && Number.isFinite(v)) max = Math.max(max, Math.abs(v))
  return max >= 100 ? 1 : max >= 10 ? 2 : 4
}

/**
 * A score for people, with the given decimals (default: from its own size); `-` when there is
 * none.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatScore = (score: number | null | undefined, decimals?: number): string => {
  if (score === null || score === undefined || Number.isNaN(score)) return "-"
  if (!Number.isFinite(score)) return score > 0 ? "inf" : "-inf"
  return score.toFixed(decimals ?? decimalsFor([score]))
}

const incompleteNote = (report: Report): string =>
  `incomplete: ${report.samples.length} of ${report.inputs.length} sample${
    report.inputs.length === 1 ? "" : "s"
  } evaluated before the run was interrupted`

/** Characters that would break a line or move the cursor: C0 and C1 controls, DEL, U+2028 and U+2029. */
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

const escapeControl = (c: string): string => {
  switch (c) {
    case "\n":
      return "\\n"
    case "\r":
      return "\\r"
    case "\t":
      return "\\t"
  }
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/**
 * Text for one cell of a table: every control character written as an escape (`\n`, `\r`, `\t`,
 * `\x1b`, `\u2028`...), so that a file name holding one neither breaks its row nor drives the
 * terminal. Other characters, the backslash included, are kept as they are.
 *
 * @since 0.2.0
 * @category formatting
 */
export const visible = (text: string): string => text.replace(controls, escapeControl)

/**
 * Lays out rows as aligned columns, one line each (cells go through `visible`); `right[i]`
 * right-aligns column `i`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const columns = (table: ReadonlyArray<ReadonlyArray<string>>, right: ReadonlyArray<boolean> = []): string => {
  const rows = table.map((row) => row.map(visible))
  const widths: Array<number> = []
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length)
    })
  }
  return rows.map((row) =>
    row.map((cell, i) => {
      if (i === row.length - 1 && !right[i]) return cell
      return right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
    }).join("  ")
  ).join("\n")
}

const oneLine = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat
}

/**
 * Column titles for metric names: the short name (after the last dot) where no other column has
 * the same one, else the full name.
 *
 * @since 0.1.0
 * @category formatting
 */
export const shortNames = (names: ReadonlyArray<string>): Array<string> => {
  const short = names.map((name) => name.slice(name.lastIndexOf(".") + 1))
  return names.map((name, i) => short.filter((s) => s === short[i]).length === 1 ? short[i] : name)
}

/** A column of paths: the file names and their folder, when they all share one. */
const pathColumn = (title: string, paths: ReadonlyArray<string | undefined>) => {
  const folders = new Set(paths.filter((p): p is string => p !== undefined).map(folderOf))
  const [folder] = folders
  if (folders.size !== 1 || folder === "" || paths.length < 2) {
    return { title, show: (p: string | undefined) => p ?? "-" }
  }
  return { title: `${title} (in ${folder})`, show: (p: string | undefined) => p === undefined ? "-" : p.slice(folder.length) }
}

const folderOf = (path: string): string => {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
  return cut < 0 ? "" : path.slice(0, cut + 1)
}

const table = (report: Report): string => {
  const hasReference = report.inputs.some((input) => input.reference !== undefined)
  const hasError = report.samples.some((sample) => sample.error !== undefined)
  const shown = report.samples.map((sample) => report.inputs[sample.index])
  const videos = pathColumn("video", shown.map((input) => input?.video))
  const references = pathColumn("reference", shown.map((input) => input?.reference))
  const header = [
    "#",
    videos.title,
    ...(hasReference ? [references.title] : []),
    ...shortNames(report.metrics),
    ...(hasError ? ["error"] : [])
  ]
  const firstMetric = hasReference ? 3 : 2
  const right = header.map((_, i) => i === 0 || (i >= firstMetric && i < firstMetric + report.metrics.length))
  // one precision per column, from its largest value
  const decimals = report.metrics.map((name) => decimalsFor(report.samples.map((s) => s.metrics[name]?.score)))
  const rows: Array<Array<string>> = [header]
  for (const sample of report.samples) {
    const input = report.inputs[sample.index]
    rows.push([
      String(sample.index),
      videos.show(input?.video),
      ...(hasReference ? [references.show(input?.reference)] : []),
      ...report.metrics.map((name, i) => formatScore(sample.metrics[name]?.score, decimals[i])),
      ...(hasError ? [sample.error === undefined ? "" : oneLine(sample.error.message, 100)] : [])
    ])
  }
  const lines = [columns(rows, right)]
  if (report.corpus.length > 0) {
    lines.push("", columns([
      ["corpus metric", "score"],
      ...report.corpus.map((metric) => [metric.name, formatScore(metric.score)])
    ], [false, true]))
  }
  if (!report.complete) lines.push("", incompleteNote(report))
  return lines.join("\n") + "\n"
}

/**
 * One sample as a line of the JSON Lines output (without its newline): what `--out x.jsonl`
 * appends as each sample finishes, and what `render` writes for it.
 *
 * @since 0.2.0
 * @category formatting
 */
export const sampleLine = (report: Pick<Report, "inputs" | "metrics">, sample: SampleOutcome): string =>
  JSON.stringify({ type: "sample", ...sampleRecord(report, sample) })

const sampleRecord = (report: Pick<Report, "inputs" | "metrics">, sample: SampleOutcome) => {
  const input = report.inputs[sample.index]
  const scores: Record<string, number | null> = {}
  const details: Record<string, unknown> = {}
  for (const name of report.metrics) {
    const metric = sample.metrics[name]
    if (metric === undefined) continue
    scores[name] = metric.score
    if (Object.keys(metric.details).length > 0) details[name] = metric.details
  }
  return {
    index: sample.index,
    video: input?.video ?? null,
    ...(input?.reference !== undefined ? { reference: input.reference } : {}),
    ...(input !== undefined && Object.keys(input.fields).length > 0 ? { fields: input.fields } : {}),
    scores,
    ...(Object.keys(details).length > 0 ? { details } : {}),
    ...(sample.error !== undefined ? { error: sample.error } : {})
  }
}

const corpusRecord = (report: Report) =>
  Object.fromEntries(report.corpus.map((metric) => [metric.name, { score: metric.score, details: metric.details }]))

const runRecord = (report: Report) => ({
  complete: report.complete,
  total: report.inputs.length,
  evaluated: report.samples.length,
  errors: errorCount(report.samples),
  metrics: report.metrics,
  corpusMetrics: report.corpusMetrics,
  corpus: corpusRecord(report),
  summary: report.summary,
  timing: report.timing
})

const json = (report: Report): string => {
  const { corpus, summary, timing, ...run } = runRecord(report)
  return JSON.stringify({ ...run, samples: report.samples.map((s) => sampleRecord(report, s)), corpus, summary, timing }, null, 2) +
    "\n"
}

const jsonl = (report: Report): string =>
  [
    ...(report.settings !== undefined ? [RunSettings.line(report.settings)] : []),
    ...report.samples.map((sample) => sampleLine(report, sample)),
    JSON.stringify({ type: "run", ...runRecord(report) })
  ].join("\n") + "\n"

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  const text = typeof value === "string" ? value : typeof value === "number" ? String(value) : JSON.stringify(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text
}

/** The CSV columns that are neither a manifest field nor a metric. */
const ownColumns: ReadonlySet<string> = new Set(["index", "video", "reference", "error"])

/**
 * The CSV column of a manifest field: `field.KEY`, always, so that the header alone tells fields
 * from metrics and a field's column keeps its name whatever metrics a run computes.
 *
 * @since 0.2.0
 * @category formatting
 */
export const fieldColumn = (key: string): string => `field.${key}`

/**
 * The CSV column of a metric: its full name, or `metric.NAME` where the name would read as another
 * column (`index`, `video`, `reference`, `error`, or a name starting with `field.` or `metric.`).
 * With `fieldColumn`, every column of a CSV output has a name of its own.
 *
 * @since 0.2.0
 * @category formatting
 */
export const metricColumn = (name: string): string =>
  ownColumns.has(name) || name.startsWith("field.") || name.startsWith("metric.") ? `metric.${name}` : name

const csv = (report: Report): string => {
  const hasReference = report.inputs.some((input) => input.reference !== undefined)
  const fieldNames: Array<string> = []
  const seen = new Set<string>()
  for (const input of report.inputs) {
    for (const key of Object.keys(input.fields)) {
      if (seen.has(key)) continue
      seen.add(key)
      fieldNames.push(key)
    }
  }
  const header = [
    "index",
    "video",
    ...(hasReference ? ["reference"] : []),
    ...fieldNames.map(fieldColumn),
    ...report.metrics.map(metricColumn),
    "error"
  ]
  const lines = [header.map(csvCell).join(",")]
  for (const sample of report.samples) {
    const input = report.inputs[sample.index]
    lines.push([
      sample.index,
      input?.video,
      ...(hasReference ? [input?.reference] : []),
      ...fieldNames.map((key) => input?.fields[key]),
      ...report.metrics.map((name) => sample.metrics[name]?.score),
      sample.error?.message
    ].map(csvCell).join(","))
  }
  if (!report.complete) lines.push(`# ${incompleteNote(report)}`)
  return lines.join("\n") + "\n"
}

/**
 * Renders a report in a format. An interrupted report says so: `"complete": false` in JSON and
 * JSON Lines (its last line is the run record), a last `# incomplete: ...` line in CSV and tables.
 * JSON Lines starts with the run's settings (`{"type": "settings", ...}`), when the report has them.
 *
 * @since 0.1.0
 * @category formatting
 */
export const render = (report: Report, format: Format): string => {
  switch (format) {
    case "table":
      return table(report)
    case "json":
      return json(report)
    case "jsonl":
      return jsonl(report)
    case "csv":
      return csv(report)
  }
}
