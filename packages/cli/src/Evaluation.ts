/**
 * Running one evaluation of a `RunPlan`: the header, progress and results as they finish, the
 * output and summary at the end, and on interruption the results so far (marked incomplete).
 *
 * @since 0.2.0
 */
import { Cause, Clock, Effect } from "effect"
import { type Metric, MetricError, modelDigest } from "@vidpool/eval"
import { DecodeError } from "@vidpool/pool"
import { Engine } from "./Engine.ts"
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
    yield* engine.ready(plan.decoder)
    const settings = yield* settingsOf(plan, options.cluster === true)
    const output = plan.out === undefined ? undefined : yield* Output.prepare(plan.out)
    const total = plan.inputs.length
    const kept = yield* keptOf(plan, settings)
    /** The inputs evaluated in this run, by their index in all of them. */
    const todo = plan.inputs.map((_, index) => index).filter((index) => !kept.has(index))
    // JSON Lines output gets each result as it finishes, so a killed run loses only those in flight.
    const append = output !== undefined && plan.format === "jsonl"
      ? yield* output.appender(kept.size === 0, RunSettings.line(settings))
      : undefined
    const mode = Progress.detectMode(plan.quiet, process.env.VIDPOOL_PROGRESS, process.stderr.isTTY === true)
    if (mode !== "off") {
      yield* Output.writeStderr(`evaluating ${plural(total, "sample")}: ${plan.metrics.join(", ")}\n`)
      // The Evaluator's defaults (1 and 1) when neither a flag nor the environment sets them, and
      // never more than there are samples to evaluate (the Evaluator starts no more).
      const most = Math.max(1, todo.length)
      yield* Output.writeStderr(
        `using ${plural(Math.min(plan.workers ?? 1, most), "metric worker")} and ${plural(Math.min(plan.loaders ?? 1, most), "loader")}\n`
      )
    }
    // A metric whose inputs no sample has gives an empty column: say why, before the run.
    for (const warning of missingFields(engine.metrics, plan.metrics, plan.inputs)) {
      yield* Output.writeStderr(`vidpool: ${warning}\n`)
    }
    const progress = yield* Progress.make({ total: todo.length, mode, write: Output.writeStderr, columns: process.stderr.columns })
    const start = yield* Clock.currentTimeMillis
    const collected: Array<SampleOutcome> = [...kept.values()]
    if (kept.size > 0 && mode !== "off") {
      yield* Output.writeStderr(`resuming: ${kept.size} of ${total} samples are already in ${plan.out}\n`)
    }
    const report = (outcome: Omit<Report, "inputs" | "metrics" | "corpusMetrics" | "settings">): Report => ({
      inputs: plan.inputs,
      metrics: plan.sampleMetrics,
      corpusMetrics: plan.corpusMetrics,
      settings,
      ...outcome
    })
    const samples = todo.map((index) => Inputs.toSample(plan.inputs[index], plan.decode))

    const result = yield* engine.evaluate(samples, {
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
      onResult: (result) =>
        Effect.suspend(() => {
          const sample = Resume.placed(result, todo[result.index])
          collected.push(sample)
          append?.(Format.sampleLine({ inputs: plan.inputs, metrics: plan.sampleMetrics }, sample))
          return progress.advance(sample.error !== undefined)
        })
    }).pipe(
      // An error that ends the run names the sample by its index in all the inputs.
      Effect.mapError((error) => kept.size === 0 ? error : reindexed(error, todo)),
      Effect.onError((cause) =>
        Effect.gen(function*() {
          yield* progress.finish
          if (!Cause.hasInterruptsOnly(cause)) return
          const now = yield* Clock.currentTimeMillis
          const done = [...collected].sort(byIndex)
          const partial = report({
            samples: done,
            corpus: [],
            summary: summarize(done, plan.sampleMetrics),
            timing: { wallMs: now - start, decodeMs: 0, computeMs: 0, waitMs: 0 },
            complete: false
          })
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
      )
    )
    yield* progress.finish
    const all = [...kept.values(), ...result.samples.map((sample) => Resume.placed(sample, todo[sample.index]))].sort(byIndex)
    const full = report({
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
  }))
