/**
 * The test kit of the ffmpeg package: clips, degraded copies and image folders made with ffmpeg,
 * for tests and benchmarks.
 *
 * @since 0.3.0
 */
export * as FfmpegFixtures from "./FfmpegFixtures.ts"
