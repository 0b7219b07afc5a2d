/**
 * The frames a decode expects, as pure code: the count a header announces for the range, whether
 * a decode fell short of it (a file cut short) or reached the end (a variable rate). Part of `DecodePlan`.
 *
 * @since 0.2.0
 */
import type { DecodeOptions } from "../Video.ts"

/**
 * The rate a folder of images decodes at: image `k` is shown at `k / folderFps` seconds.
 *
 * @since 0.2.0
 * @category constants
 */
export const folderFps = 25

/**
 * What a header says of the frames to expect, read by either decoder.
 *
 * @since 0.2.0
 * @category models
 */
export interface Header {
  /** Seconds, when known. */
  readonly duration?: number | undefined
  /** Average frame rate; 0 when unknown. */
  readonly fps: number
  /** Streams in the container (audio may outlast the video). */
  readonly streams: number
}

/**
 * How many frames the header announces for the `start`/`end` range (capped at `frameLimit`), and
 * how many fewer still count as complete. For a folder, `images` counts its images. With other
 * streams the container's duration says little about the video, so only a shortfall together
 * with decode errors counts (`slack` is then infinite). `undefined` when the header cannot tell.
 *
 * @since 0.2.0
 * @category frames
 */
export const expectedFrames = (
  header: Header,
  images: number | undefined,
  options: DecodeOptions,
  frameLimit: number | undefined
): { readonly frames: number; readonly slack: number } | undefined => {
  let frames: number
  let slack: number
  if (images !== undefined) {
    frames = 0
    for (let k = 0; k < images; k++) {
      const t = k * (1 / folderFps)
      if ((options.start === undefined || t >= options.start) && (options.end === undefined || t < options.end)) frames++
    }
    slack = options.start !== undefined || options.end !== undefined ? 1 : 0
  } else {
    if (header.duration === undefined || header.fps <= 0) return undefined
    const from = options.start ?? 0
    const to = Math.min(options.end ?? Infinity, header.duration)
    frames = Math.max(0, Math.round((to - from) * header.fps))
    slack = header.streams > 1 ? Infinity : 1
    if (options.start !== undefined || options.end !== undefined) slack += 1
  }
  return { frames: frameLimit === undefined ? frames : Math.min(frames, frameLimit), slack }
}

/**
 * Whether `decoded` frames fall short of what was `expected` (see `expectedFrames`): the file is
 * cut short or damaged.
 *
 * @since 0.2.0
 * @category frames
 */
export const cutShort = (
  decoded: number,
  expected: { readonly frames: number; readonly slack: number } | undefined,
  errorsSeen: boolean
): boolean =>
  expected !== undefined && (decoded < expected.frames - expected.slack || (errorsSeen && decoded < expected.frames))

/**
 * Whether a decode whose frames in the range ended at `last` seconds, with `gap` the largest
 * step between two of its frames, reached the end of what it was asked for (`to`: the range's
 * end or the clip's duration, whichever comes first). What tells a variable-frame-rate clip
 * (fewer frames than duration x average rate, spread to the end) from a file cut short (its
 * frames stop early): a count alone cannot, once a range is asked for.
 *
 * @since 0.2.0
 * @category frames
 */
export const reachesEnd = (last: number | undefined, gap: number, fps: number, to: number): boolean => {
  if (last === undefined) return false
  if (!Number.isFinite(to)) return true
  const step = Math.max(gap, fps > 0 ? 1 / fps : 0)
  return last + 2 * step + 1e-3 >= to
}

/**
 * Presentation timestamps, in seconds, of the selected frames of a constant-rate decode: frame
 * `i` of the decoded range starts at `start + i / fps`.
 *
 * @since 0.2.0
 * @category frames
 */
export const constantRateTimestamps = (indices: ReadonlyArray<number>, fps: number, start: number): Array<number> =>
  indices.map((i) => (fps > 0 ? start + i / fps : start))
