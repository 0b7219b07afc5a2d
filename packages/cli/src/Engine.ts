/**
 * What the command needs from the rest of vidpool, in one service: the metric catalogue, the
 * evaluation, probing, and the demo corpus. `Engine.layer` builds it from the Evaluator and the
 * ffmpeg decoder; the commands depend only on this interface.
 *
 * @since 0.1.0
 */
import { applicable, type MetricInfo as EvalMetricInfo, select } from "@vidpool/eval"
import type { ProbeInfo as FfmpegProbeInfo } from "@vidpool/ffmpeg"
import { Context, Effect } from "effect"
import type { Scope } from "effect"
import type { InputSample } from "./Inputs.ts"
import type { MetricScore, SampleOutcome, Stats, Timing } from "./Report.ts"

/**
 * A metric of the catalogue: the Evaluator's `MetricInfo`.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricInfo = EvalMetricInfo

/**
 * Which decoder a run uses: `auto` (in process where node-av loads, else the ffmpeg command),
 * `libav` or `ffmpeg`.
 *
 * @since 0.2.0
 * @category models
 */
export const decoderChoices = ["auto", "libav", "ffmpeg"] as const

/**
 * @since 0.2.0
 * @category models
 */
export type DecoderChoice = (typeof decoderChoices)[number]

/**
 * The decoder a run would use, and the FFmpeg behind it.
 *
 * @since 0.2.0
 * @category models
 */
export interface DecoderInfo {
  readonly name: "libav" | "ffmpeg"
  /** FFmpeg's version: of the libraries in process, or of the binary. */
  readonly version: string
  /** For the command-line decoder, the binary. */
  readonly path?: string
}

/**
 * The evaluation's options as the command passes them on.
 *
 * @since 0.1.0
 * @category models
 */
export interface EvalOptions {
  readonly metrics?: ReadonlyArray<string>
  readonly workers?: number
  readonly prefetchFactor?: number
  readonly loaderThreads?: number
  readonly onError: "fail" | "record"
  readonly decoder: DecoderChoice
  readonly onResult: (result: SampleOutcome) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EvalOutcome {
  readonly samples: ReadonlyArray<SampleOutcome>
  readonly corpus: ReadonlyArray<MetricScore>
  readonly summary: Readonly<Record<string, Stats>>
  readonly timing: Timing
}

/**
 * A failure of the evaluation or of probing, as a tagged value with a message for people.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure {
  readonly _tag: string
  readonly message: string
}

/**
 * What `vidpool probe` shows about a file: `@vidpool/ffmpeg`'s `ProbeInfo`.
 *
 * @since 0.1.0
 * @category models
 */
export type ProbeInfo = FfmpegProbeInfo

/**
 * The demo corpus: degraded copies of clean clips, each paired with its clean reference, with
 * `degradation` saying what was done to it; and the decode options the demo uses.
 *
 * @since 0.1.0
 * @category models
 */
export interface DemoInputs {
  readonly samples: ReadonlyArray<InputSample>
  readonly numFrames: number
}

/**
 * @since 0.1.0
 * @category services
 */
export class Engine extends Context.Service<Engine, {
  /** Every metric known, in catalogue order. */
  readonly metrics: ReadonlyArray<MetricInfo>
  /** Fails naming a metric that is not in the catalogue and listing the known ones. */
  readonly unknownMetric: (name: string) => Failure
  /** Succeeds when a run with this decoder can start (the decoder is there); checked before any output. */
  readonly ready: (decoder: DecoderChoice) => Effect.Effect<void, Failure>
  /** Which decoder `choice` resolves to here, with its FFmpeg version. */
  readonly decoderInfo: (choice: DecoderChoice) => Effect.Effect<DecoderInfo, Failure>
  /** Evaluates the samples (records of `Video` values and other fields). */
  readonly evaluate: (
    samples: ReadonlyArray<Record<string, unknown>>,
    options: EvalOptions
  ) => Effect.Effect<EvalOutcome, Failure>
  readonly probe: (path: string) => Effect.Effect<ProbeInfo, Failure>
  /** Makes the demo corpus in `folder` with ffmpeg's built-in sources. */
  readonly makeDemoCorpus: (folder: string) => Effect.Effect<DemoInputs, Failure, Scope.Scope>
}>()("@vidpool/cli/Engine") {}

/** The metrics of `metrics` that `selector` picks by `MetricRegistry.select`'s rule, in their order. */
const selected = <M extends { readonly name: string }>(metrics: ReadonlyArray<M>, selector: string): ReadonlyArray<M> =>
  Effect.runSync(Effect.orElseSucceed(select(metrics, [selector]), () => []))

/**
 * Resolves what the user typed after `--metrics` against the catalogue. Each name matches, in
 * this order of preference: what `MetricRegistry.select` matches (a metric's exact name; with a
 * trailing `*`, every name it prefixes); every name it prefixes (`common` or `common.` gives all
 * `common.*`); every metric whose short name (after the last dot) it prefixes (`psnr` gives
 * `common.psnr`). Catalogue order, no duplicates; `unknown` is the first name that matched nothing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveNames = (
  names: ReadonlyArray<string>,
  known: ReadonlyArray<string>
): { readonly resolved: ReadonlyArray<string>; readonly unknown: string | undefined } => {
  const chosen = new Set<string>()
  const full = known.map((name) => ({ name }))
  const short = known.map((name) => ({ name: name.slice(name.lastIndexOf(".") + 1), full: name }))
  for (const name of names) {
    let matches = selected(full, name).map((m) => m.name)
    if (matches.length === 0 && !name.endsWith("*")) matches = selected(full, `${name}*`).map((m) => m.name)
    if (matches.length === 0 && !name.endsWith("*")) matches = selected(short, `${name}*`).map((m) => m.full)
    if (matches.length === 0) return { resolved: known.filter((k) => chosen.has(k)), unknown: name }
    for (const match of matches) chosen.add(match)
  }
  return { resolved: known.filter((k) => chosen.has(k)), unknown: undefined }
}

/**
 * The metrics a run uses when `--metrics` is not given: `@vidpool/eval`'s `applicable` rule (every
 * per-sample metric whose needed fields some sample has, and the set metrics when the samples
 * have references), with the fields of the command's inputs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultMetrics = (
  catalogue: ReadonlyArray<MetricInfo>,
  inputs: ReadonlyArray<InputSample>
): ReadonlyArray<string> =>
  applicable(catalogue, inputs, (sample, field) =>
    field === "video" || (field === "reference" ? sample.reference !== undefined : sample.fields[field] != null)
  ).map((m) => m.name)
