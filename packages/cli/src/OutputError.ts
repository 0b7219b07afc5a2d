/**
 * The error of an output that cannot be written (stdout, or the `--out` file): what the system
 * said (a full disk, a read-only file system, a closed pipe...) and what to do about it, in one
 * line.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/**
 * A system error's cause in words, and what the person at the terminal can do about it, for a
 * file (`--out`) or for stdout.
 *
 * @since 0.2.0
 * @category models
 */
export interface WriteFailure {
  readonly cause: string
  readonly remedy: string
}

const causes: Record<string, { readonly cause: string; readonly file: string; readonly stdout: string }> = {
  ENOSPC: {
    cause: "no space left on device",
    file: "free some space on that disk, or give --out a file on another one",
    stdout: "free some space on the disk it goes to, or redirect it to another one"
  },
  EDQUOT: {
    cause: "disk quota exceeded",
    file: "free some of your space on that disk, or give --out a file on another one",
    stdout: "free some of your space on the disk it goes to, or redirect it to another one"
  },
  EFBIG: {
    cause: "file too large (a file size limit of this disk or of the process, ulimit -f)",
    file: "raise the limit, or give --out a file on another disk",
    stdout: "raise the limit, or redirect it to another disk"
  },
  EROFS: {
    cause: "read-only file system",
    file: "give --out a file on a writable disk",
    stdout: "redirect it to a writable disk"
  },
  EACCES: {
    cause: "permission denied",
    file: "give --out a file in a folder you may write to",
    stdout: "redirect it somewhere you may write to"
  },
  EPERM: {
    cause: "operation not permitted",
    file: "give --out a file in a folder you may write to",
    stdout: "redirect it somewhere you may write to"
  },
  EIO: {
    cause: "input/output error (the disk or the terminal failed or went away)",
    file: "check the disk, or give --out a file on another one",
    stdout: "check the terminal or disk it goes to, or redirect it to a file"
  },
  EPIPE: {
    cause: "the reader at the other end closed it",
    file: "give --out a regular file",
    stdout: "keep the reading command running until vidpool ends"
  },
  ENOENT: {
    cause: "its folder no longer exists",
    file: "give --out a file in a folder that exists",
    stdout: "redirect it to a file in a folder that exists"
  },
  ENOTDIR: {
    cause: "a part of its path is not a folder",
    file: "give --out a file in a folder that exists",
    stdout: "redirect it to a file in a folder that exists"
  },
  EISDIR: {
    cause: "it is a folder",
    file: "give --out a file name",
    stdout: "redirect it to a file"
  },
  EBADF: {
    cause: "it is not open for writing",
    file: "give --out a regular file",
    stdout: "redirect it to a file or pipe open for writing"
  }
}

/**
 * What an error of the system (a Node `ErrnoException`, by its `code`) means for an output, and
 * the remedy. An unknown code keeps the system's own words.
 *
 * @example
 * ```ts
 * import { OutputError } from "@vidpool/cli"
 *
 * OutputError.explain("ENOSPC", "file").cause // "no space left on device (ENOSPC)"
 * ```
 *
 * @since 0.2.0
 * @category formatting
 */
export const explain = (code: string | undefined, target: "file" | "stdout", systemMessage?: string): WriteFailure => {
  const known = code === undefined ? undefined : causes[code]
  if (known !== undefined) return { cause: `${known.cause} (${code})`, remedy: known[target] }
  const said = systemMessage !== undefined && systemMessage !== "" ? systemMessage : code ?? "an unknown error"
  return { cause: said, remedy: target === "file" ? "give --out a file on another disk" : "redirect it elsewhere" }
}

/**
 * The `code` of a system error (a Node `ErrnoException`), or of the system error under an
 * effect `PlatformError` (its `reason.cause`).
 *
 * @since 0.2.0
 * @category formatting
 */
export const codeOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const own = (error as { code?: unknown }).code
  if (typeof own === "string") return own
  const reason = (error as { reason?: { cause?: unknown } }).reason
  if (reason !== undefined && reason.cause !== error) return codeOf(reason.cause)
  return undefined
}

/** The system's own words for an error, for a code `explain` does not know. */
const systemMessageOf = (error: unknown): string | undefined => {
  const reason = (error as { reason?: { cause?: unknown } } | undefined)?.reason
  const inner = reason?.cause ?? error
  return inner instanceof Error ? inner.message : undefined
}

/**
 * Stdout or the `--out` file could not be written (exit code 1: the run's results did not reach
 * their destination). `code` is the system's (`ENOSPC`...); `cause` the error itself, as data.
 *
 * @example
 * ```ts
 * import { OutputError } from "@vidpool/cli"
 *
 * const error = OutputError.of("scores.json", Object.assign(new Error("no space"), { code: "ENOSPC" }))
 * error.message
 * // "scores.json: cannot write it: no space left on device (ENOSPC); free some space on that disk, or give --out a file on another one"
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class OutputError extends Schema.TaggedError<OutputError>()("OutputError", {
  /** `"stdout"`, or the path of the output file. */
  target: Schema.String,
  /** The system's error code (`ENOSPC`, `EPIPE`...), when it gave one. */
  code: Schema.optionalKey(Schema.String),
  /** The cause and the remedy, in words. */
  detail: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    return this.target === "stdout" ? `cannot write to stdout: ${this.detail}` : `${this.target}: cannot write it: ${this.detail}`
  }

  /** The error of a write to `target` (`"stdout"` or a file) that failed with `error`. */
  static of(target: string, error: unknown): OutputError {
    const code = codeOf(error)
    const { cause, remedy } = explain(code, target === "stdout" ? "stdout" : "file", systemMessageOf(error))
    return new OutputError({ target, ...(code !== undefined ? { code } : {}), detail: `${cause}; ${remedy}`, cause: error })
  }

  /** What a system error code means for an output, and the remedy (`explain`). */
  static explain(code: string | undefined, target: "file" | "stdout", systemMessage?: string): WriteFailure {
    return explain(code, target, systemMessage)
  }

  /** Whether the reader of stdout went away (`vidpool eval ... | head`): not an error of the command. */
  get isClosedPipe(): boolean {
    return this.target === "stdout" && this.code === "EPIPE"
  }
}
