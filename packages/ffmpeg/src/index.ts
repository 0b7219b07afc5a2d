/**
 * vidpool's ffmpeg decoder: the `Ffmpeg` binary service, the `VideoDecoder` layer that decodes
 * videos and image folders into tensors, `probe`, and test-video helpers for every package.
 *
 * @since 0.1.0
 */
export {
  candidates as ffmpegCandidates,
  Ffmpeg,
  FfmpegNotFound,
  type FfmpegSource,
  onPath,
  onPathUnsafe
} from "./Ffmpeg.ts"
export { type DecoderSettings, DecoderSettingsSchema, defaultMaxBytes, FfmpegDecoder, grayOf } from "./FfmpegDecoder.ts"
/** Clips, degraded copies and image folders made with ffmpeg, for tests and benchmarks. */
export * as FfmpegFixtures from "./FfmpegFixtures.ts"
/** Parsing of ffmpeg's stderr (header, output size, errors). */
export * as FfmpegLog from "./FfmpegLog.ts"
/**
 * The one ffmpeg runner: its own process group, killed on interruption, the outcome as data.
 *
 * @since 0.2.0
 */
export * as FfmpegProcess from "./FfmpegProcess.ts"
/** Frame selection: target fps, `numFrames` spread uniformly, `maxFrames`. */
/** Moved to `@vidpool/pool`; re-exported for 0.1 code. */
export { FrameSelection } from "@vidpool/pool"
export { probe, type ProbeInfo } from "./Probe.ts"
/** Reuse of tensor memory between decodes (opt-in `recycle`). */
/** Moved to `@vidpool/pool` (both decoders share it); re-exported for 0.1 code. */
export { TensorBuffers } from "@vidpool/pool"
