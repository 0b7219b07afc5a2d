/**
 * vidpool's in-process decoder: FFmpeg's libraries through node-av, on decode worker threads.
 *
 * @since 0.2.0
 */
export { LibavDecoder, type LibavSettings, LibavSettingsSchema, makeDecode } from "./LibavDecoder.ts"
export { LibavUnavailable, workerEntry } from "./DecodeThreads.ts"
export type { DecodeFailure, DecodeRequest, DecodeSuccess, WorkerMessage } from "./Protocol.ts"
export * as Slab from "./Slab.ts"
