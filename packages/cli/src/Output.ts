/**
 * Where results go: stdout, or a file written whole or not at all. A file is checked before the
 * run starts (by creating its temporary twin next to it) and replaced by a rename at the end, so
 * a failed run never leaves a half-written result.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import { Effect, FileSystem, Path } from "effect"
import type { PlatformError, Scope } from "effect"
import { InputError } from "./InputError.ts"
import { codeOf, explain, OutputError } from "./OutputError.ts"

/**
 * An output file made ready before the run: `commit` writes its content atomically.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutputFile {
  readonly path: string
  readonly commit: (content: string) => Effect.Effect<void, OutputError>
  /**
   * Appends a line to the file itself at once (not to its temporary twin), so that a run killed
   * by SIGKILL keeps every line written: JSON Lines output, rewritten whole by `commit` at the end.
   * `fresh` (a run that keeps nothing of the file) replaces the file with `header` and the first
   * line when that comes, so a run that fails before any result leaves the previous file untouched.
   */
  readonly appender: (fresh: boolean, header?: string) => Effect.Effect<(line: string) => void, InputError>
}

/**
 * The temporary files of outputs not committed yet: a second Ctrl-C, which ends the process at
 * once, removes them (`removeTemporariesUnsafe`).
 */
const temporaries = new Set<string>()

/**
 * Removes every output's temporary file now, synchronously: for a process about to exit.
 *
 * @since 0.2.0
 * @category constructors
 */
export const removeTemporariesUnsafe = (): void => {
  for (const temp of temporaries) {
    try {
      NodeFs.rmSync(temp, { force: true })
    } catch {
      // Exiting anyway: a temporary file that cannot be removed is removed by the next run.
    }
  }
  temporaries.clear()
}

/** Whether process `pid` is alive (on this machine). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Why a file cannot be written there, and the remedy: `no such folder`, `read-only file system (EROFS); ...`. */
const describe = (error: PlatformError.PlatformError): string => {
  const reason = error.reason
  if (reason._tag === "NotFound") return "no such folder"
  const { cause, remedy } = explain(codeOf(error), "file", reason.description)
  return `${cause}; ${remedy}`
}

/** The error of an output that cannot be written here, and why. */
const cannotWrite = (file: string, detail: string) => InputError.about(file, `cannot write the output here: ${detail}`)

/** `file` can be a file of its folder: not a folder itself, in a folder that exists, writable if it exists. */
const checkTarget = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const existing = yield* fs.stat(file).pipe(Effect.option)
  if (existing._tag === "Some" && existing.value.type === "Directory") {
    return yield* cannotWrite(file, "it is a folder (--out needs a file name)")
  }
  const folder = path.dirname(file)
  const parent = yield* fs.stat(folder).pipe(Effect.mapError((error) => cannotWrite(file, `${folder}: ${describe(error)}`)))
  if (parent.type !== "Directory") return yield* cannotWrite(file, `${folder} is not a folder`)
  if (existing._tag === "Some") {
    yield* fs.access(file, { writable: true }).pipe(Effect.mapError((error) => cannotWrite(file, describe(error))))
  }
})

/** The prefix of `file`'s temporary twins (`.name.<pid>.tmp`, beside it). */
const twinPrefix = (path: Path.Path, file: string) => `.${path.basename(file)}.`

/** Removes the temporary twins of `file` left by processes that were killed (their pid no longer runs). */
const removeStaleTwins = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const folder = path.dirname(file)
  const prefix = twinPrefix(path, file)
  const names = yield* fs.readDirectory(folder).pipe(Effect.orElseSucceed((): Array<string> => []))
  for (const name of names) {
    const pid = name.startsWith(prefix) && name.endsWith(".tmp") ? Number(name.slice(prefix.length, -4)) : NaN
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      yield* fs.remove(path.join(folder, name)).pipe(Effect.ignore)
    }
  }
})

/**
 * This process's temporary twin of `file`, created empty and owned by the current Scope: closing
 * it removes the twin unless `commit` renamed it onto `file`. `commit` writes the content whole.
 */
const temporaryTwin = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const temp = path.join(path.dirname(file), `${twinPrefix(path, file)}${process.pid}.tmp`)
  // Created anew ("wx"), never written through: a file or link already at that name is removed
  // first (a name of ours, left by an earlier process of the same pid).
  yield* fs.remove(temp).pipe(Effect.ignore)
  let committed = false
  yield* Effect.acquireRelease(
    fs.writeFileString(temp, "", { flag: "wx" }).pipe(
      Effect.tap(() => Effect.sync(() => temporaries.add(temp))),
      Effect.mapError((error) => cannotWrite(file, describe(error)))
    ),
    () =>
      Effect.andThen(
        Effect.sync(() => temporaries.delete(temp)),
        committed ? Effect.void : fs.remove(temp).pipe(Effect.ignore)
      )
  )
  return (content: string): Effect.Effect<void, OutputError> =>
    fs.writeFileString(temp, content).pipe(
      Effect.andThen(fs.rename(temp, file)),
      Effect.tap(() =>
        Effect.sync(() => {
          committed = true
          temporaries.delete(temp)
        })
      ),
      Effect.mapError((error) => OutputError.of(file, error))
    )
})

/** `OutputFile.appender` of `file`: lines appended to the file itself, synchronously. */
const appenderOf = (file: string) => (fresh: boolean, header?: string): Effect.Effect<(line: string) => void, InputError> =>
  Effect.try({
    try: () => {
      // A fresh run replaces the file with its first result, not before: a run that fails
      // before any sample is scored leaves the previous file as it was.
      let started = !fresh
      if (!fresh && NodeFs.existsSync(file)) {
        // A last line cut short by a kill is dropped, so that appended lines start on their own.
        const bytes = NodeFs.readFileSync(file)
        const whole = bytes.lastIndexOf(10) + 1
        if (whole < bytes.length) NodeFs.truncateSync(file, whole)
      }
      let failed = false
      return (line: string) => {
        if (failed) return
        try {
          if (!started) {
            // The header and the first line in one write: a kill does not leave the header alone.
            NodeFs.writeFileSync(file, (header === undefined ? "" : header + "\n") + line + "\n")
            started = true
            return
          }
          NodeFs.appendFileSync(file, line + "\n")
        } catch (error) {
          // The results are still written whole at the end (or the commit says why not).
          failed = true
          const { cause } = explain(codeOf(error), "file", (error as Error).message)
          writeStderrUnsafe(`vidpool: ${file}: cannot append a result: ${cause}; the results are written whole at the end\n`)
        }
      }
    },
    catch: (error) => {
      const { cause, remedy } = explain(codeOf(error), "file", (error as Error).message)
      return InputError.about(file, `cannot write it: ${cause}; ${remedy}`)
    }
  })

/**
 * Checks that `file` can be written, by creating a temporary file in its folder, owned by the
 * current Scope: closing the scope removes it unless `commit` renamed it onto `file`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const prepare = (file: string): Effect.Effect<OutputFile, InputError, Scope.Scope | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    yield* checkTarget(file)
    yield* removeStaleTwins(file)
    const commit = yield* temporaryTwin(file)
    const output: OutputFile = { path: file, commit, appender: appenderOf(file) }
    return output
  })

/**
 * Makes a failed write to stdout or stderr an error of that write only (`writeStdout` fails with
 * it, `writeStderr` drops it), instead of an exception on the stream that ends the process with
 * a stack trace. For the entry point, before anything is written.
 *
 * @since 0.2.0
 * @category writing
 */
export const catchStreamErrorsUnsafe = (): void => {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount("error") === 0) stream.on("error", () => {})
  }
}

/** Writes to `stream`, resuming with the error of the write, if any (thrown by a file's synchronous write, or given to the callback). */
const write = (stream: NodeJS.WriteStream, text: string): Effect.Effect<void, unknown> =>
  Effect.callback<void, unknown>((resume) => {
    try {
      stream.write(text, (error) => resume(error === null || error === undefined ? Effect.void : Effect.fail(error)))
    } catch (error) {
      resume(Effect.fail(error))
    }
  })

/**
 * Writes text to stdout, waiting until Node has handed it to the system (so that an exit right
 * after cannot cut it short). Fails with an `OutputError` when the system refuses it: a full
 * disk, a closed pipe (`isClosedPipe`: the reader went away, as `head` does)...
 *
 * @since 0.1.0
 * @category writing
 */
export const writeStdout = (text: string): Effect.Effect<void, OutputError> =>
  write(process.stdout, text).pipe(Effect.mapError((error) => OutputError.of("stdout", error)))

/**
 * Writes text to stderr now, for code that cannot wait (a logger); a failure is dropped, as by
 * `writeStderr`.
 *
 * @since 0.2.0
 * @category writing
 */
export const writeStderrUnsafe = (text: string): void => {
  try {
    process.stderr.write(text)
  } catch {
    // Nowhere left to say it.
  }
}

/**
 * Writes text to stderr the same way. A failure is dropped: there is nowhere left to report it
 * (the terminal went away, stderr's disk is full), and the command goes on to its end.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeStderr = (text: string): Effect.Effect<void> => Effect.ignore(write(process.stderr, text))
