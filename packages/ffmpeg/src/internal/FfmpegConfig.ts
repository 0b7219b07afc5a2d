/**
 * The settings this package reads from Effect's `Config` (environment variables by default):
 * `FFMPEG_PATH`, `VIDPOOL_SCRATCH_DIR`, `VIDPOOL_FFMPEG_THREADS`. Each is optional; one that is
 * missing or cannot be read counts as not set.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option } from "effect"
import { Options } from "@vidpool/pool"
import * as ScratchFile from "./ScratchFile.ts"

/**
 * The value of `config`, or `undefined` when it is missing or cannot be read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const optional = <A>(config: Config.Config<A>): Effect.Effect<A | undefined> =>
  Config.option(config).pipe(
    Effect.map(Option.getOrUndefined),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * The ffmpeg binary to use, from `FFMPEG_PATH`.
 *
 * @since 0.1.0
 * @category constants
 */
export const ffmpegPath: Effect.Effect<string | undefined> = optional(Config.String("FFMPEG_PATH"))

/**
 * Where ffmpeg writes raw frames and image lists: `VIDPOOL_SCRATCH_DIR`, else
 * `ScratchFile.defaultDirUnsafe()`. Shared by the decoder layer and `probe`.
 *
 * @since 0.1.0
 * @category constants
 */
export const scratchDir: Effect.Effect<string> = Effect.map(
  optional(Config.String("VIDPOOL_SCRATCH_DIR")),
  (dir) => dir ?? ScratchFile.defaultDirUnsafe()
)

/**
 * Threads of each ffmpeg decoder, from `VIDPOOL_FFMPEG_THREADS`, as written (a number as a
 * number): the decoder decodes it with its settings' Schema, so a bad value is named, not
 * ignored.
 *
 * @since 0.1.0
 * @category constants
 */
export const ffmpegThreads: Effect.Effect<unknown> = Effect.map(
  optional(Config.String("VIDPOOL_FFMPEG_THREADS")),
  Options.fromText
)
