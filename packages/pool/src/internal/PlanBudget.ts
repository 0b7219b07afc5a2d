/**
 * The budget of a decode, as pure code: the pixel side of the output (channels, dtype, layout, byte
 * limit) and the refusals checked by arithmetic before anything is allocated. Part of `DecodePlan`.
 *
 * @since 0.2.0
 */
import { constants as BufferConstants } from "node:buffer"
import * as FrameSelection from "../FrameSelection.ts"
import type { DecodeOptions } from "../Video.ts"
import type { DType, Layout } from "../VideoTensor.ts"

/**
 * The largest tensor decoded when no `maxBytes` is given: 2 GiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxBytes = 2 * 1024 ** 3

/**
 * The pixel side of a decode: what each frame is made of and the byte budget.
 *
 * @since 0.2.0
 * @category models
 */
export interface Output {
  readonly pixelFormat: "rgb24" | "gray"
  readonly channels: 1 | 3
  readonly dtype: DType
  readonly layout: Layout
  /** Bytes per element of the tensor: 1 for uint8, 4 for float32. */
  readonly elementBytes: 1 | 4
  /** The largest tensor allowed, in bytes. */
  readonly maxBytes: number
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const output = (options: DecodeOptions): Output => {
  const pixelFormat = options.pixelFormat ?? "rgb24"
  const dtype = options.dtype ?? "uint8"
  return {
    pixelFormat,
    channels: pixelFormat === "gray" ? 1 : 3,
    dtype,
    layout: options.layout ?? "THWC",
    elementBytes: dtype === "float32" ? 4 : 1,
    maxBytes: options.maxBytes ?? defaultMaxBytes
  }
}

/**
 * The bytes of a tensor of `frames` frames of `width` x `height`, and whether it fits the budget
 * (`maxBytes`, and the largest typed array Node can make). `limit` is what a `TooLarge` reports.
 *
 * @since 0.2.0
 * @category budget
 */
export const budget = (frames: number, width: number, height: number, out: Output): {
  readonly bytes: number
  readonly fits: boolean
  readonly limit: number
} => {
  const elements = frames * width * height * out.channels
  const bytes = elements * out.elementBytes
  return {
    bytes,
    fits: bytes <= out.maxBytes && elements <= BufferConstants.MAX_LENGTH,
    limit: Math.min(out.maxBytes, BufferConstants.MAX_LENGTH)
  }
}

/**
 * Why a tensor of `frames` frames of `width` x `height` cannot be made, by arithmetic on the
 * numbers alone (nothing is allocated): `TooLarge` with its true size over the budget, or
 * `InvalidData` for more frames than a selection lists (`FrameSelection.maxSelected`);
 * `undefined` when it can.
 *
 * @since 0.2.0
 * @category budget
 */
export const refusal = (frames: number, width: number, height: number, out: Output):
  | { readonly _tag: "TooLarge"; readonly bytes: number; readonly limit: number }
  | { readonly _tag: "InvalidData"; readonly detail: string }
  | undefined =>
{
  const need = budget(frames, width, height, out)
  if (!need.fits) return { _tag: "TooLarge", bytes: need.bytes, limit: need.limit }
  if (frames > FrameSelection.maxSelected) {
    return {
      _tag: "InvalidData",
      detail: `the options select ${frames} frames, more than the ${FrameSelection.maxSelected} a tensor may hold`
    }
  }
  return undefined
}

/**
 * The frames kept from `decoded` frames at `fps` (see `FrameSelection.selectUnsafe`), or why a tensor
 * of them, at `width` x `height`, cannot be made: counted before any array of that many frames
 * exists, so no option sizes memory before it is checked.
 *
 * @since 0.2.0
 * @category frames
 */
export const selectFrames = (
  decoded: number,
  fps: number,
  options: DecodeOptions,
  width: number,
  height: number,
  out: Output
): FrameSelection.Selection | NonNullable<ReturnType<typeof refusal>> =>
  refusal(FrameSelection.count(decoded, fps, options), width, height, out) ?? FrameSelection.selectUnsafe(decoded, fps, options)

/**
 * Whether `selectFrames` answered with a refusal rather than a selection.
 *
 * @since 0.2.0
 * @category frames
 */
export const isRefusal = (
  planned: FrameSelection.Selection | NonNullable<ReturnType<typeof refusal>>
): planned is NonNullable<ReturnType<typeof refusal>> => "_tag" in planned
