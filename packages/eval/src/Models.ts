/**
 * Models the metrics run: what a metric asks of a model file (its input and output names, ranks
 * and sizes), the models a user gives by name, the runtime settings, and `ModelError`.
 *
 * @since 0.3.0
 */
import { Config, Option, Schema } from "effect"
import { Options } from "@vidpool/pool"

/**
 * One tensor of a model's signature. A number in `dims` is a size the metric needs; a string is
 * a size it accepts whatever it is (a batch, a frame count, an image side), named for messages.
 *
 * @since 0.3.0
 * @category models
 */
export interface TensorSpec {
  readonly name: string
  readonly dims: ReadonlyArray<number | string>
  /**
   * The values the tensor holds (`[-1, 1]`), for messages and docs: a file's signature does not
   * say it, so it is the contract the export scripts keep, not a check.
   */
  readonly range?: readonly [number, number]
  /** The element type, `float32` when left out (`int64` for token ids). */
  readonly type?: "float32" | "int64"
}

/**
 * What a metric needs of the model it names: one input, and one output among `outputs` (the
 * first the model has is used), and how a user gets such a model.
 *
 * @since 0.3.0
 * @category models
 */
export interface ModelSpec {
  /** The name users give the file by: `--model i3d=PATH`, `VIDPOOL_MODEL_I3D`, `models: { i3d }`. */
  readonly name: string
  readonly description: string
  readonly input: TensorSpec
  readonly outputs: ReadonlyArray<TensorSpec>
  /** Where the README says how to get the model as ONNX. */
  readonly howToGet: string
  /**
   * For a model that is not an ONNX graph but a file the metric reads itself (a tokenizer): its
   * loader, which throws an Error saying what is wrong with a file it cannot use. It is the check
   * before decoding (in place of the signature's), and each thread loads the file once.
   * `input` and `outputs` then describe what the file turns into what, for messages.
   */
  readonly load?: (path: string) => Promise<unknown>
}

/**
 * A model file given by name: the path as given, and a digest of its content (what sessions and
 * cached features are keyed by, so a changed file is a new model).
 *
 * @since 0.3.0
 * @category models
 */
export interface GivenModel {
  readonly name: string
  readonly path: string
  readonly digest: string
}

/**
 * Where inference runs and how: `threads` is ONNX Runtime's intra-op threads of each session
 * (each metric worker thread has its own session of a model), `batch` the frames (or clips) of
 * one run, `providers` the execution providers asked for, in order.
 *
 * @since 0.3.0
 * @category models
 */
export interface ModelSettings {
  readonly threads: number
  readonly batch: number
  readonly providers: ReadonlyArray<string>
  /** A session opened only to read the model's signature: no graph optimisation, no memory arena. */
  readonly checkOnly?: boolean
}

/**
 * The execution providers vidpool knows how to ask onnxruntime-node for.
 *
 * @since 0.3.0
 * @category constants
 */
export const providerNames = ["cpu", "cuda", "dml", "coreml", "webgpu", "tensorrt"] as const

/**
 * The default frames (or clips) per model run.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultBatch = 16

/**
 * A model name as an environment variable: `VIDPOOL_MODEL_` and the name in capitals, other
 * characters than letters and digits as `_` (`i3d` gives `VIDPOOL_MODEL_I3D`).
 *
 * @since 0.3.0
 * @category naming
 */
export const variableOf = (name: string): string => `VIDPOOL_MODEL_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`

/**
 * The models the environment gives: every `VIDPOOL_MODEL_<NAME>` that is set and not empty, for
 * the names in `known` (a variable for an unknown name is not a model: `VIDPOOL_MODEL_THREADS` is
 * a setting).
 *
 * @since 0.3.0
 * @category naming
 */
export const fromEnvironment = (
  env: Readonly<Record<string, string | undefined>>,
  known: ReadonlyArray<string>
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of known) {
    const value = env[variableOf(name)]
    if (value !== undefined && value.trim() !== "") out[name] = value
  }
  return out
}

/**
 * The models the environment gives, as a `Config`: `VIDPOOL_MODEL_<NAME>` for each of `names`
 * that is set and not empty.
 *
 * @since 0.3.0
 * @category naming
 */
export const modelsConfig = (names: ReadonlyArray<string>): Config.Config<Record<string, string>> =>
  Config.all(names.map((name) => Config.option(Config.String(variableOf(name))))).pipe(
    Config.map((values) => {
      const out: Record<string, string> = {}
      names.forEach((name, i) => {
        const value = Option.getOrUndefined(values[i])
        if (value !== undefined && value.trim() !== "") out[name] = value
      })
      return out
    })
  )

/**
 * Why a model cannot be used:
 * - `NotGiven`: a chosen metric needs a model no option, flag or variable gave;
 * - `FileMissing`: the file is not there or cannot be read;
 * - `NotOnnx`: ONNX Runtime cannot load the file as a model;
 * - `Signature`: its inputs or outputs are not what the metric needs;
 * - `RuntimeMissing`: onnxruntime-node is not installed or does not load;
 * - `ProviderUnavailable`: an execution provider asked for does not load;
 * - `UnknownModel`: a model given under a name no metric uses;
 * - `Changed`: the file's content is not the one the run expects (`modelDigests`: a cluster
 *   runner reading another file under the coordinator's path).
 *
 * @since 0.3.0
 * @category errors
 */
export const ModelErrorReason = Schema.Literals([
  "NotGiven",
  "FileMissing",
  "NotOnnx",
  "Signature",
  "RuntimeMissing",
  "ProviderUnavailable",
  "UnknownModel",
  "Changed"
])

/**
 * @since 0.3.0
 * @category errors
 */
export type ModelErrorReason = typeof ModelErrorReason.Type

/**
 * A model cannot be used; raised before any video is decoded. `detail` says what was expected
 * and what was found, or how to give the model.
 *
 * @since 0.3.0
 * @category errors
 */
export class ModelError extends Schema.TaggedError<ModelError>()("ModelError", {
  reason: ModelErrorReason,
  model: Schema.String,
  /** The file, when one was given. */
  file: Schema.optionalKey(Schema.String),
  /** The metrics that need the model. */
  metrics: Schema.Array(Schema.String),
  detail: Schema.String,
  /** What the runtime threw, kept as data. */
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    const file = this.file === undefined ? "" : ` (${this.file})`
    const needed = this.metrics.length === 0 ? "" : ` for ${this.metrics.join(", ")}`
    return `Model ${this.model}${file}${needed}: ${this.detail}`
  }
}

/**
 * `modelProviders`: a list of execution providers, tried in order (the environment's
 * comma-separated text is split before it is decoded).
 *
 * @since 0.3.0
 * @category options
 */
export const Providers: Options.OptionSchema<ReadonlyArray<(typeof providerNames)[number]>> = Options.option(
  Schema.Array(Schema.Literals(providerNames)).check(Schema.isMinLength(1)) as unknown as Schema.Codec<
    ReadonlyArray<(typeof providerNames)[number]>,
    unknown
  >,
  `a list of one or more execution providers among ${providerNames.join(", ")}`
)

/**
 * Text of a list (`"cuda,cpu"`) as the list; other values as they are.
 *
 * @since 0.3.0
 * @category options
 */
export const listFromText = (value: unknown): unknown =>
  typeof value === "string" ? value.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : value
