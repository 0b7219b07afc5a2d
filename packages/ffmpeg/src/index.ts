/**
 * vidpool's ffmpeg decoder: the `Ffmpeg` binary service, the `VideoDecoder` layer that decodes
 * videos and image folders into tensors, and `probe`. Test-video helpers for every package are `@vidpool/ffmpeg/testing`.
 *
 * @since 0.1.0
 */
export {
  candidates as ffmpegCandidates,
  Ffmpeg,
  FfmpegNotFound,
  type FfmpegSource,
  onPathUnsafe
} from "./Ffmpeg.ts"
export { type DecoderSettings, DecoderSettingsSchema, defaultMaxBytes, FfmpegDecoder, grayOf } from "./FfmpegDecoder.ts"
/** Parsing of ffmpeg's stderr (header, output size, errors). */
export * as FfmpegLog from "./FfmpegLog.ts"
/**
 * The one ffmpeg runner: its own process group, killed on interruption, the outcome as data.
 *
 * @since 0.2.0
 */
export * as FfmpegProcess from "./FfmpegProcess.ts"
/** What a video is (size, rate, frame count, duration, codec, pixel format, rotation), asked of the ffmpeg binary alone. */
export { probe, type ProbeInfo } from "./Probe.ts"
