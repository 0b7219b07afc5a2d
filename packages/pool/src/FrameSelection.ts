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
  /** Take this many frames at `floor(j * (n - 1) / (count - 1))`, like `np.linspace(..., dtype=int)`. */
  readonly numFrames?: number | undefined
  /** Keep the first `maxFrames` of what the other options selected. */
  readonly maxFrames?: number | undefined
}

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * Selects frames from `decoded` frames at `sourceFps`: first `fps`, then `numFrames`, then
 * `maxFrames`.
 *
 * @example
 * ```ts
 * import { FrameSelection } from "@vidpool/pool"
 *
 * FrameSelection.select(75, 25, { numFrames: 4 }).indices // [0, 24, 49, 74]
 * FrameSelection.select(75, 25, { fps: 5 }).indices.length // 15
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const select = (decoded: number, sourceFps: number, options: SelectionOptions): Selection => {
  let indices = range(decoded)
  let fps = sourceFps
  if (options.fps !== undefined && decoded > 0 && sourceFps > 0) {
    const step = sourceFps / options.fps
    // Frame k of the output is at k / fps; it shows the last decoded frame at or before that time.
    const count = Math.max(1, Math.ceil(decoded / step - 1e-9))
    indices = range(count).map((k) => Math.min(decoded - 1, Math.floor(k * step + 1e-9)))
    fps = options.fps
  }
  if (options.numFrames !== undefined && indices.length > 0) {
    const n = options.numFrames
    const from = indices
    const last = from.length - 1
    indices = n === 1 ? [from[0]] : range(n).map((j) => from[Math.floor((j * last) / (n - 1) + 1e-9)])
    if (n > 1 && last > 0) fps = (fps * (n - 1)) / last
  }
  if (options.maxFrames !== undefined && indices.length > options.maxFrames) {
    indices = indices.slice(0, options.maxFrames)
  }
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
