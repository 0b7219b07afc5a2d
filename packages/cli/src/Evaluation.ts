/**
 * Running one evaluation of a `RunPlan`: the header, progress and results as they finish, the
 * output and summary at the end, and on interruption the results so far (marked incomplete).
 *
 * @since 0.2.0
 */
import { Cause, Clock, Effect } from "effect"
import { type Metric, MetricError, modelDigest } from "@vidpool/eval"
import { DecodeError } from "@vidpool/pool"
import { Engine, type EvalOptions, type EvalOutcome } from "./Engine.ts"
import * as Format from "./Format.ts"
import * as Inputs from "./Inputs.ts"
import * as Output from "./Output.ts"
import * as Progress from "./Progress.ts"
import { type Report, type SampleOutcome, summarize } from "./Report.ts"
import * as Resume from "./internal/Resume.ts"
import * as RunSettings from "./internal/RunSettings.ts"
import type { RunPlan } from "./RunPlan.ts"
import { missingFields } from "./RunPlan.ts"
import * as Summary from "./Summary.ts"

const byIndex = (a: SampleOutcome, b: SampleOutcome) => a.index - b.index

/** A sample's error from an evaluation of `todo` (indices into all the inputs), by its index in all of them. */
const reindexed = <E>(error: E, todo: ReadonlyArray<number>): E => {
  if (error instanceof DecodeError) {
    const index = error.index === undefined ? undefined : todo[error.index]
    return index === undefined ? error : error.at(index, error.key ?? "video") as E
  }
  if (error instanceof MetricError) {
    const index = error.index === undefined ? undefined : todo[error.index]
    return index === undefined ? error : new MetricError({ metric: error.metric, index, detail: error.detail }) as E
  }
  return error
}

/** The model files the chosen metrics run, by name, with their digests: a changed file changes the scores. */
const modelDigests = (plan: RunPlan, catalogue: ReadonlyArray<Metric.MetricInfo>) => {
  const used = new Set(catalogue.filter((m) => plan.metrics.includes(m.name)).flatMap((m) => m.models ?? []))
  const given = Object.entries(plan.models).filter(([name]) => used.has(name)).sort(([a], [b]) => a.localeCompare(b))
  // A file that cannot be read fails here, as the Evaluator's model check would, before any output.
  return Effect.forEach(given, ([name, file]) => Effect.map(modelDigest(name, file), (digest) => [name, digest] as const)).pipe(
    Effect.map((pairs) => Object.fromEntries(pairs))
  )
}

/** The settings of this run: decoded here with the plan's decoder, or by the cluster's runners. */
const settingsOf = Effect.fnUntraced(function*(plan: RunPlan, cluster: boolean) {
  const engine = yield* Engine
  const decoder = cluster ? { cluster: plan.decoder } : yield* engine.decoderInfo(plan.decoder)
  const models = yield* modelDigests(plan, engine.metrics)
  return RunSettings.make({ decode: plan.decode, decoder, metrics: plan.metrics, catalogue: engine.metrics, models })
})

/** Resuming: the samples the output already holds, made with the same settings (its errors too, unless retried). */
const keptOf = Effect.fnUntraced(function*(plan: RunPlan, settings: RunSettings.RunSettings) {
  if (plan.resume === undefined || plan.out === undefined) return new Map<number, SampleOutcome>()
  const kept = yield* Resume.read(plan.out, plan.inputs, plan.sampleMetrics, settings)
  if (plan.resume === "retry-errors") {
    for (const [index, outcome] of kept) if (outcome.error !== undefined) kept.delete(index)
  }
  return kept
})

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** Where a run starts from: its settings, its output, the samples kept when resuming and the inputs left to evaluate. */
interface Start {
  readonly settings: RunSettings.RunSettings
  readonly output: Output.OutputFile | undefined
  readonly kept: ReadonlyMap<number, SampleOutcome>
  /** The inputs evaluated in this run, by their index in all of them. */
  readonly todo: ReadonlyArray<number>
  /** Writes one result line to JSON Lines output as it finishes, so a killed run loses only those in flight. */
  readonly append: ((line: string) => void) | undefined
}

/** The engine ready, the settings, the output checked, and what a resumed run keeps of it. */
const begin = Effect.fnUntraced(function*(plan: RunPlan, cluster: boolean) {
  const engine = yield* Engine
  yield* engine.ready(plan.decoder)
  const settings = yield* settingsOf(plan, cluster)
  const output = plan.out === undefined ? undefined : yield* Output.prepare(plan.out)
  const kept = yield* keptOf(plan, settings)
  const todo = plan.inputs.map((_, index) => index).filter((index) => !kept.has(index))
  const append = output !== undefined && plan.format === "jsonl"
    ? yield* output.appender(kept.size === 0, RunSettings.line(settings))
    : undefined
  const start: Start = { settings, output, kept, todo, append }
  return start
})

/** The header on stderr (unless the progress is off): the samples and metrics, the threads. */
const announce = (plan: RunPlan, mode: Progress.ProgressMode, todo: number) =>
  Effect.gen(function*() {
    if (mode === "off") return
    yield* Output.writeStderr(`evaluating ${plural(plan.inputs.length, "sample")}: ${plan.metrics.join(", ")}\n`)
    // The Evaluator's defaults (1 and 1) when neither a flag nor the environment sets them, and
    // never more than there are samples to evaluate (the Evaluator starts no more).
    const most = Math.max(1, todo)
    yield* Output.writeStderr(
      `using ${plural(Math.min(plan.workers ?? 1, most), "metric worker")} and ${plural(Math.min(plan.loaders ?? 1, most), "loader")}\n`
    )
  })

/** A metric whose inputs no sample has gives an empty column: say why, before the run. */
const warnMissing = (plan: RunPlan, catalogue: ReadonlyArray<Metric.MetricInfo>) =>
  Effect.forEach(missingFields(catalogue, plan.metrics, plan.inputs), (warning) => Output.writeStderr(`vidpool: ${warning}\n`), {
    discard: true
  })

/** The options the engine's evaluation gets from the plan; `onResult` sees each sample as it finishes. */
const evalOptions = (plan: RunPlan, settings: RunSettings.RunSettings, onResult: EvalOptions["onResult"]): EvalOptions => ({
  metrics: plan.metrics,
  ...(plan.workers !== undefined ? { workers: plan.workers } : {}),
  ...(plan.loaders !== undefined ? { loaderThreads: plan.loaders } : {}),
  ...(plan.prefetch !== undefined ? { prefetchFactor: plan.prefetch } : {}),
  onError: plan.onError,
  models: plan.models,
  // The files the settings line names: one changed since would score with another model.
  modelDigests: settings.models,
  ...(plan.modelThreads !== undefined ? { modelThreads: plan.modelThreads } : {}),
  ...(plan.modelBatch !== undefined ? { modelBatch: plan.modelBatch } : {}),
  ...(plan.modelProviders !== undefined ? { modelProviders: plan.modelProviders } : {}),
  ...(plan.referenceCache !== undefined ? { referenceCache: plan.referenceCache } : {}),
  decoder: plan.decoder,
  onResult
})

/** A report of the plan's inputs and metrics, with the run's settings. */
const reportOf = (
  plan: RunPlan,
  settings: RunSettings.RunSettings,
  outcome: Omit<Report, "inputs" | "metrics" | "corpusMetrics" | "settings">
): Report => ({
  inputs: plan.inputs,
  metrics: plan.sampleMetrics,
  corpusMetrics: plan.corpusMetrics,
  settings,
  ...outcome
})

/** On interruption: the results so far, marked incomplete, to the output file (or a line on stderr without one). */
const writePartial = Effect.fnUntraced(function*(
  plan: RunPlan,
  start: Start,
  collected: ReadonlyArray<SampleOutcome>,
  startedAt: number
) {
  const now = yield* Clock.currentTimeMillis
  const done = [...collected].sort(byIndex)
  const total = plan.inputs.length
  const partial = reportOf(plan, start.settings, {
    samples: done,
    corpus: [],
    summary: summarize(done, plan.sampleMetrics),
    timing: { wallMs: now - startedAt, decodeMs: 0, computeMs: 0, waitMs: 0 },
    complete: false
  })
  const output = start.output
  if (output === undefined) {
    yield* Output.writeStderr(`vidpool: interrupted after ${done.length} of ${total} samples\n`)
    return
  }
  yield* output.commit(Format.render(partial, plan.format)).pipe(
    Effect.andThen(Output.writeStderr(
      `vidpool: interrupted after ${done.length} of ${total} samples; ` +
        `the results so far are in ${output.path} (marked incomplete)\n`
    )),
    Effect.catch((error) => Output.writeStderr(`vidpool: interrupted; ${error.message}\n`))
  )
})

/** The whole report (the kept samples and this run's) to the output file or stdout, then the summary on stderr. */
const writeResults = Effect.fnUntraced(function*(plan: RunPlan, start: Start, result: EvalOutcome) {
  const { kept, output, todo } = start
  const all = [...kept.values(), ...result.samples.map((sample) => Resume.placed(sample, todo[sample.index]))].sort(byIndex)
  const full = reportOf(plan, start.settings, {
    samples: all,
    corpus: result.corpus,
    summary: kept.size === 0 ? result.summary : summarize(all, plan.sampleMetrics),
    timing: result.timing,
    complete: true
  })
  const text = Format.render(full, plan.format)
  if (output === undefined) {
    yield* Output.writeStdout(text)
  } else {
    yield* output.commit(text)
  }
  // --quiet turns off the progress only: the summary is always written.
  yield* Output.writeStderr(Summary.render(full))
  if (output !== undefined) yield* Output.writeStderr(`results written to ${output.path} (${plan.format})\n`)
  return full
})

/**
 * Evaluates the plan's inputs and writes the results; on interruption, writes what was computed
 * so far to `--out` (marked incomplete) and lets the interruption end the command (exit code 130).
 * Fails with the engine's tagged errors (a DecodeError with `--on-error fail`, say) or an
 * `InputError` about the output file (one that cannot be written, or holds results of other
 * settings when resuming). `cluster`: the cluster's runners decode, each resolving the decoder.
 *
 * @since 0.2.0
 * @category running
 */
export const run = (plan: RunPlan, options: { readonly cluster?: boolean } = {}) =>
  Effect.scoped(Effect.gen(function*() {
    const engine = yield* Engine
    const start = yield* begin(plan, options.cluster === true)
    const { kept, todo } = start
    const mode = Progress.detectMode(plan.quiet, process.env.VIDPOOL_PROGRESS, process.stderr.isTTY === true)
    yield* announce(plan, mode, todo.length)
    yield* warnMissing(plan, engine.metrics)
    const progress = yield* Progress.make({ total: todo.length, mode, write: Output.writeStderr, columns: process.stderr.columns })
    const startedAt = yield* Clock.currentTimeMillis
    if (kept.size > 0 && mode !== "off") {
      yield* Output.writeStderr(`resuming: ${kept.size} of ${plan.inputs.length} samples are already in ${plan.out}\n`)
    }
    const collected: Array<SampleOutcome> = [...kept.values()]
    const record = (result: SampleOutcome) =>
      Effect.suspend(() => {
        const sample = Resume.placed(result, todo[result.index])
        collected.push(sample)
        start.append?.(Format.sampleLine({ inputs: plan.inputs, metrics: plan.sampleMetrics }, sample))
        return progress.advance(sample.error !== undefined)
      })
    const samples = todo.map((index) => Inputs.toSample(plan.inputs[index], plan.decode))
    const result = yield* engine.evaluate(samples, evalOptions(plan, start.settings, record)).pipe(
      // An error that ends the run names the sample by its index in all the inputs.
      Effect.mapError((error) => kept.size === 0 ? error : reindexed(error, todo)),
      Effect.onError((cause) =>
        Effect.andThen(progress.finish, Cause.hasInterruptsOnly(cause) ? writePartial(plan, start, collected, startedAt) : Effect.void)
      )
    )
    yield* progress.finish
    return yield* writeResults(plan, start, result)
  }))
