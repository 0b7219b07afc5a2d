/**
 * The one error of the command's input: a path, manifest line, flag value or output file that
 * cannot be used. Raised before any video is decoded; printed as one line, exit code 2.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Something the user gave the command cannot be used. `message` is the whole line shown to them.
 *
 * @example
 * ```ts
 * import { InputError } from "@vidpool/cli"
 *
 * const error = InputError.at("clips/list.jsonl", 3, "not valid JSON")
 * error.message // "clips/list.jsonl:3: not valid JSON"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  /** The file or folder concerned, when there is one. */
  path: Schema.optionalKey(Schema.String),
  /** The 1-based line of `path`, for manifests. */
  line: Schema.optionalKey(Schema.Number),
  detail: Schema.String
}) {
  override get message(): string {
    if (this.path === undefined) return this.detail
    return this.line === undefined ? `${this.path}: ${this.detail}` : `${this.path}:${this.line}: ${this.detail}`
  }

  /** An error about one file or folder. */
  static about(path: string, detail: string): InputError {
    return new InputError({ path, detail })
  }

  /** An error about one line of a file. */
  static at(path: string, line: number, detail: string): InputError {
    return new InputError({ path, line, detail })
  }

  /** An error about the command line itself (a flag value). */
  static usage(detail: string): InputError {
    return new InputError({ detail })
  }
}
