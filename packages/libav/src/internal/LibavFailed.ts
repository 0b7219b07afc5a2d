/**
 * How a decode on a decode thread ends early, thrown through FFmpeg's synchronous calls: `Failed`
 * with a typed reason, or `Cancelled` when the caller asked it to stop.
 *
 * @since 0.2.0
 */
import type { DecodeFailure } from "./Protocol.ts"

/**
 * Thrown inside a decode to end it with a typed reason.
 *
 * @since 0.2.0
 * @category errors
 */
export class Failed extends Error {
  constructor(readonly failure: DecodeFailure) {
    super(failure._tag)
  }
}

/**
 * Thrown when the caller set the cancel flag.
 *
 * @since 0.2.0
 * @category errors
 */
export class Cancelled extends Error {}

/**
 * An `InvalidData` failure with what went wrong.
 *
 * @since 0.2.0
 * @category constructors
 */
export const invalid = (detail: string): Failed => new Failed({ _tag: "InvalidData", detail })
