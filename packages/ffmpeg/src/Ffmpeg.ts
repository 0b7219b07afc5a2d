/**
 * The ffmpeg binary vidpool decodes with: where it was found and which version it is.
 * `Ffmpeg.layer` looks in the usual places; `Ffmpeg.layerPath` pins one binary.
 *
 * @since 0.1.0
 */
import { accessSync, constants, statSync } from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import * as FfmpegConfig from "./internal/FfmpegConfig.ts"
import * as FfmpegProcess from "./FfmpegProcess.ts"

/**
 * No ffmpeg binary could be run: the error of the layers that look for one (`Ffmpeg.layer`,
 * `Ffmpeg.layerPath`, `FfmpegDecoder.layer`). `searched` lists each place tried as
 * `"<source> (<path>)"`; `cause` is why the last one did not run, when it could not be started.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Ffmpeg } from "@vidpool/ffmpeg"
 *
 * const found = Layer.build(Ffmpeg.layer).pipe(
 *   Effect.scoped,
 *   Effect.catchTag("FfmpegNotFound", (error) => Effect.logWarning(error.searched.join(", ")))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class FfmpegNotFound extends Schema.TaggedError<FfmpegNotFound>()("FfmpegNotFound", {
  searched: Schema.Array(Schema.String),
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    return `no ffmpeg binary found (looked at: ${this.searched.join(", ")}); ` +
      `set FFMPEG_PATH to one, put ffmpeg on PATH, or install @vidpool/ffmpeg's optional dependencies`
  }
}

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
   * `@ffmpeg-installer/ffmpeg`, then `ffmpeg` on `PATH`. Fails with `FfmpegNotFound` listing
   * where it looked. Logs the choice at debug level.
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
  static readonly layer: Layer.Layer<Ffmpeg, FfmpegNotFound> = Layer.effect(
    Ffmpeg,
    Effect.gen(function*() {
      const found = candidates({
        configured: yield* FfmpegConfig.ffmpegPath,
        ffmpegStatic: staticBinaryUnsafe(),
        installer: installerBinaryUnsafe(),
        onPath: onPathUnsafe("ffmpeg")
      })
      let cause: FfmpegProcess.SpawnFailed | undefined
      for (const [source, path] of found) {
        const version = yield* readVersion(path)
        if (version._tag === "Found") {
          yield* Effect.logDebug(`vidpool: using ffmpeg ${version.version} from ${source}: ${path}`)
          return Ffmpeg.of({ path, version: version.version, source })
        }
        cause = version.cause
      }
      return yield* notFound(found.map(([source, path]) => `${source} (${path})`), cause)
    })
  ).pipe(Layer.provide(FfmpegProcess.layerNode))

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
  static readonly layerPath = (path: string): Layer.Layer<Ffmpeg, FfmpegNotFound> =>
    Layer.effect(
      Ffmpeg,
      Effect.gen(function*() {
        const version = yield* readVersion(path)
        if (version._tag === "Missing") return yield* notFound([`the given path (${path})`], version.cause)
        yield* Effect.logDebug(`vidpool: using ffmpeg ${version.version}: ${path}`)
        return Ffmpeg.of({ path, version: version.version, source: "FFMPEG_PATH" })
      })
    ).pipe(Layer.provide(FfmpegProcess.layerNode))
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

const notFound = (searched: ReadonlyArray<string>, cause: FfmpegProcess.SpawnFailed | undefined) =>
  Effect.fail(new FfmpegNotFound({ searched, ...(cause !== undefined ? { cause } : {}) }))

// Optional dependencies are resolved from this package's own folder, also when a bundle (the CLI's)
// inlined this module somewhere else.
const require = createRequire(createRequire(import.meta.url).resolve("@vidpool/ffmpeg/package.json"))

const isFileUnsafe = (path: string): boolean => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The binary `ffmpeg-static` downloads at install time, if the download happened. */
const staticBinaryUnsafe = (): string | undefined => {
  try {
    const path: unknown = require("ffmpeg-static")
    return typeof path === "string" && isFileUnsafe(path) ? path : undefined
  } catch {
    return undefined
  }
}

/** The binary shipped inside `@ffmpeg-installer/<platform>`. */
const installerBinaryUnsafe = (): string | undefined => {
  try {
    const found = require("@ffmpeg-installer/ffmpeg") as { readonly path?: unknown }
    return typeof found.path === "string" && isFileUnsafe(found.path) ? found.path : undefined
  } catch {
    return undefined
  }
}

/**
 * The first executable `name` in a `PATH` directory (read from the file system, now).
 *
 * @since 0.2.0
 * @category resolution
 */
export const onPathUnsafe = (name: string, path: string = process.env.PATH ?? ""): string | undefined => {
  for (const dir of path.split(NodePath.delimiter)) {
    if (dir.length === 0) continue
    const candidate = NodePath.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (isFileUnsafe(candidate)) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** What `path -version` showed: a version, or why the binary does not count as ffmpeg. */
type VersionCheck =
  | { readonly _tag: "Found"; readonly version: string }
  | { readonly _tag: "Missing"; readonly cause: FfmpegProcess.SpawnFailed | undefined }

/**
 * Runs `path -version` (10 s at most); `Missing` if it cannot be started, fails, or does not
 * look like ffmpeg.
 */
const readVersion: (path: string) => Effect.Effect<VersionCheck, never, ChildProcessSpawner.ChildProcessSpawner> =
  Effect.fn("Ffmpeg.readVersion")(function*(path: string) {
    const ran = yield* FfmpegProcess.run(path, ["-hide_banner", "-version"], { stdout: true }).pipe(
      Effect.timeoutOption("10 seconds"),
      Effect.result
    )
    if (ran._tag === "Failure") return { _tag: "Missing", cause: ran.failure } satisfies VersionCheck
    const outcome = Option.getOrUndefined(ran.success)
    const match = outcome?.exitCode === 0 ? /^ffmpeg version (\S+)/m.exec(new TextDecoder().decode(outcome.stdout)) : null
    return match !== null
      ? { _tag: "Found", version: match[1] } satisfies VersionCheck
      : { _tag: "Missing", cause: undefined } satisfies VersionCheck
  })
