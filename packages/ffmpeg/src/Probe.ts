/**
 * What a video is, asked of the ffmpeg binary alone (there may be no ffprobe): size, rate, frame
 * count, duration, codec, pixel format and rotation.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { DecodeError, InvalidData, ProcessFailed } from "@vidpool/pool"
import { Ffmpeg } from "./Ffmpeg.ts"
import * as FfmpegLog from "./FfmpegLog.ts"
import * as FfmpegProcess from "./FfmpegProcess.ts"
import * as Input from "./Input.ts"
import * as ScratchFile from "./ScratchFile.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ProbeInfo {
  readonly path: string
  /** Width and height as displayed, i.e. after the rotation (what a decode produces). */
  readonly width: number
  readonly height: number
  readonly fps: number
  /** Video packets in the file (one per frame), counted by reading the whole stream. */
  readonly frameCount: number
  /** Seconds; the container's duration, else frameCount / fps. */
  readonly duration: number
  readonly codec: string
  readonly pixelFormat: string
  /** Clockwise degrees the frames are turned for display (0, 90, 180, 270). */
  readonly rotation: number
  /** The ffmpeg that answered. */
  readonly ffmpeg: { readonly path: string; readonly version: string; readonly source: string }
}

/**
 * Probes a video file, or a folder of images, by demuxing its video stream without decoding it.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Ffmpeg, probe } from "@vidpool/ffmpeg"
 *
 * const program = probe("clip.mp4").pipe(
 *   Effect.tap((info) => Effect.log(`${info.width}x${info.height}, ${info.frameCount} frames`)),
 *   Effect.provide(Layer.mergeAll(Ffmpeg.layer, NodeServices.layer))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const probe = (
  path: string
): Effect.Effect<ProbeInfo, DecodeError, Ffmpeg | ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const ffmpeg = yield* Ffmpeg
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const scratchDir = Option.getOrUndefined(yield* Config.option(Config.String("VIDPOOL_SCRATCH_DIR")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )) ?? ScratchFile.defaultDir()
    const input = yield* Input.open(path, "folder", scratchDir)
    const outcome = yield* FfmpegProcess.run(ffmpeg, spawner, path, [
      ...input.args,
      "-map",
      "0:v:0",
      "-c",
      "copy",
      "-f",
      "null",
      "-"
    ])
    const report = FfmpegLog.parse(outcome.stderr)
    if (outcome.signal !== undefined) {
      return yield* Effect.fail(
        new DecodeError({
          path,
          reason: new ProcessFailed({ exitCode: null, signal: outcome.signal, stderr: FfmpegLog.explain(report, "") })
        })
      )
    }
    const info = report.input
    const counted = [...outcome.stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)
    if (outcome.exitCode !== 0 || info === undefined || counted === undefined) {
      const detail = FfmpegLog.explain(report, "ffmpeg found no video stream")
      return yield* Effect.fail(new DecodeError({ path, reason: new InvalidData({ detail }) }))
    }
    const frameCount = input.images ?? Number(counted[1])
    const rotated = info.rotation === 90 || info.rotation === 270
    return {
      path,
      width: rotated ? info.height : info.width,
      height: rotated ? info.width : info.height,
      fps: info.fps,
      frameCount,
      duration: info.duration ?? (info.fps > 0 ? frameCount / info.fps : 0),
      codec: info.codec,
      pixelFormat: info.pixelFormat,
      rotation: info.rotation,
      ffmpeg: { path: ffmpeg.path, version: ffmpeg.version, source: ffmpeg.source }
    }
  }).pipe(Effect.scoped, Effect.withSpan("FfmpegDecoder.probe", { attributes: { path } }))
