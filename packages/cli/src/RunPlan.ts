/**
 * The run plan of `eval` and `demo`: the flags checked and the metrics chosen for the given
 * inputs, before anything is decoded; and the warnings about metrics no input can feed.
 *
 * @since 0.2.0
 */
import { Effect, Option } from "effect"
import { EvaluateOptionsSchema, evaluatorConfig, Models, modelsConfig } from "@vidpool/eval"
import { DecodePlan, type DecodeOptions } from "@vidpool/pool"
import { type DecoderChoice, defaultMetrics, Engine } from "./Engine.ts"
import { counted, frameCount, parseSize, type RunFlags } from "./internal/Flags.ts"
import * as Format from "./Format.ts"
import { InputError } from "./InputError.ts"
import type * as Inputs from "./Inputs.ts"

/**
 * What one evaluation run does, decided from the flags and the inputs.
 *
 * @since 0.2.0
 * @category models
 */
export interface RunPlan {
  /** Skip the samples already in `out`; `"retry-errors"` evaluates its errors again. */
  readonly resume?: "skip-done" | "retry-errors" | undefined
  readonly inputs: ReadonlyArray<Inputs.InputSample>
  readonly metrics: ReadonlyArray<string>
  readonly sampleMetrics: ReadonlyArray<string>
  readonly corpusMetrics: ReadonlyArray<string>
  readonly decode: DecodeOptions
  /** From `--workers`, else `VIDPOOL_WORKERS`; unset, the Evaluator's default (1). */
  readonly workers: number | undefined
  /** From `--loaders`, else `VIDPOOL_LOADER_THREADS`; unset, the Evaluator's default (1). */
  readonly loaders: number | undefined
  readonly prefetch: number | undefined
  readonly onError: "fail" | "record"
  /** Model files by name: `VIDPOOL_MODEL_<NAME>`, then `--model NAME=PATH`. */
  readonly models: Readonly<Record<string, string>>
  readonly modelThreads: number | undefined
  readonly modelBatch: number | undefined
  readonly modelProviders: ReadonlyArray<"cpu" | "cuda" | "dml" | "coreml" | "webgpu" | "tensorrt"> | undefined
  /** `--reference-cache`; unset, the Evaluator's default (`VIDPOOL_REFERENCE_CACHE`, else read-write). */
  readonly referenceCache: "off" | "read" | "read-write" | undefined
  readonly decoder: DecoderChoice
  readonly format: Format.Format
  readonly out: string | undefined
  readonly quiet: boolean
}

/** The metrics `--metrics` names, by the registry's rule; the default set when it is absent. */
const chooseMetrics = Effect.fnUntraced(function*(
  spec: Option.Option<string>,
  inputs: ReadonlyArray<Inputs.InputSample>,
  models: Readonly<Record<string, string>>
) {
  const engine = yield* Engine
  if (Option.isNone(spec)) return defaultMetrics(engine.metrics, inputs, models)
  const names = spec.value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  if (names.length === 0) return yield* InputError.usage(`--metrics names no metric (see "vidpool metrics")`)
  return yield* engine.resolveMetrics(names)
})

/** The model files: `VIDPOOL_MODEL_<NAME>` for each model a metric runs, then `--model NAME=PATH`. */
const modelFiles = Effect.fnUntraced(function*(flags: RunFlags) {
  const engine = yield* Engine
  const names = Array.from(new Set(engine.metrics.flatMap((m) => m.models ?? [])))
  const fromEnvironment = yield* Effect.orDie(modelsConfig(names))
  const given = Option.getOrElse(flags.model, () => ({}))
  for (const [name, path] of Object.entries(given)) {
    if (path.trim() === "") return yield* InputError.usage(`--model ${name}= names no file (give NAME=PATH)`)
  }
  return { ...fromEnvironment, ...given }
})

/** `--model-providers`: a comma-separated list, checked with the Evaluator's Schema. */
const providers = (value: Option.Option<string>) => {
  if (Option.isNone(value)) return Effect.succeed(undefined)
  const list = Models.listFromText(value.value)
  const [problem] = EvaluateOptionsSchema.problems({ modelProviders: list })
  return problem === undefined
    ? Effect.succeed(list as ReadonlyArray<"cpu" | "cuda" | "dml" | "coreml" | "webgpu" | "tensorrt">)
    : Effect.fail(InputError.usage(`--model-providers must be ${problem.expected}, got "${value.value}"`))
}

/** A count the environment sets (already checked by `Environment.problems`). */
const fromEnvironment = (value: unknown): number | undefined => typeof value === "number" ? value : undefined

/** `--workers`, `--loaders`, `--prefetch`, each checked with the Evaluator's Schema; the first two default to the environment's. */
const threadCounts = Effect.fnUntraced(function*(flags: RunFlags) {
  const defaults = yield* Effect.orDie(evaluatorConfig)
  const workers = (yield* counted("workers", "workers", flags.workers)) ?? fromEnvironment(defaults.workers)
  const loaders = (yield* counted("loaders", "loaderThreads", flags.loaders)) ?? fromEnvironment(defaults.loaderThreads)
  const prefetch = yield* counted("prefetch", "prefetchFactor", flags.prefetch)
  return { workers, loaders, prefetch }
})

/** `--frames`, `--size`, `--fps`, `--repeat-frames` as decode options, each value checked on its own. */
const decodeOptions = Effect.fnUntraced(function*(flags: RunFlags) {
  const frames = yield* frameCount(flags.frames)
  const size = yield* parseSize(flags.size)
  if (Option.isSome(flags.fps) && !(flags.fps.value > 0)) {
    return yield* InputError.usage(`--fps must be a number > 0, got ${flags.fps.value}`)
  }
  const decode: DecodeOptions = {
    ...(frames !== undefined ? { numFrames: frames } : {}),
    ...(size !== undefined ? { width: size.width, height: size.height, resize: "exact" as const } : {}),
    ...(Option.isSome(flags.fps) ? { fps: flags.fps.value } : {}),
    ...(flags.repeatFrames ? { repeatFrames: true } : {})
  }
  return decode
})

/** Where the results go (`--out`), in which format (`--format`, else `--out`'s extension, else a table), and whether to resume. */
const outputOf = (flags: RunFlags) => {
  const out = Option.getOrUndefined(flags.out)
  const format = Option.getOrUndefined(flags.format) ?? (out === undefined ? undefined : Format.fromExtension(out)) ??
    "table"
  const resume = flags.retryErrors ? "retry-errors" as const : flags.resume ? "skip-done" as const : undefined
  return { out, format, resume }
}

/** The model files and how they run: `--model`, `--model-threads`, `--model-batch`, `--model-providers`. */
const modelSettings = Effect.fnUntraced(function*(flags: RunFlags) {
  const models = yield* modelFiles(flags)
  const modelThreads = yield* counted("model-threads", "modelThreads", flags.modelThreads)
  const modelBatch = yield* counted("model-batch", "modelBatch", flags.modelBatch)
  const modelProviders = yield* providers(flags.modelProviders)
  return { models, modelThreads, modelBatch, modelProviders }
})

/** The chosen metrics split into per-sample and corpus (set) metrics, in the order chosen. */
const byKind = Effect.fnUntraced(function*(metrics: ReadonlyArray<string>) {
  const engine = yield* Engine
  const isCorpus = (name: string) => engine.metrics.some((m) => m.name === name && m.kind === "set")
  return { sampleMetrics: metrics.filter((name) => !isCorpus(name)), corpusMetrics: metrics.filter(isCorpus) }
})

/** The checks of flags that only fail together: resuming needs JSON Lines output and no corpus metric; the decode options must be possible. */
const checkTogether = (
  output: ReturnType<typeof outputOf>,
  decode: DecodeOptions,
  corpusMetrics: ReadonlyArray<string>
): Effect.Effect<void, InputError> => {
  const { format, out, resume } = output
  if (resume !== undefined && (out === undefined || format !== "jsonl")) {
    return Effect.fail(InputError.usage(`--resume and --retry-errors need --out with a .jsonl file (or --format jsonl)`))
  }
  // Options that can never work (a size over FFmpeg's limits, say) stop the run before it starts.
  const impossible = DecodePlan.problems(decode)
  if (impossible.length > 0) {
    return Effect.fail(InputError.usage(`the decode options cannot work (--frames, --size, --fps): ${impossible.join("; ")}`))
  }
  if (resume !== undefined && corpusMetrics.length > 0) {
    return Effect.fail(InputError.usage(
      `--resume skips samples, and the corpus metrics (${corpusMetrics.join(", ")}) need every one: ` +
        `choose per-sample metrics with --metrics`
    ))
  }
  return Effect.void
}

/**
 * Checks the flags and chooses the metrics, for the given inputs. Fails with an `InputError` for
 * a flag value that cannot work, an `UnknownMetric` for a `--metrics` name that selects none.
 *
 * @since 0.2.0
 * @category constructors
 */
export const plan = Effect.fnUntraced(function*(flags: RunFlags, inputs: ReadonlyArray<Inputs.InputSample>) {
  const threads = yield* threadCounts(flags)
  const decode = yield* decodeOptions(flags)
  const output = outputOf(flags)
  const models = yield* modelSettings(flags)
  const metrics = yield* chooseMetrics(flags.metrics, inputs, models.models)
  const kinds = yield* byKind(metrics)
  yield* checkTogether(output, decode, kinds.corpusMetrics)
  const run: RunPlan = {
    ...output,
    inputs,
    metrics,
    ...kinds,
    decode,
    ...threads,
    onError: flags.onError,
    ...models,
    referenceCache: Option.getOrUndefined(flags.referenceCache),
    decoder: flags.decoder,
    quiet: flags.quiet
  }
  return run
})

/**
 * One sentence per chosen metric that needs a field no input has.
 *
 * @since 0.2.0
 * @category diagnostics
 */
export const missingFields = (
  known: ReadonlyArray<{ readonly name: string; readonly needs: ReadonlyArray<string> }>,
  chosen: ReadonlyArray<string>,
  inputs: ReadonlyArray<Inputs.InputSample>
): Array<string> => {
  const has = (field: string) =>
    inputs.some((input) =>
      field === "video" || (field === "reference" ? input.reference !== undefined : input.fields[field] !== undefined)
    )
  const out: Array<string> = []
  for (const name of chosen) {
    const metric = known.find((m) => m.name === name)
    const absent = metric?.needs.filter((field) => !has(field)) ?? []
    if (absent.length === 0) continue
    const how = absent.includes("reference")
      ? " (pair each video with one: --reference DIR, or a manifest line's \"reference\")"
      : ""
    out.push(`${name} needs ${absent.join(", ")}, which no sample has${how}; its scores will be empty`)
  }
  return out
}
