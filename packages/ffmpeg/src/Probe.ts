/**
 * What a video is, asked of the ffmpeg binary alone (there may be no ffprobe): size, rate, frame
 * count, duration, codec, pixel format and rotation.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { DecodeError, InvalidData } from "@vidpool/pool"
import * as DecodeCommand from "./internal/DecodeCommand.ts"
import { Ffmpeg } from "./Ffmpeg.ts"
import * as FfmpegConfig from "./internal/FfmpegConfig.ts"
import * as FfmpegLog from "./FfmpegLog.ts"
import * as Input from "./internal/Input.ts"

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
export const probe: (
  path: string
) => Effect.Effect<ProbeInfo, DecodeError, Ffmpeg | ChildProcessSpawner.ChildProcessSpawner> = Effect.fn("Probe.probe")(
  function*(path: string) {
    yield* Effect.annotateCurrentSpan("path", path)
    const ffmpeg = yield* Ffmpeg
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const scratchDir = yield* FfmpegConfig.scratchDir
    const input = yield* Input.open(path, "either", scratchDir)
    const outcome = yield* DecodeCommand.run(ffmpeg, spawner, path, [
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
    yield* DecodeCommand.failIfSignalled(path, outcome, report)
    const info = report.input
    const counted = report.framesWritten
    if (outcome.exitCode !== 0 || info === undefined || counted === undefined) {
      const detail = FfmpegLog.explain(report, "ffmpeg found no video stream")
      return yield* Effect.fail(new DecodeError({ path, reason: new InvalidData({ detail }) }))
    }
    const frameCount = input.images ?? counted
    return {
      path,
      ...FfmpegLog.displaySize(info),
      fps: info.fps,
      frameCount,
      duration: info.duration ?? (info.fps > 0 ? frameCount / info.fps : 0),
      codec: info.codec,
      pixelFormat: info.pixelFormat,
      rotation: info.rotation,
      ffmpeg: { path: ffmpeg.path, version: ffmpeg.version, source: ffmpeg.source }
    }
  },
  Effect.scoped
)
