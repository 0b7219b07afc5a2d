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
 * fewer frames than announced), with what the decoder said.
 *
 * @since 0.1.0
 * @category reasons
 */
export class InvalidData extends Schema.TaggedError<InvalidData>()("InvalidData", {
  detail: Schema.String
}) {}

/**
 * The decoder process failed: its exit code (or the signal that killed it) and the end of its
 * stderr.
 *
 * @since 0.1.0
 * @category reasons
 */
export class ProcessFailed extends Schema.TaggedError<ProcessFailed>()("ProcessFailed", {
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.optionalKey(Schema.String),
  stderr: Schema.String
}) {}

/**
 * Decoding took longer than the allowed time (in milliseconds).
 *
 * @since 0.1.0
 * @category reasons
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  millis: Schema.Number
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
 * No ffmpeg binary was found; `searched` lists where the decoder looked.
 *
 * @since 0.1.0
 * @category reasons
 */
export class FfmpegNotFound extends Schema.TaggedError<FfmpegNotFound>()("FfmpegNotFound", {
  searched: Schema.Array(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category reasons
 */
export const Reason = Schema.Union([
  NotFound,
  PermissionDenied,
  InvalidData,
  ProcessFailed,
  Timeout,
  TooLarge,
  FfmpegNotFound
])

/**
 * @since 0.1.0
 * @category reasons
 */
export type Reason = typeof Reason.Type

const describe = (reason: Reason): string => {
  switch (reason._tag) {
    case "NotFound":
      return "no such file or folder"
    case "PermissionDenied":
      return "permission denied (the file cannot be read by this process)"
    case "InvalidData":
      return `not a readable video: ${reason.detail}`
    case "ProcessFailed": {
      const how = reason.signal !== undefined
        ? `was killed by ${reason.signal}`
        : `exited with code ${reason.exitCode}`
      const tail = reason.stderr.trim()
      return `the decoder process ${how}${tail.length > 0 ? `: ${tail}` : ""}`
    }
    case "Timeout":
      return `decoding took longer than ${reason.millis} ms and was stopped`
    case "TooLarge":
      return `the decoded tensor would take ${reason.bytes} bytes, over the limit of ${reason.limit} bytes ` +
        `(ask for fewer frames, a smaller size, or raise maxBytes)`
    case "FfmpegNotFound":
      return `no ffmpeg binary found (looked at: ${reason.searched.join(", ")}); ` +
        `install the package's optional dependencies, put ffmpeg on PATH, or set FFMPEG_PATH`
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
    return `Cannot decode ${this.path}${where}: ${describe(this.reason)}`
  }

  /** The same error, marked with the sample index and field it came from. */
  at(index: number, key: string): DecodeError {
    return new DecodeError({ path: this.path, index, key, reason: this.reason })
  }
}
