/**
 * The ffmpeg binary vidpool decodes with: where it was found and which version it is.
 * `Ffmpeg.layer` looks in the usual places; `Ffmpeg.layerPath` pins one binary.
 *
 * @since 0.1.0
 */
import { execFile } from "node:child_process"
import { accessSync, constants, statSync } from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { Context, Effect, Layer, Option } from "effect"
import { DecodeError, FfmpegNotFound } from "@vidpool/pool"
import * as FfmpegConfig from "./FfmpegConfig.ts"

/**
 * Where the binary came from, in the order `Ffmpeg.layer` looks.
 *
 * @since 0.1.0
 * @category models
 */
export type FfmpegSource = "FFMPEG_PATH" | "ffmpeg-static" | "@ffmpeg-installer" | "PATH"

/**
 * @since 0.1.0
 * @category services
 */
export class Ffmpeg extends Context.Service<Ffmpeg, {
  /** Absolute path (or command name) of the binary. */
  readonly path: string
  /** What `ffmpeg -version` says, e.g. `"N-47683-g0e8eb07980-static"` or `"6.1.1"`. */
  readonly version: string
  readonly source: FfmpegSource
}>()("@vidpool/ffmpeg/Ffmpeg") {
  /**
   * Finds ffmpeg: the `FFMPEG_PATH` config (an environment variable by default), then the
   * binary of the `ffmpeg-static` package if it was downloaded, then the one shipped by
   * `@ffmpeg-installer/ffmpeg`, then `ffmpeg` on `PATH`. Fails with a `DecodeError` whose reason
   * is `FfmpegNotFound` (path `"ffmpeg"`) listing where it looked. Logs the choice at debug level.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Ffmpeg } from "@vidpool/ffmpeg"
   *
   * const program = Effect.gen(function*() {
   *   const ffmpeg = yield* Ffmpeg
   *   console.log(ffmpeg.path, ffmpeg.version, ffmpeg.source)
   * }).pipe(Effect.provide(Ffmpeg.layer))
   * ```
   */
  static readonly layer: Layer.Layer<Ffmpeg, DecodeError> = Layer.effect(
    Ffmpeg,
    Effect.gen(function*() {
      const found = candidates({
        configured: yield* FfmpegConfig.ffmpegPath,
        ffmpegStatic: staticBinary(),
        installer: installerBinary(),
        onPath: onPath("ffmpeg")
      })
      for (const [source, path] of found) {
        const version = yield* readVersion(path)
        if (Option.isSome(version)) {
          yield* Effect.logDebug(`vidpool: using ffmpeg ${version.value} from ${source}: ${path}`)
          return Ffmpeg.of({ path, version: version.value, source })
        }
      }
      return yield* notFound(found.map(([source, path]) => `${source} (${path})`))
    })
  )

  /**
   * Pins one binary, checked by running `ffmpeg -version`; reported with source `"FFMPEG_PATH"`.
   *
   * @example
   * ```ts
   * import { Ffmpeg } from "@vidpool/ffmpeg"
   *
   * const Pinned = Ffmpeg.layerPath("/usr/bin/ffmpeg")
   * ```
   */
  static readonly layerPath = (path: string): Layer.Layer<Ffmpeg, DecodeError> =>
    Layer.effect(
      Ffmpeg,
      Effect.gen(function*() {
        const version = yield* readVersion(path)
        if (Option.isNone(version)) return yield* notFound([`the given path (${path})`])
        yield* Effect.logDebug(`vidpool: using ffmpeg ${version.value}: ${path}`)
        return Ffmpeg.of({ path, version: version.value, source: "FFMPEG_PATH" })
      })
    )
}

/**
 * The binaries to try, in order, given what each place holds. A non-empty `FFMPEG_PATH` is the
 * only candidate: an explicit choice that does not run is an error, not a reason to look elsewhere.
 *
 * @since 0.1.0
 * @category resolution
 */
export const candidates = (found: {
  readonly configured: string | undefined
  readonly ffmpegStatic: string | undefined
  readonly installer: string | undefined
  readonly onPath: string | undefined
}): Array<readonly [FfmpegSource, string]> => {
  const configured = found.configured?.trim() ?? ""
  if (configured.length > 0) return [["FFMPEG_PATH", configured]]
  const out: Array<readonly [FfmpegSource, string]> = []
  if (found.ffmpegStatic !== undefined) out.push(["ffmpeg-static", found.ffmpegStatic])
  if (found.installer !== undefined) out.push(["@ffmpeg-installer", found.installer])
  out.push(["PATH", found.onPath ?? "ffmpeg"])
  return out
}

const notFound = (searched: ReadonlyArray<string>) =>
  Effect.fail(new DecodeError({ path: "ffmpeg", reason: new FfmpegNotFound({ searched }) }))

// Optional dependencies are resolved from this package's own folder, also when a bundle (the CLI's)
// inlined this module somewhere else.
const require = createRequire(createRequire(import.meta.url).resolve("@vidpool/ffmpeg/package.json"))

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The binary `ffmpeg-static` downloads at install time, if the download happened. */
const staticBinary = (): string | undefined => {
  try {
    const path: unknown = require("ffmpeg-static")
    return typeof path === "string" && isFile(path) ? path : undefined
  } catch {
    return undefined
  }
}

/** The binary shipped inside `@ffmpeg-installer/<platform>`. */
const installerBinary = (): string | undefined => {
  try {
    const found = require("@ffmpeg-installer/ffmpeg") as { readonly path?: unknown }
    return typeof found.path === "string" && isFile(found.path) ? found.path : undefined
  } catch {
    return undefined
  }
}

/** The first executable `name` in a `PATH` directory. */
export const onPath = (name: string, path: string = process.env.PATH ?? ""): string | undefined => {
  for (const dir of path.split(NodePath.delimiter)) {
    if (dir.length === 0) continue
    const candidate = NodePath.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (isFile(candidate)) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** Runs `path -version`; `None` if it does not run or does not look like ffmpeg. */
const readVersion = (path: string): Effect.Effect<Option.Option<string>> =>
  Effect.callback<Option.Option<string>>((resume) => {
    const child = execFile(path, ["-hide_banner", "-version"], { timeout: 10_000 }, (error, stdout) => {
      const match = /^ffmpeg version (\S+)/m.exec(String(stdout))
      resume(Effect.succeed(error === null && match !== null ? Option.some(match[1]) : Option.none()))
    })
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })
