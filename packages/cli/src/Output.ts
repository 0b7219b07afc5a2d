/**
 * Where results go: stdout, or a file written whole or not at all. A file is checked before the
 * run starts (by creating its temporary twin next to it) and replaced by a rename at the end, so
 * a failed run never leaves a half-written result.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path } from "effect"
import type { PlatformError, Scope } from "effect"
import { InputError } from "./InputError.ts"

/**
 * An output file made ready before the run: `commit` writes its content atomically.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutputFile {
  readonly path: string
  readonly commit: (content: string) => Effect.Effect<void, InputError>
}

const describe = (error: PlatformError.PlatformError): string => {
  const reason = error.reason
  if (reason._tag === "NotFound") return "no such folder"
  if (reason._tag === "PermissionDenied") return "permission denied"
  return reason.description ?? reason._tag
}

/**
 * Checks that `file` can be written, by creating a temporary file in its folder, owned by the
 * current Scope: closing the scope removes it unless `commit` renamed it onto `file`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const prepare = (file: string): Effect.Effect<OutputFile, InputError, Scope.Scope | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const cannot = (detail: string) => InputError.about(file, `cannot write the output here: ${detail}`)
    const existing = yield* fs.stat(file).pipe(Effect.option)
    if (existing._tag === "Some" && existing.value.type === "Directory") {
      return yield* cannot("it is a folder (--out needs a file name)")
    }
    const folder = path.dirname(file)
    const parent = yield* fs.stat(folder).pipe(Effect.mapError((error) => cannot(`${folder}: ${describe(error)}`)))
    if (parent.type !== "Directory") return yield* cannot(`${folder} is not a folder`)
    if (existing._tag === "Some") {
      yield* fs.access(file, { writable: true }).pipe(Effect.mapError((error) => cannot(describe(error))))
    }
    const temp = path.join(folder, `.${path.basename(file)}.${process.pid}.tmp`)
    let committed = false
    yield* Effect.acquireRelease(
      fs.writeFileString(temp, "").pipe(Effect.mapError((error) => cannot(describe(error)))),
      () => committed ? Effect.void : fs.remove(temp).pipe(Effect.ignore)
    )
    return {
      path: file,
      commit: (content: string) =>
        fs.writeFileString(temp, content).pipe(
          Effect.andThen(fs.rename(temp, file)),
          Effect.tap(() => Effect.sync(() => { committed = true })),
          Effect.mapError((error) => InputError.about(file, `could not be written: ${describe(error)}`))
        )
    }
  })

/**
 * Writes text to stdout, waiting until Node has handed it to the system (so that an exit right
 * after cannot cut it short).
 *
 * @since 0.1.0
 * @category writing
 */
export const writeStdout = (text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

/**
 * Writes text to stderr the same way.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeStderr = (text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    process.stderr.write(text, () => resume(Effect.void))
  })
