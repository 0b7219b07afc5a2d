/**
 * Frame access for metric kernels: the geometry of a tensor whatever its layout and type, its
 * frames as luma planes on the 0-255 scale, and the [0, 1] value of each uint8 level.
 *
 * @since 0.1.0
 */
import { VideoTensor } from "@vidpool/pool"

/**
 * A tensor's `VideoTensor.dimensions` plus what the kernels need to walk its data.
 *
 * @since 0.1.0
 * @category models
 */
export interface Geometry extends ReturnType<typeof VideoTensor.dimensions> {
  /** Elements in one frame (a frame is contiguous in both THWC and TCHW). */
  readonly frameSize: number
  /** Multiplier that brings a stored value to the 0-255 scale (255 for float32 tensors). */
  readonly scale: number
}

/**
 * @since 0.1.0
 * @category accessors
 */
export const geometry = (tensor: VideoTensor): Geometry => {
  const dims = VideoTensor.dimensions(tensor)
  return {
    ...dims,
    frameSize: dims.height * dims.width * dims.channels,
    scale: tensor.dtype === "float32" ? 255 : 1
  }
}

/**
 * Why two videos cannot be compared frame by frame, or `undefined` when they can.
 *
 * @since 0.1.0
 * @category accessors
 */
export const mismatch = (a: Geometry, b: Geometry): string | undefined => {
  if (a.frames !== b.frames) return `frame counts differ (${a.frames} vs ${b.frames})`
  if (a.height !== b.height || a.width !== b.width) {
    return `frame sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`
  }
  if (a.channels !== b.channels) return `channel counts differ (${a.channels} vs ${b.channels})`
  return undefined
}

/**
 * BT.601 luma weights, applied to R, G, B.
 *
 * @since 0.2.0
 * @category constants
 */
export const LUMA = { r: 0.299, g: 0.587, b: 0.114 } as const

/**
 * Writes frame `frame` of `tensor` into `out` (length `height * width`) as luma on the 0-255
 * scale: BT.601 (`0.299 R + 0.587 G + 0.114 B`) for 3 or more channels (a 4th is ignored), the
 * single channel itself for grey, the first channel otherwise.
 *
 * @since 0.1.0
 * @category kernels
 */
export const lumaFrame = (tensor: VideoTensor, frame: number, out: Float64Array): void => {
  const { height, width, channels, frameSize, scale } = geometry(tensor)
  const data = tensor.data
  const base = frame * frameSize
  const plane = height * width
  if (channels < 3) {
    if (tensor.layout === "THWC") {
      for (let p = 0; p < plane; p++) out[p] = data[base + p * channels] * scale
    } else {
      for (let p = 0; p < plane; p++) out[p] = data[base + p] * scale
    }
    return
  }
  const kr = LUMA.r * scale
  const kg = LUMA.g * scale
  const kb = LUMA.b * scale
  if (tensor.layout === "THWC") {
    for (let p = 0, i = base; p < plane; p++, i += channels) {
      out[p] = kr * data[i] + kg * data[i + 1] + kb * data[i + 2]
    }
  } else {
    for (let p = 0; p < plane; p++) {
      const i = base + p
      out[p] = kr * data[i] + kg * data[i + plane] + kb * data[i + 2 * plane]
    }
  }
}

/**
 * The value of each uint8 level on the [0, 1] scale as FastVideo's loaders give it: `v / 255`
 * rounded to float32 (`tensor.float() / 255.0`), so that the FastVideo-definition kernels start
 * from the very same inputs.
 *
 * @since 0.3.0
 * @category constants
 */
export const UNIT_LEVELS: Float64Array = (() => {
  const out = new Float64Array(256)
  for (let v = 0; v < 256; v++) out[v] = Math.fround(v / 255)
  return out
})()
