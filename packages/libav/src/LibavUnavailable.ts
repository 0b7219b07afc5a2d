/**
 * The error of the in-process decoder's layers when node-av does not load.
 *
 * @since 0.3.0
 */
import { Schema } from "effect"

/**
 * node-av could not be loaded on a decode thread (not installed for this platform, or its addon
 * does not load): the in-process decoder is unavailable, the command-line one still works.
 *
 * @since 0.2.0
 * @category errors
 */
export class LibavUnavailable extends Schema.TaggedError<LibavUnavailable>()("LibavUnavailable", {
  detail: Schema.String
}) {
  override get message(): string {
    return `the in-process decoder (node-av) is unavailable: ${this.detail}`
  }
}
