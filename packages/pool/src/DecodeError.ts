/**
 * The one error of decoding: which file, which sample and field (once it passed through a pool),
 * and why, as a tagged `reason` a program can match on and a message a person can act on.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The file or folder does not exist.
 *
 * @since 0.1.0
 * @category reasons
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {}) {}

/**
 * The file exists but this process may not read it.
 *
 * @since 0.1.0
 * @category reasons
 */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", {}) {}

/**
 * The file is not a video the decoder can read (empty, truncated, not a video, no video stream,
 * fewer frames than announced), with what the decoder said, and the failure underneath as data
 * when there is one (`cause`, e.g. the error a read of the decoder's output failed with).
 *
 * @since 0.1.0
 * @category reasons
 */
export class InvalidData extends Schema.TaggedError<InvalidData>()("InvalidData", {
  detail: Schema.String,
  /** The failure the detail explains, kept as it was (since 0.2.0). */
  cause: Schema.optionalKey(Schema.Defect())
}) {}

/**
 * The decoder process failed: its exit code, or the signal that killed it (a field, as the
 * process reported it), the end of its stderr, and, when it could not run at all, the failure
 * underneath as data (`cause`: a spawn error, a thread that died, a thrown error).
 *
 * @since 0.1.0
 * @category reasons
 */
export class ProcessFailed extends Schema.TaggedError<ProcessFailed>()("ProcessFailed", {
  /** The exit code; `null` when a signal ended the process or it never ran. */
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.optionalKey(Schema.String),
  stderr: Schema.String,
  /** Why the process could not run or was lost, kept as it was (since 0.2.0). */
  cause: Schema.optionalKey(Schema.Defect())
}) {}

/**
 * What a path names when it is not a regular file: a decoder reads regular files (and the
 * images of a folder given as `Video.folder`), never a pipe, a socket or a device, which could
 * block it forever.
 *
 * @since 0.3.0
 * @category reasons
 */
export const FileKind = Schema.Literals([
  "folder",
  "FIFO",
  "socket",
  "character device",
  "block device",
  "symbolic link loop",
  "special file"
])

/**
 * @since 0.3.0
 * @category reasons
 */
export type FileKind = typeof FileKind.Type

/**
 * The path (or, for a folder of images, one of its images) is not a regular file: a FIFO, a
 * socket, a device, a folder given as a video file, or a symbolic link that leads back to itself.
 * Refused before anything opens it.
 *
 * @since 0.3.0
 * @category reasons
 */
export class NotRegularFile extends Schema.TaggedError<NotRegularFile>()("NotRegularFile", {
  kind: FileKind,
  /** For a folder of images: the name of the image that is not a regular file. */
  image: Schema.optionalKey(Schema.String)
}) {}

/**
 * Decoding took longer than the allowed time (in milliseconds): the whole decode (the `timeout`
 * option), or, with `during: "open"`, opening the input (the `openTimeout` option: the input gave
 * no answer, as a stalled network file system does).
 *
 * @since 0.1.0
 * @category reasons
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  millis: Schema.Number,
  /** `"open"` when the input did not answer within `openTimeout` (since 0.3.0). */
  during: Schema.optionalKey(Schema.Literal("open"))
}) {}

/**
 * The decoded tensor would exceed the allowed size; decided before allocating it.
 *
 * @since 0.1.0
 * @category reasons
 */
export class TooLarge extends Schema.TaggedError<TooLarge>()("TooLarge", {
  bytes: Schema.Number,
  limit: Schema.Number
}) {}

/**
 * @since 0.1.0
 * @category reasons
 */
export const Reason = Schema.Union([
  NotFound,
  PermissionDenied,
  NotRegularFile,
  InvalidData,
  ProcessFailed,
  Timeout,
  TooLarge
])

/**
 * @since 0.1.0
 * @category reasons
 */
export type Reason = typeof Reason.Type

/** What a kept cause says, for the message: its own message when it has one. */
const causeText = (cause: unknown): string => {
  if (cause === undefined) return ""
  if (typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string") {
    return cause.message.trim()
  }
  return String(cause).trim()
}

const kindText: Record<FileKind, string> = {
  "folder": "is a folder, not a video file (give a folder of images as Video.folder)",
  "FIFO": "is a FIFO (named pipe), not a regular file (decoders read regular files: save the stream to a file first)",
  "socket": "is a socket, not a regular file (decoders read regular files)",
  "character device": "is a character device, not a regular file (decoders read regular files)",
  "block device": "is a block device, not a regular file (decoders read regular files)",
  "symbolic link loop": "is a symbolic link that leads back to itself (too many levels of symbolic links)",
  "special file": "is not a regular file (decoders read regular files)"
}

/**
 * What a reason says, as the end of a `DecodeError`'s message (after "Cannot decode <path>: "):
 * the words every decoder, `probe` and the CLI use for the same cause.
 *
 * @example
 * ```ts
 * import { describeReason, NotRegularFile } from "@vidpool/pool"
 *
 * describeReason(new NotRegularFile({ kind: "FIFO" }))
 * // "it is a FIFO (named pipe), not a regular file (decoders read regular files: save the stream to a file first)"
 * ```
 *
 * @since 0.3.0
 * @category formatting
 */
export const describeReason = (reason: Reason): string => {
  switch (reason._tag) {
    case "NotFound":
      return "no such file or folder"
    case "PermissionDenied":
      return "permission denied (the file cannot be read by this process)"
    case "NotRegularFile":
      return `${reason.image !== undefined ? `its image ${reason.image}` : "it"} ${kindText[reason.kind]}`
    case "InvalidData":
      return `not a readable video: ${reason.detail}`
    case "ProcessFailed": {
      const how = reason.signal !== undefined
        ? `was killed by ${reason.signal}`
        : reason.exitCode !== null
        ? `exited with code ${reason.exitCode}`
        : "failed"
      const tail = reason.stderr.trim()
      const why = tail.length > 0 ? tail : causeText(reason.cause)
      return `the decoder process ${how}${why.length > 0 ? `: ${why}` : ""}`
    }
    case "Timeout":
      return reason.during === "open"
        ? `the input gave no data within ${reason.millis} ms of being opened (a stalled network file system?); ` +
          `raise openTimeout if it is only slow`
        : `decoding took longer than ${reason.millis} ms and was stopped`
    case "TooLarge":
      return `the decoded tensor would take ${reason.bytes} bytes, over the limit of ${reason.limit} bytes ` +
        `(ask for fewer frames, a smaller size, or raise maxBytes)`
  }
}

/**
 * A video could not be decoded.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DecodeError } from "@vidpool/pool"
 *
 * const handled = (decode: Effect.Effect<number, DecodeError>) =>
 *   decode.pipe(
 *     Effect.catchReason("DecodeError", "NotFound", () => Effect.succeed(-1))
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  path: Schema.String,
  /** The sample's position in the pool's input (set by the pool). */
  index: Schema.optionalKey(Schema.Number),
  /** The sample field that held the video (set by the pool). */
  key: Schema.optionalKey(Schema.String),
  reason: Reason
}) {
  override get message(): string {
    const where = this.index !== undefined
      ? ` (sample ${this.index}${this.key !== undefined ? `, field "${this.key}"` : ""})`
      : ""
    return `Cannot decode ${this.path}${where}: ${describeReason(this.reason)}`
  }

  /** The same error, marked with the sample index and field it came from. */
  at(index: number, key: string): DecodeError {
    return new DecodeError({ path: this.path, index, key, reason: this.reason })
  }
}
