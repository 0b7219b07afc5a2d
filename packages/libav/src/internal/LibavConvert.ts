/**
 * The conversion of decoded frames into a libav decode's tensor: scale (swscale), then rotation,
 * crop, gray, dtype and layout, each frame written straight into the tensor's one buffer.
 *
 * @since 0.2.0
 */
import { type AVPixelFormat, AV_PIX_FMT_GBRP, AV_PIX_FMT_RGB24, SWS_BICUBIC } from "node-av/constants"
import { type Frame, SoftwareScaleContext } from "node-av/lib"
import { DecodePlan } from "@vidpool/pool"
import type { DecodeOptions } from "@vidpool/pool"
import { Failed, invalid } from "./LibavFailed.ts"
import type { Header } from "./LibavInput.ts"
import type { Lease } from "./Slab.ts"

/**
 * How one decoded frame is placed into the tensor.
 *
 * @since 0.2.0
 * @category models
 */
export interface Placement {
  readonly out: DecodePlan.Output
  /** Output frame size (after scale, rotation and crop). */
  readonly width: number
  readonly height: number
  /** The size swscale produces (before rotation; the rotated scaled size swapped back). */
  readonly scaleWidth: number
  readonly scaleHeight: number
  readonly rotation: number
  readonly crop: { readonly x: number; readonly y: number }
  /** swscale writes straight into the tensor (uint8, no rotation, no crop, rgb24). */
  readonly direct: boolean
}

/**
 * The placement of the frames of an input with `header`, for `options`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const placement = (header: Header, options: DecodeOptions): Placement => {
  const out = DecodePlan.output(options)
  const quarter = header.rotation === 90 || header.rotation === 270
  const shownW = quarter ? header.height : header.width
  const shownH = quarter ? header.width : header.height
  const { crop, scaled } = DecodePlan.geometry(shownW, shownH, options)
  const cropped = crop.x !== 0 || crop.y !== 0 || crop.width !== scaled.width || crop.height !== scaled.height
  return {
    out,
    width: crop.width,
    height: crop.height,
    scaleWidth: quarter ? scaled.height : scaled.width,
    scaleHeight: quarter ? scaled.width : scaled.height,
    rotation: header.rotation,
    crop: { x: crop.x, y: crop.y },
    direct: out.dtype === "uint8" && out.pixelFormat === "rgb24" && header.rotation === 0 && !cropped
  }
}

/** 0..255 as float32 in [0, 1]. */
const unit = Float32Array.from({ length: 256 }, (_, value) => value / 255)

/**
 * Writes one rgb24 frame of `scratch` (scaleWidth x scaleHeight, before rotation) into frame `t`
 * of the tensor: rotation, crop, gray, dtype and layout in one pass.
 */
const placeUnsafe = (scratch: Uint8Array, p: Placement, data: Uint8Array | Float32Array, t: number) => {
  const { height: H, width: W } = p
  const channels = p.out.channels
  const planar = p.out.layout === "TCHW" && channels > 1
  const base = t * H * W * channels
  const sw = p.scaleWidth
  const sh = p.scaleHeight
  const float = p.out.dtype === "float32"
  const gray = channels === 1
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // (x, y) in the rotated, uncropped frame, then back to the scratch frame.
      const rx = x + p.crop.x
      const ry = y + p.crop.y
      let sx: number
      let sy: number
      switch (p.rotation) {
        case 90:
          sx = ry
          sy = sh - 1 - rx
          break
        case 180:
          sx = sw - 1 - rx
          sy = sh - 1 - ry
          break
        case 270:
          sx = sw - 1 - ry
          sy = rx
          break
        default:
          sx = rx
          sy = ry
      }
      const src = (sy * sw + sx) * 3
      if (gray) {
        const v = DecodePlan.grayOf(scratch[src], scratch[src + 1], scratch[src + 2])
        data[base + y * W + x] = float ? unit[v] : v
      } else if (planar) {
        const pixel = base + y * W + x
        const plane = H * W
        data[pixel] = float ? unit[scratch[src]] : scratch[src]
        data[pixel + plane] = float ? unit[scratch[src + 1]] : scratch[src + 1]
        data[pixel + 2 * plane] = float ? unit[scratch[src + 2]] : scratch[src + 2]
      } else {
        const dst = base + (y * W + x) * 3
        data[dst] = float ? unit[scratch[src]] : scratch[src]
        data[dst + 1] = float ? unit[scratch[src + 1]] : scratch[src + 1]
        data[dst + 2] = float ? unit[scratch[src + 2]] : scratch[src + 2]
      }
    }
  }
}

/** Scales `frame` into `planes` (rgb24 or gbrp of `width` x `height`), making the scaler again when the frames change. */
const scaleIntoUnsafe = (
  sws: SoftwareScaleContext,
  state: { key: string },
  frame: Frame,
  width: number,
  height: number,
  format: number,
  planes: Array<Buffer>,
  strides: Array<number>
) => {
  const key = `${frame.width}x${frame.height}/${frame.format}`
  if (key !== state.key) {
    sws.getContext(frame.width, frame.height, frame.format as AVPixelFormat, width, height, format as AVPixelFormat, SWS_BICUBIC)
    if (sws.initContext() < 0) throw invalid(`cannot convert ${key} frames to ${width}x${height}`)
    state.key = key
  }
  const rows = sws.scaleSync(frame.data!, frame.linesize, 0, frame.height, planes, strides)
  if (rows !== height) throw invalid(`conversion of a frame failed (${rows} rows)`)
}

/**
 * Memory for `elements` of the dtype, from the decode's lease.
 *
 * @since 0.2.0
 * @category memory
 */
export const allocateUnsafe = (elements: number, float: boolean, memory: Pick<Lease, "take">): Uint8Array | Float32Array => {
  const buffer = memory.take(elements * (float ? 4 : 1))
  return float ? new Float32Array(buffer, 0, elements) : new Uint8Array(buffer, 0, elements)
}

/**
 * What converts the decoded frames of one decode into the tensor's frames.
 *
 * @since 0.2.0
 * @category models
 */
export interface Converter {
  /** Writes one decoded frame into frame slot `at` of `data`. */
  readonly write: (frame: Frame, data: Uint8Array | Float32Array, at: number) => void
  /** Frees the scaler; the converter is not used after. */
  readonly free: () => void
}

/**
 * The converter for frames placed by `p`: swscale straight into the tensor where it can (`direct`),
 * else into one scratch frame, allocated here once and counted against the budget (a `TooLarge`
 * when it alone is over it), then placed. Per frame it makes only the small views and plane
 * lists handed to swscale, no frame-sized memory.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeConverterUnsafe = (p: Placement): Converter => {
  const { out } = p
  const frameElements = p.width * p.height * out.channels
  // The scratch frame counts against the budget too.
  const scratchBytes = p.direct ? 0 : p.scaleWidth * p.scaleHeight * 3
  if (scratchBytes > out.maxBytes) throw new Failed({ _tag: "TooLarge", bytes: scratchBytes, limit: out.maxBytes })
  const scratch = p.direct ? undefined : Buffer.alloc(scratchBytes)
  const sws = new SoftwareScaleContext()
  const state = { key: "" }
  /** Writes one frame into slot `at` of `data`. */
  const write = (frame: Frame, data: Uint8Array | Float32Array, at: number) => {
    if (p.direct) {
      const bytes = data as Uint8Array
      const offset = bytes.byteOffset + at * frameElements
      if (out.layout === "TCHW") {
        const plane = p.width * p.height
        const view = (k: number) => Buffer.from(bytes.buffer, offset + k * plane, plane)
        // GBRP: planes G, B, R; the tensor's planes are R, G, B.
        scaleIntoUnsafe(sws, state, frame, p.width, p.height, AV_PIX_FMT_GBRP, [view(1), view(2), view(0)], [p.width, p.width, p.width])
      } else {
        scaleIntoUnsafe(sws, state, frame, p.width, p.height, AV_PIX_FMT_RGB24, [Buffer.from(bytes.buffer, offset, frameElements)], [p.width * 3])
      }
    } else {
      scaleIntoUnsafe(sws, state, frame, p.scaleWidth, p.scaleHeight, AV_PIX_FMT_RGB24, [scratch!], [p.scaleWidth * 3])
      placeUnsafe(scratch!, p, data, at)
    }
  }
  return { write, free: () => sws.freeContext() }
}
