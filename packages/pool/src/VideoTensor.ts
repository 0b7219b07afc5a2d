/**
 * The decoded form of a video: one typed array of pixels plus its shape, layout and type.
 * `THWC` (frames, height, width, channels) is the default layout; `TCHW` is torch's.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export type Layout = "THWC" | "TCHW"

/**
 * `uint8` holds 0-255; `float32` holds values in [0, 1].
 *
 * @since 0.1.0
 * @category models
 */
export type DType = "uint8" | "float32"

/**
 * What is known of the source a tensor was decoded from.
 *
 * @since 0.1.0
 * @category models
 */
export interface SourceMetadata {
  readonly path: string
  readonly width?: number
  readonly height?: number
  readonly fps?: number
  readonly frameCount?: number
  readonly duration?: number
  readonly codec?: string
  readonly pixelFormat?: string
  readonly rotation?: number
  /** Frames the decoder decoded to make this tensor, kept or not (the work done, for a seek). */
  readonly decodedFrames?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface VideoTensor {
  readonly data: Uint8Array | Float32Array
  /** Four dimensions, in the order named by `layout`. */
  readonly shape: readonly [number, number, number, number]
  readonly layout: Layout
  readonly dtype: DType
  /** Frames per second of the decoded frames. */
  readonly fps: number
  /**
   * Presentation time of each frame, in seconds from the start of the stream (one per frame).
   * Decoders give the stream's own timestamps where they know them; `make` fills in a constant
   * rate (`i / fps`) when they are not given.
   */
  readonly timestamps?: ReadonlyArray<number>
  readonly source: SourceMetadata
}

/**
 * Frames, height, width and channels of a tensor, whatever its layout.
 *
 * @since 0.1.0
 * @category accessors
 */
export const dimensions = (tensor: VideoTensor): {
  readonly frames: number
  readonly height: number
  readonly width: number
  readonly channels: number
} => {
  const [t, a, b, c] = tensor.shape
  return tensor.layout === "THWC"
    ? { frames: t, height: a, width: b, channels: c }
    : { frames: t, channels: a, height: b, width: c }
}

/**
 * Makes a tensor, checking that the data length matches the shape and the array the dtype:
 * throws a RangeError or TypeError when they do not (a decoder's bug, not bad input).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeUnsafe = (tensor: VideoTensor): VideoTensor => {
  const [t, a, b, c] = tensor.shape
  const expected = t * a * b * c
  if (tensor.data.length !== expected) {
    throw new RangeError(
      `VideoTensor: data has ${tensor.data.length} elements, shape ${tensor.shape.join("x")} needs ${expected}`
    )
  }
  if ((tensor.dtype === "uint8") !== (tensor.data instanceof Uint8Array)) {
    throw new TypeError(`VideoTensor: dtype ${tensor.dtype} does not match ${tensor.data.constructor.name}`)
  }
  if (tensor.timestamps === undefined) {
    return { ...tensor, timestamps: Array.from({ length: t }, (_, i) => (tensor.fps > 0 ? i / tensor.fps : 0)) }
  }
  if (tensor.timestamps.length !== t) {
    throw new RangeError(`VideoTensor: ${tensor.timestamps.length} timestamps for ${t} frames`)
  }
  return tensor
}

/**
 * The functions above, under the type's name: `VideoTensor.makeUnsafe`, `VideoTensor.dimensions`.
 *
 * @since 0.1.0
 * @category namespace
 */
export const VideoTensor = { makeUnsafe, dimensions } as const
