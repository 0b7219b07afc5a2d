/**
 * vidpool's in-process decoder: FFmpeg's libraries through node-av, on decode worker threads. The
 * decode threads' protocol and their shared-memory slabs are internal (`src/internal/`).
 *
 * @since 0.2.0
 */
export { LibavDecoder, type LibavSettings, LibavSettingsSchema, makeDecoder } from "./LibavDecoder.ts"
export { LibavUnavailable } from "./LibavUnavailable.ts"
