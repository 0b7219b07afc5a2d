/**
 * What one decode run produced, checked: ffmpeg's exit and report, the frames and bytes it wrote,
 * and which of the frames in the scratch file make the tensor, or the `DecodeError` that says why not.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { DecodeError, type DecodeOptions, DecodePlan, FrameSelection, InvalidData, ProcessFailed, TooLarge } from "@vidpool/pool"
import * as DecodeCommand from "./DecodeCommand.ts"
import * as FfmpegLog from "../FfmpegLog.ts"
import type * as FfmpegProcess from "../FfmpegProcess.ts"
import type * as Input from "./Input.ts"
import * as ScratchFile from "./ScratchFile.ts"

/**
 * The frames picked inside ffmpeg from the header's count: the selection, and the distinct
 * indices ffmpeg writes (in order).
 *
 * @since 0.2.0
 * @category models
 */
export interface Plan {
  readonly selection: FrameSelection.Selection
  readonly unique: ReadonlyArray<number>
}

/**
 * A run that passed the checks: the frames of the tensor and where they are in the scratch file.
 *
 * @since 0.2.0
 * @category models
 */
export interface Checked {
  readonly selection: FrameSelection.Selection
  /** For each frame of the tensor, its position among the frames written to the scratch file. */
  readonly positions: ReadonlyArray<number>
  /** Frames in the decoded range (the source's frame count). */
  readonly decoded: number
  readonly width: number
  readonly height: number
  readonly frameBytes: number
  readonly info: FfmpegLog.InputInfo
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const fail = (path: string, reason: DecodeError["reason"]): Effect.Effect<never, DecodeError> =>
  Effect.fail(new DecodeError({ path, reason }))

/**
 * @since 0.2.0
 * @category constructors
 */
export const invalid = (path: string, detail: string): Effect.Effect<never, DecodeError> =>
  fail(path, new InvalidData({ detail }))

/**
 * The tensor would take `bytes`: `TooLarge` against the limit of `out`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const tooLarge = (path: string, out: DecodePlan.Output, bytes: number): Effect.Effect<never, DecodeError> =>
  fail(path, new TooLarge({ bytes, limit: DecodePlan.budget(0, 0, 0, out).limit }))

/**
 * A plan's refusal as the error it stands for.
 *
 * @since 0.2.0
 * @category constructors
 */
export const refuse = (
  path: string,
  out: DecodePlan.Output,
  refused: NonNullable<ReturnType<typeof DecodePlan.refusal>>
): Effect.Effect<never, DecodeError> =>
  refused._tag === "TooLarge" ? tooLarge(path, out, refused.bytes) : invalid(path, refused.detail)

const cutShort = (text: string, report: FfmpegLog.Report, errorsSeen: boolean) =>
  `${text}; the file is cut short or damaged` + (errorsSeen ? ` (${FfmpegLog.explain(report, "")})` : "")

/** A finished decode run, as `check` reads it. */
interface Run {
  readonly path: string
  readonly options: DecodeOptions
  readonly input: Input.Input
  readonly out: DecodePlan.Output
  readonly outcome: FfmpegProcess.Outcome
  readonly report: FfmpegLog.Report
  readonly plan: Plan | undefined
  readonly announced: number | undefined
  readonly rawLimit: number
  readonly scratchFd: number
}

/** The frames of the tensor: the selection, where each is among the frames written, and the frames decoded. */
interface Picked {
  readonly selection: FrameSelection.Selection
  readonly positions: ReadonlyArray<number>
  readonly decoded: number
}

/**
 * The run ended well: not killed, exit 0, a video stream found, frames written that fit `rawLimit`
 * and are all in the scratch file. Returns what it wrote.
 */
const checkWritten = Effect.fnUntraced(function*(run: Run) {
  const { options, out, outcome, path, report } = run
  yield* DecodeCommand.failIfSignalled(path, outcome, report)
  if (outcome.exitCode !== 0) {
    const detail = FfmpegLog.explain(report, `ffmpeg exited with code ${outcome.exitCode}`)
    if (/No space left on device|Cannot allocate memory/.test(outcome.stderr)) {
      return yield* fail(path, new ProcessFailed({ exitCode: outcome.exitCode, stderr: detail }))
    }
    return yield* invalid(path, detail)
  }
  const info = report.input
  if (info === undefined) return yield* invalid(path, FfmpegLog.explain(report, "ffmpeg found no video stream"))
  const written = report.framesWritten ?? 0
  if (report.output === undefined || written === 0) {
    return yield* invalid(
      path,
      options.start !== undefined || options.end !== undefined
        ? "no frame in the requested start/end range"
        : FfmpegLog.explain(report, "ffmpeg decoded no frame")
    )
  }
  const { height, width } = report.output
  const frameBytes = width * height * out.channels
  // ffmpeg stopped at -fs: the frames it had to decode exceed maxBytes.
  if (written * frameBytes > run.rawLimit) return yield* tooLarge(path, out, written * frameBytes * out.elementBytes)
  // The scratch file is reused, so it may be longer than this output, never shorter.
  const bytes = yield* ScratchFile.size(run.scratchFd)
  if (bytes < written * frameBytes) return yield* invalid(path, `ffmpeg reported ${written} frames but wrote ${bytes} bytes`)
  return { info, written, width, height, frameBytes }
})

/** The frames ffmpeg picked by `plan`: every planned frame must have been written. */
const pickPlanned = (run: Run, plan: Plan, written: number): Effect.Effect<Picked, DecodeError> => {
  if (written < plan.unique.length) {
    const text = `ffmpeg decoded fewer frames than the file announces (${run.announced})`
    return invalid(run.path, cutShort(text, run.report, run.report.errors.length > 0))
  }
  const position = new Map(plan.unique.map((index, i) => [index, i]))
  return Effect.succeed({
    selection: plan.selection,
    positions: plan.selection.indices.map((index) => position.get(index) ?? 0),
    decoded: run.announced ?? written
  })
}

/**
 * The frames picked from every frame written: fewer than the header announces is a file cut short,
 * unless they spread to the end of the range without an error (a variable frame rate).
 */
const pickWritten = (
  run: Run,
  written: { readonly info: FfmpegLog.InputInfo; readonly written: number; readonly width: number; readonly height: number }
): Effect.Effect<Picked, DecodeError> => {
  const { input, options, out, path, report } = run
  const { info, width, height } = written
  const decoded = written.written
  const errorsSeen = report.errors.length > 0
  const subsampled = options.numFrames !== undefined || options.fps !== undefined
  const expected = DecodePlan.expectedFrames(info, input.images, options, subsampled ? undefined : options.maxFrames)
  // Fewer frames than duration x rate, without an error, spread to the end of the range: a
  // variable frame rate, not a file cut short.
  const rangeEnd = Math.min(options.end ?? Infinity, input.images === undefined ? info.duration ?? Infinity : Infinity)
  const spread = report.timeWritten !== undefined && report.timeWritten - (options.start ?? 0) > 0
    ? (report.timeWritten - (options.start ?? 0)) / decoded
    : 0
  const variableRate = !errorsSeen && input.images === undefined &&
    DecodePlan.reachesEnd(report.timeWritten, spread, info.fps, rangeEnd)
  if (expected !== undefined && DecodePlan.cutShort(decoded, expected, errorsSeen) && !variableRate) {
    return invalid(path, cutShort(`ffmpeg decoded ${decoded} frames but the file announces ${expected.frames}`, report, errorsSeen))
  }
  if (options.fps !== undefined && !(info.fps > 0)) {
    return invalid(path, "the clip's frame rate is unknown, so it cannot be resampled to the fps option")
  }
  const selected = DecodePlan.selectFrames(decoded, info.fps, options, width, height, out)
  if (DecodePlan.isRefusal(selected)) return refuse(path, out, selected)
  return Effect.succeed({ selection: selected, positions: selected.indices, decoded })
}

/**
 * Checks a finished decode run: it was not killed, exited 0, found a video stream and wrote
 * frames that fit `rawLimit` and the scratch file `scratchFd`; then picks the tensor's frames
 * (from `plan` when ffmpeg picked them, else from every frame written) and checks their budget.
 *
 * @since 0.2.0
 * @category checks
 */
export const check = Effect.fnUntraced(function*(run: Run) {
  const written = yield* checkWritten(run)
  const { frameBytes, height, info, width } = written
  const { decoded, positions, selection } = run.plan !== undefined
    ? yield* pickPlanned(run, run.plan, written.written)
    : yield* pickWritten(run, written)
  const refused = DecodePlan.refusal(selection.indices.length, width, height, run.out)
  if (refused !== undefined) return yield* refuse(run.path, run.out, refused)
  return { selection, positions, decoded, width, height, frameBytes, info } satisfies Checked
})
