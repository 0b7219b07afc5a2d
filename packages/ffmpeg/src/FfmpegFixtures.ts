/**
 * Real test videos made with ffmpeg, for the tests and benchmarks of every vidpool package:
 * synthetic clips (test patterns, fractals, noise, frame-numbered lossless clips), degraded
 * copies (noise, blur, heavy compression, dropped frames) and image folders. The argument
 * builders (`clipArgs`, `rotateArgs`, `degradeArgs`) are pure; every run goes through `FfmpegProcess`.
 *
 * @since 0.1.0
 */
import { mkdir, rename, rm } from "node:fs/promises"
import * as NodePath from "node:path"
import { Effect, Schema } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import * as FfmpegProcess from "./FfmpegProcess.ts"

/**
 * What the frames show.
 * - `testsrc2`, `mandelbrot`: ffmpeg's test pattern and fractal zoom (moving, compressible).
 * - `noise`: random pixels (hard to compress, slow to decode).
 * - `color`: one flat color (`color` option).
 * - `frameIndex`: frame n is filled with red = n mod 256, green = floor(n / 256) mod 256,
 *   blue = 128, so a decoded frame tells which source frame it is (use a lossless codec).
 *
 * @since 0.1.0
 * @category models
 */
export type ClipSource = "testsrc2" | "mandelbrot" | "noise" | "color" | "frameIndex"

/**
 * `h264` (libx264, yuv420p), `vp9` (libvpx-vp9), `ffv1` (lossless, RGB for `frameIndex`),
 * `gif`, `mjpeg`, `png` (lossless, in mov/mkv).
 *
 * @since 0.1.0
 * @category models
 */
export type ClipCodec = "h264" | "vp9" | "ffv1" | "gif" | "mjpeg" | "png"

/**
 * @since 0.1.0
 * @category models
 */
export interface ClipOptions {
  readonly source?: ClipSource
  /** Default 320 x 240. */
  readonly width?: number
  readonly height?: number
  /** Default 25. */
  readonly fps?: number
  /** Default 75 (3 s at 25 fps). */
  readonly frames?: number
  /** Default `h264`. The container follows the output file's extension. */
  readonly codec?: ClipCodec
  /** Quality for h264/vp9 (higher is worse). Default 23 (h264) / 32 (vp9). */
  readonly crf?: number
  /** For `source: "color"`: any ffmpeg color, e.g. `"red"` or `"0x336699"`. */
  readonly color?: string
  /** More ffmpeg video filters, applied in order after the source, e.g. `["gblur=sigma=2"]`. */
  readonly extraFilters?: ReadonlyArray<string>
  /** Rotation metadata (clockwise degrees for display) written into an mp4/mov. */
  readonly rotate?: 0 | 90 | 180 | 270
}

/**
 * The flags every run of these helpers starts with: no banner, no stdin, errors only on stderr,
 * overwrite the output. Put them ahead of what a builder returns.
 *
 * @since 0.1.0
 * @category constants
 */
export const commonArgs: ReadonlyArray<string> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]

/**
 * A helper's ffmpeg run failed: the arguments, how it ended (exit code or signal, as fields) and
 * what it said on stderr; `cause` is the spawn error when it could not start at all.
 *
 * @since 0.2.0
 * @category errors
 */
export class FixtureFailed extends Schema.TaggedError<FixtureFailed>()("FixtureFailed", {
  args: Schema.Array(Schema.String),
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.optionalKey(Schema.String),
  stderr: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    const how = this.cause instanceof Error
      ? this.cause.message
      : this.signal !== undefined
      ? `killed by ${this.signal}`
      : `exit code ${this.exitCode}`
    return `ffmpeg ${this.args.join(" ")} failed: ${this.stderr.trim() || how}`
  }
}

/**
 * Runs ffmpeg with `commonArgs` then `args`, through `FfmpegProcess.run` (interrupting it kills
 * the process group); fails with `FixtureFailed` unless it exits 0.
 *
 * @since 0.2.0
 * @category utils
 */
export const run: (
  ffmpegPath: string,
  args: ReadonlyArray<string>
) => Effect.Effect<void, FixtureFailed, ChildProcessSpawner.ChildProcessSpawner> = Effect.fn("FfmpegFixtures.run")(
  function*(ffmpegPath: string, args: ReadonlyArray<string>) {
    const outcome = yield* FfmpegProcess.run(ffmpegPath, [...commonArgs, ...args]).pipe(
      Effect.mapError((cause) => new FixtureFailed({ args, exitCode: null, stderr: "", cause }))
    )
    if (outcome.exitCode === 0) return
    return yield* new FixtureFailed({
      args,
      exitCode: outcome.exitCode,
      ...(outcome.signal !== undefined ? { signal: outcome.signal } : {}),
      stderr: outcome.stderr
    })
  }
)

/**
 * `run` as a Promise, over Node's spawner (`FfmpegProcess.layerNode`); rejects with the
 * `FixtureFailed`.
 *
 * @since 0.1.0
 * @category utils
 */
export const runFfmpeg = (ffmpegPath: string, args: ReadonlyArray<string>): Promise<void> =>
  Effect.runPromise(run(ffmpegPath, args).pipe(Effect.provide(FfmpegProcess.layerNode)))

const sourceFilter = (options: ClipOptions, width: number, height: number, fps: number): string => {
  const size = `s=${width}x${height}:r=${fps}`
  switch (options.source ?? "testsrc2") {
    case "testsrc2":
      return `testsrc2=${size}`
    case "mandelbrot":
      return `mandelbrot=${size}`
    case "noise":
      return `color=c=gray:${size},noise=alls=100:allf=t+u`
    case "color":
      return `color=c=${options.color ?? "gray"}:${size}`
    case "frameIndex":
      return `color=c=black:${size},format=rgb24,geq=r='mod(N\\,256)':g='mod(floor(N/256)\\,256)':b=128`
  }
}

const codecArgs = (options: ClipOptions): Array<string> => {
  const rgb = options.source === "frameIndex"
  switch (options.codec ?? "h264") {
    case "h264":
      return ["-c:v", "libx264", "-preset", "veryfast", "-crf", String(options.crf ?? 23), "-pix_fmt", "yuv420p"]
    case "vp9":
      return ["-c:v", "libvpx-vp9", "-crf", String(options.crf ?? 32), "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuv420p"]
    case "ffv1":
      return ["-c:v", "ffv1", "-pix_fmt", rgb ? "bgr0" : "yuv420p"]
    case "gif":
      return ["-c:v", "gif"]
    case "mjpeg":
      return ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"]
    case "png":
      return ["-c:v", "png", "-pix_fmt", "rgb24"]
  }
}

/**
 * The ffmpeg arguments (to follow `commonArgs`) that encode the clip `options` describe into
 * `outPath`, rotation aside: `options.rotate` needs a second run, `rotateArgs`. Pure: nothing is
 * run and no folder is made.
 *
 * @example
 * ```ts
 * import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
 *
 * // 24 frames of the test pattern, 160x120 at 12 fps, nearly lossless h264:
 * const args = FfmpegFixtures.clipArgs("/tmp/corpus/ref.mp4", { width: 160, height: 120, fps: 12, frames: 24, crf: 10 })
 * // then spawn: ffmpeg [...FfmpegFixtures.commonArgs, ...args]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const clipArgs = (outPath: string, options: ClipOptions = {}): Array<string> => {
  const width = options.width ?? 320
  const height = options.height ?? 240
  const fps = options.fps ?? 25
  const frames = options.frames ?? 75
  const chain = [sourceFilter(options, width, height, fps), ...(options.extraFilters ?? [])].join(",")
  return ["-f", "lavfi", "-i", chain, "-frames:v", String(frames), ...codecArgs(options), outPath]
}

/**
 * The ffmpeg arguments (to follow `commonArgs`) that copy the mp4/mov `inPath` to `outPath`
 * (without re-encoding) tagged to be displayed turned `rotate` degrees clockwise. Pure.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rotateArgs = (inPath: string, outPath: string, rotate: 0 | 90 | 180 | 270): Array<string> =>
  // ffmpeg 4.1 stores a stream-copied `rotate` tag as the opposite turn, hence 360 - rotate.
  ["-i", inPath, "-c", "copy", "-metadata:s:v:0", `rotate=${(360 - rotate) % 360}`, outPath]

/**
 * Makes a clip at `outPath` (its folder is created): `clipArgs`, then `rotateArgs` when
 * `options.rotate` is set.
 *
 * @example
 * ```ts
 * import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
 *
 * await FfmpegFixtures.makeClip(ffmpegPath, "/tmp/corpus/ref.mp4", { source: "mandelbrot", frames: 50 })
 * await FfmpegFixtures.makeClip(ffmpegPath, "/tmp/corpus/lossless.mkv", { source: "frameIndex", codec: "ffv1" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClip = async (ffmpegPath: string, outPath: string, options: ClipOptions = {}): Promise<string> => {
  await mkdir(NodePath.dirname(outPath), { recursive: true })
  const rotate = options.rotate ?? 0
  const encoded = rotate === 0 ? outPath : `${outPath}.unrotated${NodePath.extname(outPath)}`
  await runFfmpeg(ffmpegPath, clipArgs(encoded, options))
  if (rotate !== 0) {
    try {
      await runFfmpeg(ffmpegPath, rotateArgs(encoded, outPath, rotate))
    } finally {
      await rm(encoded, { force: true })
    }
  }
  return outPath
}

/**
 * How to damage a clip; each given field adds one ffmpeg filter or setting.
 *
 * @since 0.1.0
 * @category models
 */
export interface Degradation {
  /** Temporal+uniform noise strength, 0-100 (ffmpeg's `noise=alls=`). */
  readonly noise?: number
  /** Gaussian blur sigma in pixels. */
  readonly blur?: number
  /** Re-encode with this h264 crf (51 is the worst). Default 23. */
  readonly crf?: number
  /** Drop every n-th frame (keeps the others, so the clip gets shorter). */
  readonly dropEvery?: number
  /** Scale down by this factor and back up (loses detail). */
  readonly downscale?: number
}

/**
 * The ffmpeg arguments (to follow `commonArgs`) that write a degraded copy of the first video
 * stream of `inPath` to `outPath` as h264: frames dropped, then downscaled, blurred, noised, in
 * that order, then encoded at `degradation.crf`. Pure: nothing is run and no folder is made.
 *
 * @example
 * ```ts
 * import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
 *
 * const args = FfmpegFixtures.degradeArgs("ref.mp4", "noisy.mp4", { noise: 30, crf: 18 })
 * // then spawn: ffmpeg [...FfmpegFixtures.commonArgs, ...args]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const degradeArgs = (inPath: string, outPath: string, degradation: Degradation): Array<string> => {
  const filters: Array<string> = []
  if (degradation.dropEvery !== undefined) {
    filters.push(`select='not(eq(mod(n\\,${degradation.dropEvery})\\,${degradation.dropEvery - 1}))'`, "setpts=N/FRAME_RATE/TB")
  }
  if (degradation.downscale !== undefined) {
    const f = degradation.downscale
    filters.push(`scale=trunc(iw/${f}/2)*2:trunc(ih/${f}/2)*2`, `scale=trunc(iw*${f}/2)*2:trunc(ih*${f}/2)*2`)
  }
  if (degradation.blur !== undefined) filters.push(`gblur=sigma=${degradation.blur}`)
  if (degradation.noise !== undefined) filters.push(`noise=alls=${degradation.noise}:allf=t+u`)
  return [
    "-i",
    inPath,
    "-map",
    "0:v:0",
    ...(filters.length > 0 ? ["-vf", filters.join(",")] : []),
    "-vsync",
    "0",
    ...codecArgs({ codec: "h264", crf: degradation.crf ?? 23 }),
    outPath
  ]
}

/**
 * Writes a degraded copy of `inPath` to `outPath` as h264 (its folder is created): `degradeArgs`, run.
 *
 * @example
 * ```ts
 * import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
 *
 * await FfmpegFixtures.degrade(ffmpegPath, "ref.mp4", "noisy.mp4", { noise: 30 })
 * await FfmpegFixtures.degrade(ffmpegPath, "ref.mp4", "blocky.mp4", { crf: 48 })
 * await FfmpegFixtures.degrade(ffmpegPath, "ref.mp4", "choppy.mp4", { dropEvery: 3 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const degrade = async (
  ffmpegPath: string,
  inPath: string,
  outPath: string,
  degradation: Degradation
): Promise<string> => {
  await mkdir(NodePath.dirname(outPath), { recursive: true })
  await runFfmpeg(ffmpegPath, degradeArgs(inPath, outPath, degradation))
  return outPath
}

/**
 * Writes `frames` images `frame_0000.<ext>` ... into `dir` (created), from the same sources as
 * `makeClip`. Returns the folder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeImageFolder = async (
  ffmpegPath: string,
  dir: string,
  options: Omit<ClipOptions, "codec" | "crf" | "rotate"> & { readonly format?: "png" | "jpg" | "bmp" } = {}
): Promise<string> => {
  const width = options.width ?? 320
  const height = options.height ?? 240
  const fps = options.fps ?? 25
  await mkdir(dir, { recursive: true })
  const chain = [sourceFilter(options, width, height, fps), ...(options.extraFilters ?? [])].join(",")
  const tmp = NodePath.join(dir, `.making-%04d.${options.format ?? "png"}`)
  await runFfmpeg(ffmpegPath, ["-f", "lavfi", "-i", chain, "-frames:v", String(options.frames ?? 10), "-start_number", "0", tmp])
  for (let i = 0; i < (options.frames ?? 10); i++) {
    const name = String(i).padStart(4, "0")
    await rename(tmp.replace("%04d", name), NodePath.join(dir, `frame_${name}.${options.format ?? "png"}`))
  }
  return dir
}

/**
 * The helpers above as Effects (failing with the `Error` that ffmpeg's stderr explains).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClipEffect = (ffmpegPath: string, outPath: string, options: ClipOptions = {}) =>
  Effect.tryPromise({ try: () => makeClip(ffmpegPath, outPath, options), catch: (error) => error as Error })
