/**
 * Resuming a run from its JSON Lines output: the samples a killed (or finished) run already wrote
 * to `--out results.jsonl`, matched to today's inputs by index and input identity, and made
 * with today's settings, so that a changed manifest or setting is refused rather than mixed with old results.
 *
 * @since 0.2.0
 */
import { Effect, FileSystem } from "effect"
import { type Metric, placed as placedResult, type SampleError } from "@vidpool/eval"
import { InputError } from "../InputError.ts"
import type { InputSample } from "../Inputs.ts"
import type { SampleOutcome } from "../Report.ts"
import * as RunSettings from "./RunSettings.ts"

/** A sample line as `Format` writes it in JSON Lines. */
interface SampleLine {
  readonly type: "sample"
  readonly index: number
  readonly video: string | null
  readonly reference?: string
  readonly fields?: Readonly<Record<string, unknown>>
  readonly scores: Readonly<Record<string, number | null>>
  readonly details?: Readonly<Record<string, Record<string, unknown>>>
  readonly error?: SampleError
}

const sameInput = (line: SampleLine, input: InputSample): boolean =>
  line.video === input.video &&
  line.reference === input.reference &&
  JSON.stringify(line.fields ?? {}) === JSON.stringify(input.fields)

const outcomeOf = (line: SampleLine): SampleOutcome => {
  const metrics: Record<string, Metric.MetricResult> = {}
  for (const [name, score] of Object.entries(line.scores)) {
    metrics[name] = { name, score, details: line.details?.[name] ?? {} }
  }
  return { index: line.index, metrics, ...(line.error !== undefined ? { error: line.error } : {}) }
}

/**
 * Refuses a resume whose stored settings differ from this run's, naming each that differs.
 */
const checkSettings = (file: string, stored: unknown, settings: RunSettings.RunSettings) => {
  const differences = RunSettings.differences(stored, settings)
  if (differences.length === 0) return Effect.void
  return Effect.fail(InputError.usage(
    `--resume: ${file} was made with ${differences.map((d) => d.was).join(" and ")}, ` +
      `this run has ${differences.map((d) => d.now).join(" and ")}; run again with the same settings or a new --out`
  ))
}

/** A file of results with no stored settings: written by vidpool 0.2 or earlier. */
const unchecked = (file: string) =>
  InputError.usage(
    `--resume: ${file} holds no record of the settings its results were made with (it was written by ` +
      `vidpool 0.2 or earlier), so they cannot be checked against this run's; run again without --resume, or with a new --out`
  )

/**
 * The samples already in `file`, by index (a later line for an index replaces an earlier one). A
 * missing file holds none; a last line cut short by a kill is ignored. The file's first line must
 * be its run's settings, equal to `settings`; a file without them, of other settings, or with a
 * line of other inputs or other metrics refuses the resume, naming what differs.
 *
 * @since 0.2.0
 * @category constructors
 */
export const read = Effect.fnUntraced(function*(
  file: string,
  inputs: ReadonlyArray<InputSample>,
  metrics: ReadonlyArray<string>,
  settings: RunSettings.RunSettings
) {
  const fs = yield* FileSystem.FileSystem
  const done = new Map<number, SampleOutcome>()
  const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
  if (!exists) return done
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((error) => InputError.about(file, `cannot read it to resume: ${error.message}`))
  )
  const lines = text.split("\n")
  const refuse = (n: number, detail: string) =>
    InputError.at(file, n, `${detail}; the file holds another run's results (remove it, or run without --resume)`)
  let headed = false
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim()
    if (text.length === 0) continue
    const n = i + 1
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      // The last line may have been cut short by a kill: it is written again.
      if (lines.slice(i + 1).every((rest) => rest.trim().length === 0)) break
      return yield* refuse(n, "not a line of vidpool's JSON Lines output")
    }
    const type = (value as { readonly type?: unknown } | null)?.type
    if (!headed && type !== "settings") return yield* unchecked(file)
    headed = true
    if (type === "settings") yield* checkSettings(file, value, settings)
    if (type === "settings" || type === "run") continue
    const checked = checkSample(value, inputs, metrics)
    if (typeof checked === "string") return yield* refuse(n, checked)
    done.set(checked.index, outcomeOf(checked))
  }
  return done
})

/** A sample line of the same input and metrics as this run's, or why it is not one. */
const checkSample = (
  value: unknown,
  inputs: ReadonlyArray<InputSample>,
  metrics: ReadonlyArray<string>
): SampleLine | string => {
  const line = value as Partial<SampleLine>
  if (line.type !== "sample" || typeof line.index !== "number" || typeof line.scores !== "object" || line.scores === null) {
    return "not a line of vidpool's JSON Lines output"
  }
  const input = Number.isSafeInteger(line.index) ? inputs[line.index] : undefined
  if (input === undefined) return `sample ${line.index} is past the ${inputs.length} inputs given now`
  if (!sameInput(line as SampleLine, input)) {
    return `sample ${line.index} was ${String(line.video)}, the inputs now give ${input.video} there`
  }
  const scored = Object.keys(line.scores)
  const otherMetrics = line.error === undefined
    ? [...scored].sort().join(",") !== [...metrics].sort().join(",")
    : scored.some((name) => !metrics.includes(name))
  if (otherMetrics) return `sample ${line.index} was scored with ${scored.join(", ") || "no metric"}, not ${metrics.join(", ")}`
  return line as SampleLine
}

/**
 * An outcome of an evaluation over a part of the inputs, placed back at `index` in all of them
 * (its error messages name the sample by that index too): `placed` of `@vidpool/eval`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const placed: (outcome: SampleOutcome, index: number) => SampleOutcome = placedResult

/**
 * A DecodeError's or MetricError's message with the sample it names renumbered: `renumber` of
 * `@vidpool/eval`.
 *
 * @since 0.2.0
 * @category constructors
 */
export { renumber } from "@vidpool/eval"
