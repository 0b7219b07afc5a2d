/**
 * The `VIDPOOL_*` variables the command reads, checked in one place before it parses anything, so
 * that a bad value is one clear line (like a bad flag), not a parser's or a library's message.
 * Each is checked with the Schema of the package option it sets (`EvaluateOptionsSchema`,
 * `LibavSettingsSchema`, `DecoderSettingsSchema`); the command's own are checked here. An empty
 * value counts as unset.
 *
 * @since 0.2.0
 */
import { Exit, Schema } from "effect"
import { EvaluateOptionsSchema, Models } from "@vidpool/eval"
import { DecoderSettingsSchema } from "@vidpool/ffmpeg"
import { LibavSettingsSchema } from "@vidpool/libav"
import { Options } from "@vidpool/pool"
import { decoderChoices } from "../Engine.ts"

/**
 * The largest count a variable or flag may give for threads, workers or prefetch.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxCount = Options.maxCount


const fields = EvaluateOptionsSchema.fields

/**
 * Each variable, what it sets, and its Schema.
 *
 * @since 0.2.0
 * @category constants
 */
export const variables: ReadonlyArray<{
  readonly name: string
  readonly sets: string
  readonly option: Options.OptionSchema<unknown>
  /** How the text becomes the value decoded (default: a number as a number, else the text). */
  readonly read?: (text: string) => unknown
}> = [
  { name: "VIDPOOL_ON_ERROR", sets: "--on-error", option: fields.onError },
  { name: "VIDPOOL_DECODER", sets: "--decoder", option: Options.oneOf(decoderChoices) },
  { name: "VIDPOOL_WORKERS", sets: "--workers", option: fields.workers },
  { name: "VIDPOOL_LOADER_THREADS", sets: "--loaders", option: fields.loaderThreads },
  { name: "VIDPOOL_PREFETCH_FACTOR", sets: "--prefetch", option: fields.prefetchFactor },
  { name: "VIDPOOL_MODEL_THREADS", sets: "--model-threads", option: fields.modelThreads },
  { name: "VIDPOOL_MODEL_BATCH", sets: "--model-batch", option: fields.modelBatch },
  { name: "VIDPOOL_MODEL_PROVIDERS", sets: "--model-providers", option: fields.modelProviders, read: Models.listFromText },
  { name: "VIDPOOL_REFERENCE_CACHE", sets: "--reference-cache", option: fields.referenceCache },
  { name: "VIDPOOL_CACHE_DIR", sets: "the cache's folder", option: fields.cacheDir, read: (text) => text },
  { name: "VIDPOOL_DECODE_THREADS", sets: "the in-process decoder's threads", option: LibavSettingsSchema.fields.decodeThreads },
  { name: "VIDPOOL_FFMPEG_THREADS", sets: "FFmpeg's threads per decode", option: LibavSettingsSchema.fields.ffmpegThreads },
  { name: "VIDPOOL_PROGRESS", sets: "the progress display", option: Options.oneOf(["tty", "plain", "off"]) },
  { name: "VIDPOOL_DEBUG", sets: "details of internal errors", option: Options.oneOf(["0", "1"]) },
  { name: "VIDPOOL_KERNELS", sets: "the metric kernels (SSIM, PSNR, temporal, sharpness)", option: Options.oneOf(["wasm", "js"]) },
  { name: "VIDPOOL_SCRATCH_DIR", sets: "the command-line decoder's scratch folder", option: DecoderSettingsSchema.fields.scratchDir }
]

/**
 * One sentence per variable set to a value it does not accept, in the order of `variables`.
 *
 * @since 0.2.0
 * @category validation
 */
export const problems = (env: Readonly<Record<string, string | undefined>>): Array<string> =>
  variables.flatMap(({ name, option, read, sets }) => {
    const text = env[name]
    if (text === undefined || text === "") return []
    // The command's own choices are text ("0", "1"); package options decode numbers.
    const value = read !== undefined ? read(text) : option.expected.startsWith("\"") ? text : Options.fromText(text)
    if (Exit.isSuccess(Schema.decodeUnknownExit(option.schema)(value))) return []
    return [`the environment variable ${name} (${sets}) must be ${option.expected}, got ${JSON.stringify(text)}`]
  })
