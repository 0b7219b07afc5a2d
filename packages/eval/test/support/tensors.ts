/**
 * Small tensors for kernel tests.
 */
import { VideoTensor } from "@vidpool/pool"

export const tensor = (
  shape: readonly [number, number, number, number],
  fill: (i: number) => number,
  options: { readonly dtype?: "uint8" | "float32"; readonly layout?: "THWC" | "TCHW" } = {}
): VideoTensor => {
  const size = shape[0] * shape[1] * shape[2] * shape[3]
  const dtype = options.dtype ?? "uint8"
  const data = dtype === "uint8" ? new Uint8Array(size) : new Float32Array(size)
  for (let i = 0; i < size; i++) data[i] = fill(i)
  return VideoTensor.makeUnsafe({ data, shape, layout: options.layout ?? "THWC", dtype, fps: 25, source: { path: "memory" } })
}

/** A THWC uint8 tensor whose frames are given one plane (or interleaved frame) at a time. */
export const fromFrames = (
  frames: ReadonlyArray<ArrayLike<number>>,
  height: number,
  width: number,
  channels: number
): VideoTensor => {
  const n = height * width * channels
  const data = new Uint8Array(frames.length * n)
  frames.forEach((frame, f) => data.set(Array.from(frame), f * n))
  return VideoTensor.makeUnsafe({
    data,
    shape: [frames.length, height, width, channels],
    layout: "THWC",
    dtype: "uint8",
    fps: 25,
    source: { path: "memory" }
  })
}

/** The same pixels as float32 in [0, 1] and/or in TCHW layout. */
export const convert = (t: VideoTensor, options: { readonly dtype?: "uint8" | "float32"; readonly layout?: "THWC" | "TCHW" }): VideoTensor => {
  const [frames, height, width, channels] = t.shape
  const dtype = options.dtype ?? t.dtype
  const layout = options.layout ?? t.layout
  const data = dtype === "uint8" ? new Uint8Array(t.data.length) : new Float32Array(t.data.length)
  const k = dtype === "float32" ? 1 / 255 : 1
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const src = ((f * height + y) * width + x) * channels + c
          const dst = layout === "THWC" ? src : ((f * channels + c) * height + y) * width + x
          data[dst] = t.data[src] * k
        }
      }
    }
  }
  const shape = layout === "THWC"
    ? [frames, height, width, channels] as const
    : [frames, channels, height, width] as const
  return VideoTensor.makeUnsafe({ data, shape, layout, dtype, fps: t.fps, source: t.source })
}
