/**
 * Reading a finished run back from its JSON Lines results (`vidpool eval --out results.jsonl`):
 * the settings line, one line per sample, and the run's closing line, as the `Report` they were
 * written from. A file that is not such results, or was cut short, is one `InputError` naming it.
 *
 * @since 0.3.0
 */
import { Effect, FileSystem } from "effect"
import type { Metric, SampleError } from "@vidpool/eval"
import { InputError } from "../InputError.ts"
import type { InputSample } from "../Inputs.ts"
import type { Report, SampleOutcome, Stats, Timing } from "../Report.ts"
import type { RunSettings } from "./RunSettings.ts"

/**
 * The largest results file read (512 MiB): a run of a million samples writes far less.
 *
 * @since 0.3.0
 * @category constants
 */
export const maxBytes = 512 * 1024 * 1024

/** The largest number of inputs a run line may claim: the samples a report shows are sized by it. */
const maxInputs = 10_000_000

type Record_ = Readonly<Record<string, unknown>>

const isRecord = (value: unknown): value is Record_ => typeof value === "object" && value !== null && !Array.isArray(value)

const isScore = (value: unknown): value is number | null => value === null || typeof value === "number"

const strings = (value: unknown): value is ReadonlyArray<string> =>
  Array.isArray(value) && value.every((item) => typeof item === "string")

/** A sample line's outcome and input, or why the line is not one. */
const sampleOf = (line: Record_): { readonly outcome: SampleOutcome; readonly input: InputSample } | string => {
  const { details, error, fields, index, reference, scores, video } = line
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0 || index >= maxInputs) {
    return `its "index" is not a sample index (got ${JSON.stringify(index)})`
  }
  if (typeof video !== "string") return `sample ${index} has no "video" path`
  if (reference !== undefined && typeof reference !== "string") return `sample ${index} has a "reference" that is not a path`
  if (!isRecord(scores) || !Object.values(scores).every(isScore)) return `sample ${index} has no "scores" record of numbers`
  if (details !== undefined && !isRecord(details)) return `sample ${index} has "details" that are not a record`
  if (fields !== undefined && !isRecord(fields)) return `sample ${index} has "fields" that are not a record`
  if (error !== undefined && !(isRecord(error) && typeof error.message === "string" && typeof error._tag === "string")) {
    return `sample ${index} has an "error" without a message`
  }
  const metrics: Record<string, Metric.MetricResult> = {}
  for (const [name, score] of Object.entries(scores)) {
    const own = details?.[name]
    metrics[name] = { name, score: score as number | null, details: isRecord(own) ? own : {} }
  }
  return {
    outcome: { index, metrics, ...(error !== undefined ? { error: error as unknown as SampleError } : {}) },
    input: { video, ...(reference !== undefined ? { reference } : {}), fields: fields ?? {} }
  }
}

/** What the run's closing line holds, or why it is not one. */
const runOf = (line: Record_) => {
  const { complete, corpus, corpusMetrics, metrics, summary, timing, total } = line
  if (typeof complete !== "boolean") return `the run line has no "complete" flag`
  if (typeof total !== "number" || !Number.isSafeInteger(total) || total < 0 || total >= maxInputs) {
    return `the run line's "total" is not a count of samples (got ${JSON.stringify(total)})`
  }
  if (!strings(metrics)) return `the run line's "metrics" is not a list of names`
  if (corpusMetrics !== undefined && !strings(corpusMetrics)) return `the run line's "corpusMetrics" is not a list of names`
  if (corpus !== undefined && !isRecord(corpus)) return `the run line's "corpus" is not a record`
  if (summary !== undefined && !isRecord(summary)) return `the run line's "summary" is not a record`
  const time = isRecord(timing) ? timing : {}
  const ms = (key: string) => typeof time[key] === "number" ? time[key] : 0
  const scores: Array<Metric.MetricResult> = []
  for (const [name, value] of Object.entries(corpus ?? {})) {
    const score = isRecord(value) && isScore(value.score) ? value.score : null
    scores.push({ name, score, details: isRecord(value) && isRecord(value.details) ? value.details : {} })
  }
  return {
    complete,
    total,
    metrics,
    corpusMetrics: corpusMetrics ?? [],
    corpus: scores,
    summary: (summary ?? {}) as Readonly<Record<string, Stats>>,
    timing: { wallMs: ms("wallMs"), decodeMs: ms("decodeMs"), computeMs: ms("computeMs"), waitMs: ms("waitMs") } as Timing
  }
}

const killed = (file: string) =>
  `the run that wrote it did not finish (it was stopped while writing); finish it with "vidpool eval ... --resume --out ${file}", then report`

/** The run's closing line, as `runOf` reads it. */
type RunLine = Exclude<ReturnType<typeof runOf>, string>

/** What the lines of a results file held, in the order read. */
interface Lines {
  settings: RunSettings | undefined
  readonly samples: Array<SampleOutcome>
  readonly inputs: Map<number, InputSample>
  run: RunLine | undefined
  /** The record lines read (blank lines aside). */
  seen: number
}

/** Why line `i` (not JSON) is refused: cut short when it is the file's last and no newline ends the file. */
const notJson = (file: string, text: string, lines: ReadonlyArray<string>, i: number): InputError => {
  const last = lines.slice(i + 1).every((rest) => rest.trim().length === 0)
  return last && !text.endsWith("\n")
    ? InputError.at(file, i + 1, `its last line is cut short: ${killed(file)}`)
    : InputError.at(file, i + 1, `not a line of vidpool's JSON Lines results (not JSON); give the .jsonl file of "vidpool eval --out"`)
}

/** Adds the record of line `n` to what was read; the error when it is not a line of vidpool's results there. */
const addLine = (file: string, read: Lines, value: unknown, n: number): InputError | undefined => {
  const type = isRecord(value) ? value.type : undefined
  if (read.seen === 0 && type !== "settings" && type !== "sample" && type !== "run") {
    return InputError.at(file, n, `not vidpool's JSON Lines results (the first line is no settings, sample or run record); give the .jsonl file of "vidpool eval --out"`)
  }
  read.seen++
  if (read.run !== undefined) return InputError.at(file, n, `a line after the run's closing line: the file holds more than one run's results`)
  const record = value as Record_
  if (type === "settings") {
    read.settings = record as unknown as RunSettings
  } else if (type === "sample") {
    const sample = sampleOf(record)
    if (typeof sample === "string") return InputError.at(file, n, `not a sample of vidpool's results: ${sample}`)
    read.samples.push(sample.outcome)
    read.inputs.set(sample.outcome.index, sample.input)
  } else if (type === "run") {
    const parsed = runOf(record)
    if (typeof parsed === "string") return InputError.at(file, n, `not vidpool's run line: ${parsed}`)
    read.run = parsed
  } else {
    return InputError.at(file, n, `not a line of vidpool's JSON Lines results (type ${JSON.stringify(type)})`)
  }
  return undefined
}

/** The report of the lines read: a run line present, no sample past its total; a sample written again (a resumed run) replaces the earlier line. */
const reportOf = (file: string, read: Lines): Report | InputError => {
  const { inputs, run, samples, settings } = read
  if (read.seen === 0) return InputError.about(file, `it is empty: no results to report`)
  if (run === undefined) {
    return InputError.about(file, `it ends after ${samples.length} sample${samples.length === 1 ? "" : "s"} without the run's closing line: ${killed(file)}`)
  }
  const total = run.total
  const beyond = samples.find((sample) => sample.index >= total)
  if (beyond !== undefined) {
    return InputError.about(file, `sample ${beyond.index} is past the run's ${total} samples: the file was edited or mixes runs`)
  }
  const byIndex = new Map<number, SampleOutcome>()
  for (const sample of samples) byIndex.set(sample.index, sample)
  const unknown: InputSample = { video: "", fields: {} }
  return {
    inputs: Array.from({ length: total }, (_, index) => inputs.get(index) ?? unknown),
    metrics: run.metrics,
    corpusMetrics: run.corpusMetrics,
    samples: [...byIndex.values()].sort((a, b) => a.index - b.index),
    corpus: run.corpus,
    summary: run.summary,
    timing: run.timing,
    complete: run.complete,
    ...(settings !== undefined ? { settings } : {})
  }
}

/**
 * Parses the text of a results file into the `Report` it was written from. Fails with an
 * `InputError` naming `file` (and the line) for text that is not vidpool's JSON Lines results:
 * a line that is not JSON or not a record of them, no run line at the end (a run killed, or a
 * file cut short), a line after the run line.
 *
 * @since 0.3.0
 * @category parsing
 */
export const parse = (file: string, text: string): Effect.Effect<Report, InputError> =>
  Effect.suspend(() => {
    const lines = text.split("\n")
    const read: Lines = { settings: undefined, samples: [], inputs: new Map(), run: undefined, seen: 0 }
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i].trim()
      if (raw.length === 0) continue
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch {
        return Effect.fail(notJson(file, text, lines, i))
      }
      const error = addLine(file, read, value, i + 1)
      if (error !== undefined) return Effect.fail(error)
    }
    const report = reportOf(file, read)
    return report instanceof InputError ? Effect.fail(report) : Effect.succeed(report)
  })

/**
 * Reads a results file (`vidpool eval --out results.jsonl`) as the `Report` it was written from;
 * fails with an `InputError` naming the file and why it cannot be read or is not such results.
 *
 * @since 0.3.0
 * @category constructors
 */
export const read = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const cannot = (why: string) => InputError.about(file, `cannot read the results: ${why}`)
  const info = yield* fs.stat(file).pipe(Effect.mapError((error) =>
    cannot(error.reason._tag === "NotFound" ? "no such file" : error.reason.description ?? error.message)
  ))
  if (info.type !== "File") return yield* cannot(`it is not a file (${info.type})`)
  if (Number(info.size) > maxBytes) return yield* cannot(`it holds ${info.size} bytes, over the ${maxBytes} a results file may`)
  const text = yield* fs.readFileString(file).pipe(Effect.mapError((error) => cannot(error.reason.description ?? error.message)))
  return yield* parse(file, text)
})

