/**
 * The `vidpool` command tree (eval, probe, metrics, demo) and how it ends: results on stdout or
 * in a file, progress and the summary on stderr, every failure as one line and an exit code.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Config, Console, Data, Effect, FileSystem, Option, Runtime } from "effect"
import { Argument, CliError, CliOutput, Command, Flag } from "effect/cli"
import { EvaluateOptionsSchema, MetricError } from "@vidpool/eval"
import { DecodeError, DecodePlan, type DecodeOptions } from "@vidpool/pool"
import { decoderChoices, type DecoderChoice, defaultMetrics, Engine, type Failure, type MetricInfo, resolveNames } from "./Engine.ts"
import * as Format from "./Format.ts"
import { InputError } from "./InputError.ts"
import * as Environment from "./Environment.ts"
import * as Inputs from "./Inputs.ts"
import * as Output from "./Output.ts"
import * as Progress from "./Progress.ts"
import * as Resume from "./Resume.ts"
import { type Report, type SampleOutcome, summarize } from "./Report.ts"
import * as Summary from "./Summary.ts"

/**
 * @since 0.1.0
 * @category constants
 */
export const version = "0.2.0"

/**
 * Exit codes: 0 success, 1 the run failed (a video or metric failed with `--on-error fail`, a
 * probe failed), 2 bad input or usage, 70 a bug in vidpool, 130 interrupted.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, internal: 70, interrupted: 130 } as const

// ---------------------------------------------------------------------------------------------
// flags

/** A count flag, checked with the Evaluator's Schema for the option it sets. */
const counted = (flag: string, option: keyof typeof EvaluateOptionsSchema.fields, value: Option.Option<number>) => {
  if (Option.isNone(value)) return Effect.succeed(undefined)
  const [problem] = EvaluateOptionsSchema.problems({ [option]: value.value })
  return problem === undefined
    ? Effect.succeed(value.value)
    : Effect.fail(InputError.usage(`--${flag} must be ${problem.expected}, got ${value.value}`))
}

/** --frames: any whole number >= 1 (a clip shorter than it is kept as it is). */
const frameCount = (value: Option.Option<number>) =>
  Option.isNone(value)
    ? Effect.succeed(undefined)
    : Number.isSafeInteger(value.value) && value.value >= 1
    ? Effect.succeed(value.value)
    : Effect.fail(InputError.usage(`--frames must be a whole number >= 1, got ${value.value}`))

const parseSize = (size: Option.Option<string>) => {
  if (Option.isNone(size)) return Effect.succeed(undefined)
  const match = /^(\d+)(?:x(\d+))?$/.exec(size.value.trim())
  const width = match === null ? NaN : Number(match[1])
  const height = match === null ? NaN : Number(match[2] ?? match[1])
  return width >= 1 && height >= 1
    ? Effect.succeed({ width, height })
    : Effect.fail(InputError.usage(`--size must be WIDTHxHEIGHT or SIZE (pixels), such as 320x180 or 256; got "${size.value}"`))
}

const quiet = Flag.Boolean("quiet").pipe(
  Flag.withAlias("q"),
  Flag.withDescription("No progress on stderr (the end-of-run summary is still written there)"),
  Flag.withDefault(false)
)

const runFlags = {
  metrics: Flag.String("metrics").pipe(
    Flag.withDescription("Metrics to compute: names or prefixes, comma-separated (default: the default set)"),
    Flag.optional
  ),
  workers: Flag.Int("workers").pipe(Flag.withDescription("Metric workers (threads)"), Flag.optional),
  loaders: Flag.Int("loaders").pipe(Flag.withDescription("Videos decoded at once"), Flag.optional),
  prefetch: Flag.Int("prefetch").pipe(Flag.withDescription("Decoded samples kept ready per worker"), Flag.optional),
  frames: Flag.Int("frames").pipe(Flag.withDescription("Decode this many frames, spread over each clip"), Flag.optional),
  size: Flag.String("size").pipe(
    Flag.withDescription("Scale frames to WIDTHxHEIGHT (or SIZExSIZE)"),
    Flag.withMetavar("WxH"),
    Flag.optional
  ),
  fps: Flag.Finite("fps").pipe(Flag.withDescription("Resample clips to this frame rate"), Flag.optional),
  repeatFrames: Flag.Boolean("repeat-frames").pipe(
    Flag.withDescription("With --frames over a clip's frame count, repeat frames to give exactly that many (default: keep the clip as it is)"),
    Flag.withDefault(false)
  ),
  onError: Flag.Literals("on-error", ["record", "fail"]).pipe(
    Flag.withDescription(
      "record: a failing video is reported in its row and the run goes on; fail: stop at the first " +
        "(default: VIDPOOL_ON_ERROR, else record)"
    ),
    Flag.withFallbackConfig(Config.Literals(["record", "fail"], "VIDPOOL_ON_ERROR").pipe(Config.withDefault("record")))
  ),
  decoder: Flag.Literals("decoder", decoderChoices).pipe(
    Flag.withDescription(
      "auto: in process (FFmpeg's libraries, node-av) where it loads, else the ffmpeg command; libav; ffmpeg " +
        "(default: VIDPOOL_DECODER, else auto)"
    ),
    Flag.withFallbackConfig(Config.Literals(decoderChoices, "VIDPOOL_DECODER").pipe(Config.withDefault("auto")))
  ),
  format: Flag.Literals("format", Format.formats).pipe(
    Flag.withDescription("Output format (default: from --out's extension, else table)"),
    Flag.optional
  ),
  out: Flag.String("out").pipe(
    Flag.withAlias("o"),
    Flag.withDescription(
      "Write the results to this file instead of stdout (whole at the end; a .jsonl file also gets each result as it finishes)"
    ),
    Flag.optional
  ),
  resume: Flag.Boolean("resume").pipe(
    Flag.withDescription("Skip the samples already in --out (a .jsonl file of the same inputs), as left by a killed run"),
    Flag.withDefault(false)
  ),
  retryErrors: Flag.Boolean("retry-errors").pipe(
    Flag.withDescription("With --resume, evaluate again the samples recorded there as errors (implies --resume)"),
    Flag.withDefault(false)
  ),
  quiet
} as const

type RunFlags = {
  readonly [K in keyof typeof runFlags]: (typeof runFlags)[K] extends Flag.Flag<infer A> ? A : never
}

// ---------------------------------------------------------------------------------------------
// the run shared by eval and demo

interface RunPlan {
  /** Skip the samples already in `out`; `"retry-errors"` evaluates its errors again. */
  readonly resume?: "skip-done" | "retry-errors" | undefined
  readonly inputs: ReadonlyArray<Inputs.InputSample>
  readonly metrics: ReadonlyArray<string>
  readonly sampleMetrics: ReadonlyArray<string>
  readonly corpusMetrics: ReadonlyArray<string>
  readonly decode: DecodeOptions
  readonly workers: number | undefined
  readonly loaders: number | undefined
  readonly prefetch: number | undefined
  readonly onError: "fail" | "record"
  readonly decoder: DecoderChoice
  readonly format: Format.Format
  readonly out: string | undefined
  readonly quiet: boolean
}

/** Checks the flags and chooses the metrics, for the given inputs. */
const plan = Effect.fnUntraced(function*(flags: RunFlags, inputs: ReadonlyArray<Inputs.InputSample>) {
  const workers = yield* counted("workers", "workers", flags.workers)
  const loaders = yield* counted("loaders", "loaderThreads", flags.loaders)
  const prefetch = yield* counted("prefetch", "prefetchFactor", flags.prefetch)
  const frames = yield* frameCount(flags.frames)
  const size = yield* parseSize(flags.size)
  if (Option.isSome(flags.fps) && !(flags.fps.value > 0)) {
    return yield* InputError.usage(`--fps must be a number > 0, got ${flags.fps.value}`)
  }
  const out = Option.getOrUndefined(flags.out)
  const format = Option.getOrUndefined(flags.format) ?? (out === undefined ? undefined : Format.fromExtension(out)) ??
    "table"
  const metrics = yield* chooseMetrics(flags.metrics, inputs)
  const resume = flags.retryErrors ? "retry-errors" as const : flags.resume ? "skip-done" as const : undefined
  if (resume !== undefined && (out === undefined || format !== "jsonl")) {
    return yield* InputError.usage(`--resume and --retry-errors need --out with a .jsonl file (or --format jsonl)`)
  }
  const decode: DecodeOptions = {
    ...(frames !== undefined ? { numFrames: frames } : {}),
    ...(size !== undefined ? { width: size.width, height: size.height, resize: "exact" as const } : {}),
    ...(Option.isSome(flags.fps) ? { fps: flags.fps.value } : {}),
    ...(flags.repeatFrames ? { repeatFrames: true } : {})
  }
  // Options that can never work (a size over FFmpeg's limits, say) stop the run before it starts.
  const impossible = DecodePlan.problems(decode)
  if (impossible.length > 0) {
    return yield* InputError.usage(`the decode options cannot work (--frames, --size, --fps): ${impossible.join("; ")}`)
  }
  const engine = yield* Engine
  const isCorpus = (name: string) => engine.metrics.some((m) => m.name === name && m.kind === "set")
  const corpusMetrics = metrics.filter(isCorpus)
  if (resume !== undefined && corpusMetrics.length > 0) {
    return yield* InputError.usage(
      `--resume skips samples, and the corpus metrics (${corpusMetrics.join(", ")}) need every one: ` +
        `choose per-sample metrics with --metrics`
    )
  }
  return {
    resume,
    inputs,
    metrics,
    sampleMetrics: metrics.filter((name) => !isCorpus(name)),
    corpusMetrics,
    decode,
    workers,
    loaders,
    prefetch,
    onError: flags.onError,
    decoder: flags.decoder,
    format,
    out,
    quiet: flags.quiet
  }
})

const chooseMetrics = Effect.fnUntraced(function*(spec: Option.Option<string>, inputs: ReadonlyArray<Inputs.InputSample>) {
  const engine = yield* Engine
  const known = engine.metrics.map((m) => m.name)
  if (Option.isNone(spec)) return defaultMetrics(engine.metrics, inputs)
  const names = spec.value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  if (names.length === 0) return yield* InputError.usage(`--metrics names no metric (see "vidpool metrics")`)
  const { resolved, unknown } = resolveNames(names, known)
  if (unknown !== undefined) return yield* Effect.fail(engine.unknownMetric(unknown))
  return resolved
})

const byIndex = (a: SampleOutcome, b: SampleOutcome) => a.index - b.index

/** A sample's error from an evaluation of `todo` (indices into all the inputs), by its index in all of them. */
const reindexed = <E>(error: E, todo: ReadonlyArray<number>): E => {
  const failure = error as { readonly _tag?: string; readonly index?: number; readonly key?: string }
  if (failure.index === undefined || todo[failure.index] === undefined) return error
  const index = todo[failure.index]
  if (error instanceof DecodeError) return error.at(index, error.key ?? "video") as E
  if (error instanceof MetricError) return new MetricError({ metric: error.metric, index, detail: error.detail }) as E
  return error
}

/** One sentence per chosen metric that needs a field no input has. */
const missingFields = (
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

/**
 * Evaluates the inputs and writes the results; on interruption, writes what was computed so far
 * to `--out` (marked incomplete) and lets the interruption end the command (exit code 130).
 */
const runEvaluation = (run: RunPlan) =>
  Effect.scoped(Effect.gen(function*() {
    const engine = yield* Engine
    yield* engine.ready(run.decoder)
    const output = run.out === undefined ? undefined : yield* Output.prepare(run.out)
    const total = run.inputs.length
    // Resuming: the samples the output already holds are kept (its errors too, unless retried).
    const kept = run.resume === undefined || run.out === undefined
      ? new Map<number, SampleOutcome>()
      : yield* Resume.read(run.out, run.inputs, run.sampleMetrics)
    if (run.resume === "retry-errors") {
      for (const [index, outcome] of kept) if (outcome.error !== undefined) kept.delete(index)
    }
    /** The inputs evaluated in this run, by their index in all of them. */
    const todo = run.inputs.map((_, index) => index).filter((index) => !kept.has(index))
    // JSON Lines output gets each result as it finishes, so a killed run loses only those in flight.
    const append = output !== undefined && run.format === "jsonl"
      ? yield* output.appender(run.resume === undefined)
      : undefined
    const mode = Progress.detectMode(run.quiet, process.env.VIDPOOL_PROGRESS, process.stderr.isTTY === true)
    if (mode !== "off") {
      yield* Output.writeStderr(
        `evaluating ${total} sample${total === 1 ? "" : "s"}: ${run.metrics.join(", ")}\n`
      )
    }
    // A metric whose inputs no sample has gives an empty column: say why, before the run.
    for (const warning of missingFields(engine.metrics, run.metrics, run.inputs)) {
      yield* Output.writeStderr(`vidpool: ${warning}\n`)
    }
    const progress = yield* Progress.make({ total: todo.length, mode, write: Output.writeStderr, columns: process.stderr.columns })
    const start = yield* Clock.currentTimeMillis
    const collected: Array<SampleOutcome> = [...kept.values()]
    if (kept.size > 0 && mode !== "off") {
      yield* Output.writeStderr(`resuming: ${kept.size} of ${total} samples are already in ${run.out}\n`)
    }
    const report = (outcome: Omit<Report, "inputs" | "metrics" | "corpusMetrics">): Report => ({
      inputs: run.inputs,
      metrics: run.sampleMetrics,
      corpusMetrics: run.corpusMetrics,
      ...outcome
    })
    const samples = todo.map((index) => Inputs.toSample(run.inputs[index], run.decode))

    const result = yield* engine.evaluate(samples, {
      metrics: run.metrics,
      ...(run.workers !== undefined ? { workers: run.workers } : {}),
      ...(run.loaders !== undefined ? { loaderThreads: run.loaders } : {}),
      ...(run.prefetch !== undefined ? { prefetchFactor: run.prefetch } : {}),
      onError: run.onError,
      decoder: run.decoder,
      onResult: (result) =>
        Effect.suspend(() => {
          const sample = Resume.placed(result, todo[result.index])
          collected.push(sample)
          append?.(Format.sampleLine({ inputs: run.inputs, metrics: run.sampleMetrics }, sample))
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
            summary: summarize(done, run.sampleMetrics),
            timing: { wallMs: now - start, decodeMs: 0, computeMs: 0, waitMs: 0 },
            complete: false
          })
          if (output === undefined) {
            yield* Output.writeStderr(`vidpool: interrupted after ${done.length} of ${total} samples\n`)
            return
          }
          yield* output.commit(Format.render(partial, run.format)).pipe(
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
      summary: kept.size === 0 ? result.summary : summarize(all, run.sampleMetrics),
      timing: result.timing,
      complete: true
    })
    const text = Format.render(full, run.format)
    if (output === undefined) {
      yield* Output.writeStdout(text)
    } else {
      yield* output.commit(text)
    }
    // --quiet turns off the progress only: the summary is always written.
    yield* Output.writeStderr(Summary.render(full))
    if (output !== undefined) yield* Output.writeStderr(`results written to ${output.path} (${run.format})\n`)
    return full
  }))

// ---------------------------------------------------------------------------------------------
// commands

const evalCommand = Command.make(
  "eval",
  {
    inputs: Argument.String("inputs").pipe(
      Argument.withDescription("Video files, folders of videos (sorted by name), or .jsonl manifests"),
      Argument.variadic({ min: 1 })
    ),
    reference: Flag.String("reference").pipe(
      Flag.withDescription("Folder of references: each video is paired with the file of the same name there"),
      Flag.withMetavar("DIR"),
      Flag.optional
    ),
    ...runFlags
  },
  Effect.fnUntraced(function*(flags) {
    const inputs = yield* Inputs.collect(flags.inputs, { reference: Option.getOrUndefined(flags.reference), onError: flags.onError })
    yield* runEvaluation(yield* plan(flags, inputs))
  })
).pipe(
  Command.withDescription("Evaluate videos: score each with the chosen metrics and summarize"),
  Command.withExamples([
    { command: "vidpool eval clips/ --reference refs/", description: "Score every clip against its reference" },
    { command: "vidpool eval samples.jsonl --metrics psnr,ssim --out scores.csv", description: "A manifest, to CSV" }
  ])
)

const probeCommand = Command.make(
  "probe",
  {
    files: Argument.String("files").pipe(Argument.withDescription("Video files"), Argument.variadic({ min: 1 })),
    format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table")),
    decoder: runFlags.decoder
  },
  Effect.fnUntraced(function*({ decoder, files, format }) {
    const engine = yield* Engine
    const fs = yield* FileSystem.FileSystem
    const infos = []
    let failed = 0
    for (const file of files) {
      const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
      const info = exists
        ? yield* engine.probe(file).pipe(
          Effect.map(Option.some),
          Effect.catch((error) => reportLine(describeFailure(error)).pipe(Effect.as(Option.none())))
        )
        : yield* reportLine(`${file}: no such file or folder`).pipe(Effect.as(Option.none()))
      if (Option.isSome(info)) infos.push(info.value)
      else failed++
    }
    // Which decoder `eval` would use with this choice, and its FFmpeg.
    const used = yield* engine.decoderInfo(decoder)
    if (format === "json") {
      yield* Output.writeStdout(JSON.stringify(infos.map((info) => ({ ...info, decoder: used })), null, 2) + "\n")
    } else if (infos.length > 0) {
      yield* Output.writeStdout(Format.columns([
        ["file", "codec", "size", "fps", "frames", "duration", "pixels", "rotation"],
        ...infos.map((i) => [
          i.path,
          i.codec,
          `${i.width}x${i.height}`,
          Number.isFinite(i.fps) ? String(Math.round(i.fps * 100) / 100) : "?",
          String(i.frameCount),
          `${i.duration.toFixed(2)}s`,
          i.pixelFormat,
          String(i.rotation)
        ])
      ], [false, false, true, true, true, true, false, true]) + "\n")
      yield* Output.writeStdout(
        used.name === "libav"
          ? `decoder: libav, in process (FFmpeg ${used.version} through node-av)\n`
          : `decoder: ffmpeg ${used.version} (${used.path ?? "ffmpeg"}), one process per video\n`
      )
    }
    if (failed > 0) return yield* new CommandExit({ code: ExitCode.failed })
  })
).pipe(Command.withDescription("Show what ffmpeg reads in video files: size, frame rate, frames, codec"))

const metricsCommand = Command.make(
  "metrics",
  { format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table")) },
  Effect.fnUntraced(function*({ format }) {
    const engine = yield* Engine
    if (format === "json") {
      return yield* Output.writeStdout(JSON.stringify(engine.metrics, null, 2) + "\n")
    }
    yield* Output.writeStdout(metricTable(engine.metrics))
  })
).pipe(Command.withDescription("List the metrics known: what each needs and measures"))

const metricTable = (metrics: ReadonlyArray<MetricInfo>): string =>
  Format.columns([
    ["metric", "kind", "needs", "measures"],
    ...metrics.map((m) => [m.name, m.kind === "set" ? "corpus" : "sample", m.needs.join(", "), m.description])
  ]) + "\n\n" +
  "By default, eval computes every per-sample metric whose needs the samples meet, and the corpus metrics\n" +
  "when they have references. --metrics takes names or prefixes: psnr, common, quality.*\n"

const demoCommand = Command.make(
  "demo",
  {
    workers: runFlags.workers,
    loaders: runFlags.loaders,
    quiet
  },
  Effect.fnUntraced(function*({ loaders, quiet, workers }) {
    const engine = yield* Engine
    const fs = yield* FileSystem.FileSystem
    yield* Effect.scoped(Effect.gen(function*() {
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "vidpool-demo-" })
      if (!quiet) yield* Output.writeStderr(`making the demo corpus with ffmpeg in ${folder}\n`)
      const corpus = yield* engine.makeDemoCorpus(folder)
      // Two loaders by default: the corpus is small clips, decoding is the larger share of the work.
      const settings = yield* plan({
        ...emptyRunFlags,
        workers,
        loaders: Option.orElse(loaders, () => Option.some(2)),
        quiet
      }, corpus.samples)
      const report = yield* runEvaluation({ ...settings, decode: { numFrames: corpus.numFrames } })
      yield* Output.writeStdout("\n" + explainDemo(report) + "\n")
    }))
  })
).pipe(Command.withDescription(
  "Make a small corpus with ffmpeg (clean clips and degraded copies), evaluate it, and explain the scores"
))

const emptyRunFlags: RunFlags = {
  metrics: Option.none(),
  decoder: "auto",
  workers: Option.none(),
  loaders: Option.none(),
  prefetch: Option.none(),
  frames: Option.none(),
  size: Option.none(),
  fps: Option.none(),
  repeatFrames: false,
  resume: false,
  retryErrors: false,
  onError: "record",
  format: Option.none(),
  out: Option.none(),
  quiet: false
}

/**
 * The two lines that explain the demo's scores, the second from the scores themselves: the mean
 * PSNR and SSIM of each kind of damage, best first.
 *
 * @since 0.1.0
 * @category formatting
 */
export const explainDemo = (report: Report): string => {
  const find = (short: string) => report.metrics.find((m) => m === short || m.endsWith(`.${short}`))
  const psnr = find("psnr")
  const ssim = find("ssim")
  const first = "Each row scores a damaged copy against its clean original: the stronger the damage, " +
    "the lower PSNR (in dB) and SSIM (1 = identical)."
  if (psnr === undefined || ssim === undefined) return first
  const groups = new Map<string, { psnr: Array<number>; ssim: Array<number> }>()
  for (const sample of report.samples) {
    const kind = String(report.inputs[sample.index]?.fields.degradation ?? "other")
    const group = groups.get(kind) ?? { psnr: [], ssim: [] }
    groups.set(kind, group)
    const p = sample.metrics[psnr]?.score
    const s = sample.metrics[ssim]?.score
    if (typeof p === "number") group.psnr.push(p)
    if (typeof s === "number") group.ssim.push(s)
  }
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  const ranked = [...groups.entries()]
    .filter(([, g]) => g.psnr.length > 0 && g.ssim.length > 0)
    .map(([kind, g]) => ({ kind, psnr: mean(g.psnr), ssim: mean(g.ssim) }))
    .sort((a, b) => b.psnr - a.psnr)
  return `${first}\nMean PSNR / SSIM by damage here: ` +
    ranked.map((r) => `${r.kind} ${r.psnr.toFixed(1)} dB / ${r.ssim.toFixed(3)}`).join(", ") + "."
}

/**
 * The whole command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("vidpool").pipe(
  Command.withDescription("Evaluate videos with a prefetching decode pool"),
  Command.withSubcommands([evalCommand, probeCommand, metricsCommand, demoCommand])
)

// ---------------------------------------------------------------------------------------------
// errors and exit codes

/**
 * Ends the command with an exit code, after its message was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandExit extends Data.TaggedError("CommandExit")<{ readonly code: number }> {
  override get [Runtime.errorExitCode](): number {
    return this.code
  }
}

const reportLine = (message: string) => Output.writeStderr(`vidpool: ${oneLine(message)}\n`)

/** The line for a failure: its message, except where a shorter one says more. */
const describeFailure = (failure: Failure): string => {
  const reason = (failure as { readonly reason?: { readonly _tag?: unknown; readonly searched?: unknown } }).reason
  if (failure._tag === "DecodeError" && reason?._tag === "FfmpegNotFound" && Array.isArray(reason.searched)) {
    return `no ffmpeg binary found (looked at: ${reason.searched.join(", ")}); ` +
      `set FFMPEG_PATH to one, put ffmpeg on PATH, or install @vidpool/ffmpeg's optional dependencies`
  }
  return typeof failure.message === "string" ? failure.message : String(failure)
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim()

const exitCodeOf = (error: Failure): number => {
  switch (error._tag) {
    case "InputError":
    case "UnknownMetric":
    case "ConfigError":
    case "LibavUnavailable":
      return ExitCode.usage
    default:
      return ExitCode.failed
  }
}

/**
 * Shows help on stdout and invocation errors as one line each on stderr.
 *
 * @since 0.1.0
 * @category presenters
 */
export const presenter: CliOutput.Presenter = {
  present: (event) => {
    const formatter = CliOutput.defaultFormatter({ colors: false, globalFlags: "summary" })
    switch (event._tag) {
      case "Help":
        return Console.log(formatter.formatHelpDoc(event.helpDoc))
      case "Version":
        return Console.log(formatter.formatVersion(event.name, event.version))
      case "InvalidInvocation": {
        const path = event.commandPath.join(" ")
        return Effect.forEach(event.errors, (error) =>
          Output.writeStderr(`${path}: ${oneLine(error.message)} (see "${path} --help")\n`), { discard: true })
      }
    }
  }
}

/**
 * Runs the command on the process arguments. Every failure is written as one line on stderr and
 * becomes a `CommandExit` with its code; an interruption stays an interruption (exit code 130).
 *
 * @since 0.1.0
 * @category running
 */
export const run: Effect.Effect<
  void,
  CommandExit,
  Engine | Command.Environment
> = Effect.suspend(() => {
  // Every VIDPOOL_* variable is checked before the command line is parsed: one line each.
  const bad = Environment.problems(process.env)
  return bad.length === 0
    ? Command.run(command, { version })
    : Effect.andThen(
      Effect.forEach(bad, reportLine, { discard: true }),
      Effect.fail(new CommandExit({ code: ExitCode.usage }))
    )
}).pipe(
  Effect.provide(CliOutput.layerPresenter(presenter)),
  Effect.catchCause((cause): Effect.Effect<void, CommandExit> => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    const error = Cause.findErrorOption(cause)
    if (Option.isSome(error)) {
      const e = error.value as unknown
      if (e instanceof CommandExit) return Effect.fail(e)
      if (CliError.isCliError(e)) {
        // The presenter already showed it.
        return Effect.fail(new CommandExit({ code: ExitCode.usage }))
      }
      const failure = e as Failure
      return reportLine(describeFailure(failure)).pipe(
        Effect.andThen(Effect.fail(new CommandExit({ code: exitCodeOf(failure) })))
      )
    }
    const defect = Cause.squash(cause)
    if (defect instanceof Config.ConfigError) {
      return reportLine(`a setting in the environment is not valid: ${defect.message}`).pipe(
        Effect.andThen(Effect.fail(new CommandExit({ code: ExitCode.usage })))
      )
    }
    const detail = defect instanceof Error ? defect.message : String(defect)
    return Output.writeStderr(
      `vidpool: internal error: ${oneLine(detail)} (set VIDPOOL_DEBUG=1 for details)\n` +
        (process.env.VIDPOOL_DEBUG === "1" ? Cause.pretty(cause) + "\n" : "")
    ).pipe(Effect.andThen(Effect.fail(new CommandExit({ code: ExitCode.internal }))))
  })
)
