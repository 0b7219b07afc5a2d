/**
 * The decode plan every `VideoDecoder` follows, as pure code: valid options and a folder's images
 * here, the geometry, budget, frames and pixels re-exported from their `Plan*` modules.
 *
 * @since 0.2.0
 */
import { fitsImage, maxSide } from "./internal/PlanGeometry.ts"
import type { DecodeOptions } from "./Video.ts"

export * from "./internal/PlanBudget.ts"
export * from "./internal/PlanFrames.ts"
export * from "./internal/PlanGeometry.ts"
export * from "./internal/PlanPixels.ts"

/**
 * Image extensions read from a folder, and the decoder family of each.
 *
 * @since 0.2.0
 * @category folders
 */
export const imageFamilies: Readonly<Record<string, string>> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
  ".bmp": "bmp",
  ".webp": "webp"
}

/**
 * The images among a folder's entry names, in the order they decode (code point order of the
 * name); `[]` when there is none.
 *
 * @since 0.2.0
 * @category folders
 */
export const imagesOf = (names: ReadonlyArray<string>): Array<string> =>
  names
    .filter((name) => {
      const dot = name.lastIndexOf(".")
      return dot > 0 && imageFamilies[name.slice(dot).toLowerCase()] !== undefined
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * What a decoder says of a folder that holds no image.
 *
 * @since 0.2.0
 * @category folders
 */
export const noImages = "the folder holds no images (png, jpg, jpeg, bmp, webp)"

/**
 * The reason a failed file system call gives a decode: `NotFound`, `PermissionDenied`,
 * `NotRegularFile` for a symbolic link loop, or `InvalidData` with the call's own words.
 *
 * @since 0.2.0
 * @category validation
 */
export const errnoReason = (error: { readonly code?: string | undefined; readonly message: string }):
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "PermissionDenied" }
  | { readonly _tag: "NotRegularFile"; readonly kind: "symbolic link loop" }
  | { readonly _tag: "InvalidData"; readonly detail: string } =>
{
  switch (error.code) {
    case "ENOENT":
    case "ENOTDIR":
      return { _tag: "NotFound" }
    case "EACCES":
    case "EPERM":
      return { _tag: "PermissionDenied" }
    case "ELOOP":
      return { _tag: "NotRegularFile", kind: "symbolic link loop" }
    default: {
      // Node's messages already start with the code ("EIO: i/o error, read").
      const code = error.code ?? "error"
      return { _tag: "InvalidData", detail: error.message.startsWith(`${code}:`) ? error.message : `${code}: ${error.message}` }
    }
  }
}

/**
 * What is wrong with the numeric and enumerated options, one sentence each (empty when nothing
 * is). Decoders report them as `InvalidData` naming the option.
 *
 * @since 0.2.0
 * @category validation
 */
export const problems = (options: DecodeOptions): Array<string> => {
  const positive = (name: string, value: number | undefined, integer: boolean) =>
    value === undefined || (Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))
      ? undefined
      : `option ${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`
  return [
    positive("width", options.width, true),
    positive("height", options.height, true),
    positive("numFrames", options.numFrames, true),
    positive("maxFrames", options.maxFrames, true),
    positive("fps", options.fps, false),
    positive("end", options.end, false),
    positive("timeout", options.timeout, false),
    positive("openTimeout", options.openTimeout, false),
    positive("maxBytes", options.maxBytes, false),
    options.start !== undefined && !(Number.isFinite(options.start) && options.start >= 0)
      ? `option start must be a number >= 0, got ${options.start}`
      : undefined,
    options.start !== undefined && options.end !== undefined && options.end <= options.start
      ? `option end (${options.end}) must be after start (${options.start})`
      : undefined,
    options.width !== undefined && options.width > maxSide ? `option width must be at most ${maxSide} (FFmpeg's limit), got ${options.width}` : undefined,
    options.height !== undefined && options.height > maxSide ? `option height must be at most ${maxSide} (FFmpeg's limit), got ${options.height}` : undefined,
    options.width !== undefined && options.height !== undefined && options.width <= maxSide && options.height <= maxSide &&
      !fitsImage(options.width, options.height)
      ? `option width x height (${options.width}x${options.height}) is over FFmpeg's limit for one picture`
      : undefined,
    options.repeatFrames !== undefined && typeof options.repeatFrames !== "boolean"
      ? `option repeatFrames must be true or false, got ${String(options.repeatFrames)}`
      : undefined,
    options.pixelFormat !== undefined && options.pixelFormat !== "rgb24" && options.pixelFormat !== "gray"
      ? `option pixelFormat must be "rgb24" or "gray", got ${String(options.pixelFormat)}`
      : undefined
  ].filter((problem): problem is string => problem !== undefined)
}
