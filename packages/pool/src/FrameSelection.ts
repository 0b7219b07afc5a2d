/**
 * Which decoded frames make up a tensor: a target frame rate, `numFrames` spread uniformly,
 * then `maxFrames`, as indices into the frames a decoder decoded (in the `start`/`end` range).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface Selection {
  /** Indices into the decoded frames, one per tensor frame, in order (may repeat when upsampling). */
  readonly indices: ReadonlyArray<number>
  /** Frames per second of the selected frames. */
  readonly fps: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SelectionOptions {
  /**
   * Resample to this rate: tensor frame k shows the decoded frame on screen at time k / fps.
   * Ignored when the source rate is unknown (0).
   */
  readonly fps?: number | undefined
  /**
   * Take this many frames at `floor(j * (n - 1) / (count - 1))`, like `np.linspace(..., dtype=int)`.
   * A clip of `numFrames` frames or fewer is kept as it is, as FastVideo's `extract_frames` does,
   * unless `repeatFrames` is set.
   */
  readonly numFrames?: number | undefined
  /** With `numFrames` over the clip's frame count, repeat frames to give exactly `numFrames`. */
  readonly repeatFrames?: boolean | undefined
  /** Keep the first `maxFrames` of what the other options selected. */
  readonly maxFrames?: number | undefined
}

/**
 * The most frames a selection holds: a tensor of more frames is refused before any array of
 * that length is made (its size is a number a user typed, not memory anyone has).
 *
 * @since 0.2.0
 * @category constants
 */
export const maxSelected = 1_000_000

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** The frame step of resampling `sourceFps` to `fps`, when it applies. */
const resampling = (decoded: number, sourceFps: number, options: SelectionOptions) =>
  options.fps !== undefined && decoded > 0 && sourceFps > 0 ? sourceFps / options.fps : undefined

/**
 * How many frames `selectUnsafe` keeps, by arithmetic alone: what a decoder checks against its budget
 * (and `maxSelected`) before `selectUnsafe` makes an array of that length. May be far larger than
 * any memory, or infinite, for options such as `fps: 1e300`.
 *
 * @since 0.2.0
 * @category getters
 */
export const count = (decoded: number, sourceFps: number, options: SelectionOptions): number => {
  let n = decoded
  const step = resampling(decoded, sourceFps, options)
  if (step !== undefined) n = Math.max(1, Math.ceil(decoded / step - 1e-9))
  if (options.numFrames !== undefined && n > 0) {
    n = options.repeatFrames === true || options.numFrames < n ? options.numFrames : n
  }
  if (options.maxFrames !== undefined) n = Math.min(n, options.maxFrames)
  return n
}

/**
 * Selects frames from `decoded` frames at `sourceFps`: first `fps`, then `numFrames`, then
 * `maxFrames`. Throws a RangeError when that would keep more than `maxSelected` frames (see
 * `count`, which a caller checks first).
 *
 * @example
 * ```ts
 * import { FrameSelection } from "@vidpool/pool"
 *
 * FrameSelection.selectUnsafe(75, 25, { numFrames: 4 }).indices // [0, 24, 49, 74]
 * FrameSelection.selectUnsafe(75, 25, { fps: 5 }).indices.length // 15
 * FrameSelection.selectUnsafe(3, 25, { numFrames: 5 }).indices // [0, 1, 2]
 * FrameSelection.selectUnsafe(3, 25, { numFrames: 5, repeatFrames: true }).indices // [0, 0, 1, 1, 2]
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const selectUnsafe = (decoded: number, sourceFps: number, options: SelectionOptions): Selection => {
  const total = count(decoded, sourceFps, options)
  if (!(total <= maxSelected)) {
    throw new RangeError(`FrameSelection: the options select ${total} frames, over ${maxSelected}`)
  }
  // Each stage's array is at most `total` long, or the decoded frames (in memory already).
  const limit = (n: number) => (options.maxFrames === undefined ? n : Math.min(n, options.maxFrames))
  let fps = sourceFps
  let indices: Array<number>
  const step = resampling(decoded, sourceFps, options)
  if (step !== undefined) {
    // Frame k of the output is at k / fps; it shows the last decoded frame at or before that time.
    const wanted = Math.max(1, Math.ceil(decoded / step - 1e-9))
    // numFrames picks among the resampled frames only when it asks for fewer (or repeats);
    // otherwise resampled frames past `total` are never kept.
    const picks = options.numFrames !== undefined && (options.numFrames < wanted || options.repeatFrames === true)
    const made = picks ? wanted : limit(wanted)
    if (made > maxSelected) {
      // numFrames picks among more resampled frames than can be listed: pick by arithmetic.
      return pickResampled(decoded, step, wanted, total, options)
    }
    indices = range(made).map((k) => Math.min(decoded - 1, Math.floor(k * step + 1e-9)))
    fps = options.fps!
  } else {
    indices = range(decoded)
  }
  if (options.numFrames !== undefined && indices.length > 0) {
    const n = options.numFrames
    if (n < indices.length || options.repeatFrames === true) {
      const from = indices
      const last = from.length - 1
      const take = limit(n)
      indices = n === 1 ? [from[0]] : range(take).map((j) => from[Math.floor((j * last) / (n - 1) + 1e-9)])
      if (n > 1 && last > 0) fps = (fps * (n - 1)) / last
    }
  }
  if (options.maxFrames !== undefined && indices.length > options.maxFrames) {
    indices = indices.slice(0, options.maxFrames)
  }
  return { indices, fps }
}

/**
 * `numFrames` picked among `wanted` resampled frames, without listing them: pick `j` is resampled
 * frame `floor(j * (wanted - 1) / (n - 1))`, which shows decoded frame `floor(that * step)`. The
 * span `(wanted - 1) x step` is computed as such while it is finite (an fps of 1e308 makes
 * `wanted` infinite; the span is then the decoded frames').
 */
const pickResampled = (
  decoded: number,
  step: number,
  wanted: number,
  total: number,
  options: SelectionOptions
): Selection => {
  const n = options.numFrames!
  const span = Number.isFinite(wanted) && Number.isFinite((wanted - 1) * step) ? (wanted - 1) * step : decoded
  const at = (j: number) => Math.min(decoded - 1, Math.floor((j * span) / (n - 1) + 1e-9))
  const indices = n === 1 ? [0] : range(total).map(at)
  // n frames over span / sourceFps seconds (sourceFps = fps option x step).
  const sourceFps = options.fps! * step
  const fps = n > 1 && span > 0 ? ((n - 1) * sourceFps) / span : options.fps!
  return { indices, fps }
}

/**
 * Groups indices into runs of consecutive frames, so each run is one read: `[start, length]`.
 *
 * @since 0.1.0
 * @category utils
 */
export const runs = (indices: ReadonlyArray<number>): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  let start = -1
  let length = 0
  for (const index of indices) {
    if (length > 0 && index === start + length) {
      length++
    } else {
      if (length > 0) out.push([start, length])
      start = index
      length = 1
    }
  }
  if (length > 0) out.push([start, length])
  return out
}
