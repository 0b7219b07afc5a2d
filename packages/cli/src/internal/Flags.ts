/**
 * The command-line flags of `eval` and `demo`, and the checks of their values that the parser
 * cannot make (counts by the Evaluator's Schema, `--size`, `--frames`), each failing with an `InputError`.
 *
 * @since 0.2.0
 */
import { Config, Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { EvaluateOptionsSchema } from "@vidpool/eval"
import { decoderChoices } from "../Engine.ts"
import * as Format from "../Format.ts"
import { InputError } from "../InputError.ts"

/**
 * A count flag, checked with the Evaluator's Schema for the option it sets.
 *
 * @since 0.2.0
 * @category validation
 */
export const counted = (
  flag: string,
  option: keyof typeof EvaluateOptionsSchema.fields,
  value: Option.Option<number>
): Effect.Effect<number | undefined, InputError> => {
  if (Option.isNone(value)) return Effect.succeed(undefined)
  const [problem] = EvaluateOptionsSchema.problems({ [option]: value.value })
  return problem === undefined
    ? Effect.succeed(value.value)
    : Effect.fail(InputError.usage(`--${flag} must be ${problem.expected}, got ${value.value}`))
}

/**
 * `--frames`: any whole number >= 1 (a clip shorter than it is kept as it is).
 *
 * @since 0.2.0
 * @category validation
 */
export const frameCount = (value: Option.Option<number>): Effect.Effect<number | undefined, InputError> =>
  Option.isNone(value)
    ? Effect.succeed(undefined)
    : Number.isSafeInteger(value.value) && value.value >= 1
    ? Effect.succeed(value.value)
    : Effect.fail(InputError.usage(`--frames must be a whole number >= 1, got ${value.value}`))

/**
 * `--size`: `WIDTHxHEIGHT`, or one number for a square.
 *
 * @since 0.2.0
 * @category validation
 */
export const parseSize = (
  size: Option.Option<string>
): Effect.Effect<{ readonly width: number; readonly height: number } | undefined, InputError> => {
  if (Option.isNone(size)) return Effect.succeed(undefined)
  const match = /^(\d+)(?:x(\d+))?$/.exec(size.value.trim())
  const width = match === null ? NaN : Number(match[1])
  const height = match === null ? NaN : Number(match[2] ?? match[1])
  return width >= 1 && height >= 1
    ? Effect.succeed({ width, height })
    : Effect.fail(InputError.usage(`--size must be WIDTHxHEIGHT or SIZE (pixels), such as 320x180 or 256; got "${size.value}"`))
}

/**
 * `--quiet`, `-q`.
 *
 * @since 0.2.0
 * @category flags
 */
export const quiet = Flag.Boolean("quiet").pipe(
  Flag.withAlias("q"),
  Flag.withDescription("No progress on stderr (the end-of-run summary is still written there)"),
  Flag.withDefault(false)
)

/**
 * The flags of a run (`eval`; `demo` takes a few of them).
 *
 * @since 0.2.0
 * @category flags
 */
export const runFlags = {
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
  model: Flag.KeyValuePair("model").pipe(
    Flag.withDescription(
      "A model file for the model metrics, NAME=PATH (i3d for common.fvd, dino for vbench.subject_consistency, " +
        "lpips for common.lpips, raft for vbench.dynamic_degree); " +
        "repeat for several (default: VIDPOOL_MODEL_<NAME>)"
    ),
    Flag.optional
  ),
  modelThreads: Flag.Int("model-threads").pipe(
    Flag.withDescription("ONNX Runtime threads per model session (default: VIDPOOL_MODEL_THREADS, else cores / workers)"),
    Flag.optional
  ),
  modelBatch: Flag.Int("model-batch").pipe(
    Flag.withDescription("Frames an image model takes in one run (default: VIDPOOL_MODEL_BATCH, else 16)"),
    Flag.optional
  ),
  modelProviders: Flag.String("model-providers").pipe(
    Flag.withDescription(
      "Execution providers in order, comma-separated: cpu, cuda, ... (default: VIDPOOL_MODEL_PROVIDERS, else cpu); " +
        "one that does not load is an error unless a later one is listed"
    ),
    Flag.optional
  ),
  referenceCache: Flag.Literals("reference-cache", ["read-write", "read", "off"]).pipe(
    Flag.withDescription(
      "Reference features of common.fvd kept between runs (keyed by content; in VIDPOOL_CACHE_DIR, else ~/.cache/vidpool): " +
        "read-write, read, off (default: VIDPOOL_REFERENCE_CACHE, else read-write)"
    ),
    Flag.optional
  ),
  quiet
} as const

/**
 * The values of `runFlags`, as parsed.
 *
 * @since 0.2.0
 * @category models
 */
export type RunFlags = {
  readonly [K in keyof typeof runFlags]: (typeof runFlags)[K] extends Flag.Flag<infer A> ? A : never
}

/**
 * Every run flag at its default, for commands (`demo`) that set a few of them.
 *
 * @since 0.2.0
 * @category constants
 */
export const emptyRunFlags: RunFlags = {
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
  model: Option.none(),
  modelThreads: Option.none(),
  modelBatch: Option.none(),
  modelProviders: Option.none(),
  referenceCache: Option.none(),
  quiet: false
}
