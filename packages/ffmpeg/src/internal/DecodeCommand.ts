/**
 * The ffmpeg command line of one decode (time range, frames picked, resize, raw output), and its
 * run through `FfmpegProcess`, with what went wrong said as a `DecodeError` of the video.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { DecodeError, type DecodeOptions, FrameSelection, ProcessFailed } from "@vidpool/pool"
import type { Ffmpeg } from "../Ffmpeg.ts"
import * as FfmpegLog from "../FfmpegLog.ts"
import * as FfmpegProcess from "../FfmpegProcess.ts"

/**
 * The flags every decoder run starts with: no banner, no stdin, log lines tagged with their
 * level (what `FfmpegLog.parse` reads).
 *
 * @since 0.2.0
 * @category constants
 */
export const logArgs: ReadonlyArray<string> = ["-hide_banner", "-nostdin", "-loglevel", "level+info"]

/**
 * How far past `end` the decode may run before ffmpeg is told to stop: the exact cut is made by
 * `select`; `trim` only ends the input early, so it needs a margin larger than the rounding of
 * `end` to the stream's time base.
 */
const endMargin = 1

/**
 * The `-vf` chain: the time range (by presentation time, `start <= t < end`, with `trim` ending
 * the decode soon after `end`), then the frames picked by `pick` (a `select` expression over the
 * index `n` of the frames in the range), then the resize.
 *
 * @since 0.1.0
 * @category internals
 */
export const filters = (options: DecodeOptions, pick?: string): Array<string> => {
  const out: Array<string> = []
  if (options.end !== undefined) out.push(`trim=duration=${options.end + endMargin}`)
  if (options.start !== undefined || options.end !== undefined) {
    const t = "(t-start_t)"
    const terms = [
      options.start !== undefined ? `gte(${t}\\,${options.start})` : undefined,
      options.end !== undefined ? `lt(${t}\\,${options.end})` : undefined
    ].filter((term) => term !== undefined)
    out.push(`select=${terms.join("*")}`)
  }
  if (pick !== undefined) out.push(`select=${pick}`)
  const { height, width } = options
  if (width !== undefined && height !== undefined) {
    switch (options.resize ?? "exact") {
      case "exact":
        out.push(`scale=${width}:${height}`)
        break
      case "fit":
        out.push(`scale=${width}:${height}:force_original_aspect_ratio=decrease`)
        break
      case "crop":
        out.push(`scale=${width}:${height}:force_original_aspect_ratio=increase`, `crop=${width}:${height}`)
        break
    }
  } else if (width !== undefined) {
    out.push(`scale=${width}:-1`)
  } else if (height !== undefined) {
    out.push(`scale=-1:${height}`)
  }
  // Gray is made from the rgb24 frames, so it is exactly `grayOf` of the rgb24 output.
  if (options.pixelFormat === "gray") out.push("format=rgb24")
  return out
}

/**
 * A `select` expression keeping the frames whose index `n` is in `indices` (sorted, unique), one
 * term per run of consecutive indices.
 *
 * @since 0.1.0
 * @category internals
 */
export const pickExpression = (indices: ReadonlyArray<number>): string =>
  FrameSelection.runs(indices)
    .map(([first, length]) => length === 1 ? `eq(n\\,${first})` : `between(n\\,${first}\\,${first + length - 1})`)
    .join("+")

/**
 * What one decode run writes and how: the filter graph over the opened input (`-vf`, or
 * `-filter_complex` when the input is several), every frame kept as decoded, at most `frameLimit`
 * frames and `fileLimit` bytes, raw `pixelFormat` frames into `outPath`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const rawOutputArgs = (spec: {
  readonly chain: ReadonlyArray<string>
  readonly inputs: number
  readonly frameLimit: number | undefined
  readonly fileLimit: number
  readonly pixelFormat: string
  readonly outPath: string
}): Array<string> => [
  ...(spec.inputs > 1
    ? ["-filter_complex", `${spec.chain.join(",")}[picture]`, "-map", "[picture]"]
    : ["-map", "0:v:0", ...(spec.chain.length > 0 ? ["-vf", spec.chain.join(",")] : [])]),
  "-vsync",
  "0",
  ...(spec.frameLimit !== undefined ? ["-frames:v", String(spec.frameLimit)] : []),
  "-fs",
  String(spec.fileLimit),
  "-f",
  "rawvideo",
  "-pix_fmt",
  spec.pixelFormat,
  "-truncate",
  "0",
  "-y",
  spec.outPath
]

/**
 * Runs ffmpeg with `logArgs` then `args` for the video at `path`, and waits for it to end;
 * interrupting it kills its process group. A binary that cannot be started is `ProcessFailed`
 * keeping the spawn error as its `cause`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  ffmpeg: Ffmpeg["Service"],
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  path: string,
  args: ReadonlyArray<string>
): Effect.Effect<FfmpegProcess.Outcome, DecodeError> =>
  FfmpegProcess.run(ffmpeg.path, [...logArgs, ...args]).pipe(
    Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
    Effect.mapError((cause) =>
      new DecodeError({ path, reason: new ProcessFailed({ exitCode: null, stderr: "", cause }) })
    )
  )

/**
 * Fails with `ProcessFailed` (no exit code, the signal, what stderr explains) when a signal ended
 * the run; succeeds otherwise.
 *
 * @since 0.1.0
 * @category utils
 */
export const failIfSignalled = (
  path: string,
  outcome: FfmpegProcess.Outcome,
  report: FfmpegLog.Report
): Effect.Effect<void, DecodeError> =>
  outcome.exitCode !== null ? Effect.void : Effect.fail(
    new DecodeError({
      path,
      reason: new ProcessFailed({
        exitCode: null,
        ...(outcome.signal !== undefined ? { signal: outcome.signal } : {}),
        stderr: FfmpegLog.explain(report, "")
      })
    })
  )
