/**
 * The demo's corpus, made with ffmpeg's built-in sources in a folder: two clean clips and, for
 * each, copies damaged in known ways (noise, blur, heavy compression, dropped frames), every copy
 * paired with its clean reference. The ffmpeg arguments are `FfmpegFixtures`' builders; each run is
 * `FfmpegFixtures.run`, over the one ffmpeg runner (`FfmpegProcess`).
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import * as NodePath from "node:path"
import type { ChildProcessSpawner } from "effect/process"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import type { InputSample } from "../Inputs.ts"

/**
 * The demo's clean clips: one of ffmpeg's built-in sources each.
 *
 * @since 0.1.0
 * @category constants
 */
export const sources: ReadonlyArray<{ readonly name: string; readonly source: FfmpegFixtures.ClipSource }> = [
  { name: "testsrc2", source: "testsrc2" },
  { name: "mandelbrot", source: "mandelbrot" }
]

/**
 * The damage done to each clean clip, mildest first (see `FfmpegFixtures.Degradation`).
 *
 * @since 0.1.0
 * @category constants
 */
export const degradations: ReadonlyArray<{
  readonly name: string
  readonly degradation: FfmpegFixtures.Degradation
}> = [
  { name: "light-compression", degradation: { crf: 26 } },
  { name: "noise", degradation: { noise: 30, crf: 18 } },
  { name: "blur", degradation: { blur: 2.5, crf: 18 } },
  { name: "heavy-compression", degradation: { crf: 48 } },
  { name: "dropped-frames", degradation: { dropEvery: 3, crf: 18 } }
]

/** Frames in each clean clip. */
const frames = 24

/**
 * Frames decoded from every clip (spread over it), so that a clip with dropped frames is
 * compared frame for frame with its reference.
 *
 * @since 0.1.0
 * @category constants
 */
export const numFrames = 12

/**
 * An ffmpeg run failed; `cause` is the run's own error (`FfmpegFixtures.FixtureFailed`: exit code
 * or signal, stderr, spawn error), kept as data.
 *
 * @since 0.1.0
 * @category errors
 */
export class DemoError extends Schema.TaggedError<DemoError>()("DemoError", {
  detail: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    return this.detail
  }
}

const runFfmpeg = (ffmpeg: string, args: ReadonlyArray<string>, folder: string) =>
  FfmpegFixtures.run(ffmpeg, args).pipe(
    Effect.mapError((cause) => {
      const how = cause.cause !== undefined
        ? `ffmpeg could not be run for the demo corpus: ${cause.cause instanceof Error ? cause.cause.message : cause.message}`
        : `ffmpeg could not make the demo corpus in ${folder} (${
          cause.signal !== undefined ? `killed by ${cause.signal}` : `exit code ${cause.exitCode}`
        }): ${cause.stderr.trim()}` +
          (/No space left|Read-only file system|Permission denied/i.test(cause.stderr)
            ? `; set TMPDIR to a writable folder on a disk with space`
            : "")
      return new DemoError({ detail: how, cause })
    })
  )

/**
 * Makes the corpus in `folder` with the ffmpeg binary at `ffmpeg` (two runs at a time).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (ffmpeg: string, folder: string) =>
  Effect.gen(function*() {
    const references = sources.map((source) => ({
      source,
      path: NodePath.join(folder, `${source.name}.mp4`)
    }))
    yield* Effect.forEach(references, ({ path, source }) =>
      runFfmpeg(
        ffmpeg,
        FfmpegFixtures.clipArgs(path, { source: source.source, width: 160, height: 120, fps: 12, frames, crf: 10 }),
        folder
      ), {
      concurrency: 2,
      discard: true
    })
    const samples: Array<InputSample> = []
    const jobs: Array<Effect.Effect<void, DemoError, ChildProcessSpawner.ChildProcessSpawner>> = []
    for (const reference of references) {
      for (const degradation of degradations) {
        const video = NodePath.join(folder, `${reference.source.name}-${degradation.name}.mp4`)
        samples.push({ video, reference: reference.path, fields: { degradation: degradation.name } })
        jobs.push(runFfmpeg(ffmpeg, FfmpegFixtures.degradeArgs(reference.path, video, degradation.degradation), folder))
      }
    }
    yield* Effect.all(jobs, { concurrency: 2, discard: true })
    return { samples, numFrames }
  })
