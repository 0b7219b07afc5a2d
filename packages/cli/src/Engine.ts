/**
 * What the commands need from the rest of vidpool, in one service: the metric catalogue, the
 * evaluation, probing and the demo corpus, each failing with its own tagged errors.
 *
 * @since 0.1.0
 */
import {
  applicable,
  type EvaluateError,
  type Metric,
  type MetricRegistryShape,
  selectResult,
  type UnknownMetric
} from "@vidpool/eval"
import type { BatchFailed, ClusterUnavailable, DatabaseUnavailable, InvalidClusterOptions, WireError } from "@vidpool/cluster"
import type { Ffmpeg, probe, ProbeInfo as FfmpegProbeInfo } from "@vidpool/ffmpeg"
import type { LibavUnavailable } from "@vidpool/libav"
import type { DecodeError, Video, VideoTensor } from "@vidpool/pool"
import { Context, type Effect, type Layer, Result } from "effect"
import type { Scope } from "effect"
import type * as DemoCorpus from "./internal/DemoCorpus.ts"
import type { InputSample } from "./Inputs.ts"
import type { MetricScore, SampleOutcome, Stats, Timing } from "./Report.ts"

/**
 * A metric of the catalogue: the Evaluator's `MetricInfo`.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricInfo = Metric.MetricInfo

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
  /** `EvaluateOptions.referenceSamples`: set by a cluster runner, for the whole run's corpus. */
  readonly referenceSamples?: boolean
  /** Model files by name (`--model`), over `VIDPOOL_MODEL_<NAME>`. */
  readonly models?: Readonly<Record<string, string>>
  /** The SHA-256 each model file must have (the run's settings line records them). */
  readonly modelDigests?: Readonly<Record<string, string>>
  readonly modelThreads?: number
  readonly modelBatch?: number
  readonly modelProviders?: ReadonlyArray<"cpu" | "cuda" | "dml" | "coreml" | "webgpu" | "tensorrt">
  readonly referenceCache?: "off" | "read" | "read-write"
  readonly decoder: DecoderChoice
  readonly onResult: (result: SampleOutcome) => Effect.Effect<void>
}

/**
 * The options an evaluation hands on unchanged between the command, the coordinator and a
 * runner: those set, and only those (an absent key is not an `undefined` one).
 *
 * @since 0.3.0
 * @category options
 */
export const passedOn = <T extends Partial<Record<(typeof passedOnKeys)[number], unknown>>>(
  options: T
): { [K in (typeof passedOnKeys)[number] & keyof T]?: Exclude<T[K], undefined> } => {
  const out: Record<string, unknown> = {}
  for (const key of passedOnKeys) if (options[key] !== undefined) out[key] = options[key]
  return out as never
}

const passedOnKeys = [
  "workers",
  "loaderThreads",
  "prefetchFactor",
  "models",
  "modelDigests",
  "modelThreads",
  "modelBatch",
  "modelProviders",
  "referenceCache"
] as const

/**
 * @since 0.1.0
 * @category models
 */
export interface EvalOutcome {
  readonly samples: ReadonlyArray<SampleOutcome>
  readonly corpus: ReadonlyArray<MetricScore>
  /** The set metrics' merged partial states, before `finalize` (what a cluster runner sends back). */
  readonly partials: Readonly<Record<string, unknown>>
  readonly summary: Readonly<Record<string, Stats>>
  readonly timing: Timing
}

/**
 * Why ffmpeg cannot be used: the lookup's error (no binary where it looked).
 *
 * @since 0.2.0
 * @category errors
 */
export type FfmpegLookupError = Layer.Error<typeof Ffmpeg.layer>

/**
 * Why the chosen decoder cannot start: node-av missing (for `libav`), or no ffmpeg.
 *
 * @since 0.2.0
 * @category errors
 */
export type DecoderUnavailable = LibavUnavailable | FfmpegLookupError

/**
 * How an evaluation fails: the Evaluator's errors (a DecodeError or MetricError with
 * `--on-error fail`, an UnknownMetric, InvalidPoolOptions), or its decoder could not start.
 *
 * @since 0.2.0
 * @category errors
 */
export type EvaluationError = EvaluateError | DecoderUnavailable | ClusterRunError

/**
 * How a cluster run (`eval --cluster`) fails besides the Evaluator's errors: its database cannot
 * be used, a batch failed on its runner, the cluster could not take a batch, an option cannot work.
 *
 * @since 0.2.0
 * @category errors
 */
export type ClusterRunError = DatabaseUnavailable | BatchFailed | ClusterUnavailable | InvalidClusterOptions | WireError

/**
 * How probing a file fails: ffmpeg's DecodeError for the file, or no ffmpeg.
 *
 * @since 0.2.0
 * @category errors
 */
export type ProbeError = Effect.Error<ReturnType<typeof probe>> | FfmpegLookupError

/**
 * How making the demo corpus fails: ffmpeg could not make it, or there is no ffmpeg.
 *
 * @since 0.2.0
 * @category errors
 */
export type DemoCorpusError = Effect.Error<ReturnType<typeof DemoCorpus.make>> | FfmpegLookupError

/**
 * Every error the engine's methods end with, as the tagged values they are; the command maps
 * them to a line and an exit code only at its edge (`ExitCodes`).
 *
 * @since 0.2.0
 * @category errors
 */
export type EngineError = EvaluationError | ProbeError | DemoCorpusError | UnknownMetric

/**
 * The engine's errors: `EngineError` (before 0.2.0, a `{ _tag, message }` record).
 *
 * @since 0.1.0
 * @category models
 */
export type Failure = EngineError

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
  /** The registry those metrics come from (a cluster coordinator merges and finalizes set metrics with it). */
  readonly registry: MetricRegistryShape
  /**
   * The names of the metrics that names, prefixes or short names select, by the registry's own
   * rule (`MetricRegistry.select`, as `evaluate` resolves them); fails naming the first that selects none.
   */
  readonly resolveMetrics: (selectors: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, UnknownMetric>
  /** Succeeds when a run with this decoder can start (the decoder is there); checked before any output. */
  readonly ready: (decoder: DecoderChoice) => Effect.Effect<void, DecoderUnavailable>
  /** Which decoder `choice` resolves to here, with its FFmpeg version. */
  readonly decoderInfo: (choice: DecoderChoice) => Effect.Effect<DecoderInfo, DecoderUnavailable>
  /**
   * Evaluates the samples (records of `Video` values and other fields) with the Evaluator of the
   * chosen decoder, built once per engine: later evaluations reuse its metric worker threads.
   */
  readonly evaluate: (
    samples: ReadonlyArray<Record<string, unknown>>,
    options: EvalOptions
  ) => Effect.Effect<EvalOutcome, EvaluationError>
  readonly probe: (path: string) => Effect.Effect<ProbeInfo, ProbeError>
  /**
   * Decodes one video with the chosen decoder, outside any evaluation: the few small frames of
   * the HTML report's pictures (`video`'s options choose them). Since 0.3.0.
   */
  readonly decode: (video: Video, decoder: DecoderChoice) => Effect.Effect<VideoTensor, DecodeError | DecoderUnavailable>
  /** Makes the demo corpus in `folder` with ffmpeg's built-in sources. */
  readonly makeDemoCorpus: (folder: string) => Effect.Effect<DemoInputs, DemoCorpusError, Scope.Scope>
}>()("@vidpool/cli/Engine") {}

/**
 * Resolves what the user typed after `--metrics` against the catalogue, by the registry's rule
 * (`selectResult` of `@vidpool/eval`: exact names, prefixes with or without `*`, short names such
 * as `psnr`). Catalogue order, no duplicates; `unknown` is the first name that selected no metric
 * (or several, for a short name), and then `resolved` is empty.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveNames = (
  names: ReadonlyArray<string>,
  known: ReadonlyArray<string>
): { readonly resolved: ReadonlyArray<string>; readonly unknown: string | undefined } => {
  const result = selectResult(known.map((name) => ({ name })), names)
  return Result.isSuccess(result)
    ? { resolved: result.success.map((m) => m.name), unknown: undefined }
    : { resolved: [], unknown: result.failure.name }
}

/**
 * The metrics a run uses when `--metrics` is not given: `@vidpool/eval`'s `applicable` rule (every
 * per-sample metric whose needed fields some sample has, and the set metrics when the samples
 * have references), with the fields of the command's inputs; a metric that runs a model is in it
 * only when `models` gives that model.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultMetrics = (
  catalogue: ReadonlyArray<MetricInfo>,
  inputs: ReadonlyArray<InputSample>,
  models: Readonly<Record<string, string>> = {}
): ReadonlyArray<string> =>
  applicable(
    catalogue,
    inputs,
    (sample, field) =>
      field === "video" || (field === "reference" ? sample.reference !== undefined : sample.fields[field] != null),
    () => "generated",
    models
  ).map((m) => m.name)
