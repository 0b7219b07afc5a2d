/**
 * One decode, synchronously, with FFmpeg's libraries (node-av): runs on a decode worker thread,
 * never on the main thread. It follows the shared `DecodePlan` (options, geometry, budget,
 * expected frames, frame selection) and converts each kept frame straight into the tensor's one
 * buffer, allocated once at its exact size.
 *
 * @since 0.2.0
 */
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import { Decoder, Demuxer } from "node-av/api"
import { AV_LOG_QUIET, type AVPixelFormat, AV_PIX_FMT_GBRP, AV_PIX_FMT_RGB24, AV_PKT_DATA_DISPLAYMATRIX, AVSEEK_FLAG_BACKWARD, SWS_BICUBIC } from "node-av/constants"
import { avGetCodecName, avGetPixFmtName, type Frame, getFFmpegInfo, Log, SoftwareScaleContext } from "node-av/lib"
import { DecodePlan, FrameSelection } from "@vidpool/pool"
import type { DecodeOptions, SourceMetadata } from "@vidpool/pool"
import type { DecodeFailure, DecodeRequest, DecodeSuccess } from "./Protocol.ts"
import type { Lease } from "./Slab.ts"

/** Thrown inside a decode to end it with a typed reason. */
class Failed extends Error {
  constructor(readonly failure: DecodeFailure) {
    super(failure._tag)
  }
}

/** Thrown when the caller set the cancel flag. */
class Cancelled extends Error {}

const invalid = (detail: string) => new Failed({ _tag: "InvalidData", detail })

/**
 * The FFmpeg version the addon carries (`getFFmpegInfo().version`).
 *
 * @since 0.2.0
 * @category metadata
 */
export const ffmpegVersion = (): string => String(getFFmpegInfo().version)

/**
 * Silences FFmpeg's own logging on this thread (its lines would land in the middle of the
 * caller's output); failures reach the caller as typed reasons instead.
 *
 * @since 0.2.0
 * @category metadata
 */
export const quiet = (): void => {
  Log.setLevel(AV_LOG_QUIET)
}

/** NotFound / PermissionDenied / InvalidData from a failed file system call. */
const fromErrno = (error: NodeJS.ErrnoException): Failed => new Failed(DecodePlan.errnoReason(error))

/** Checks that `path` exists and can be read, and what it is. */
const inspect = (path: string, source: "file" | "folder"): ReadonlyArray<string> | undefined => {
  let stats: Fs.Stats
  try {
    stats = Fs.statSync(path)
  } catch (error) {
    throw fromErrno(error as NodeJS.ErrnoException)
  }
  if (source === "folder") {
    if (!stats.isDirectory()) throw invalid("not a folder of images")
    let names: Array<string>
    try {
      names = Fs.readdirSync(path)
    } catch (error) {
      throw fromErrno(error as NodeJS.ErrnoException)
    }
    const images = DecodePlan.imagesOf(names).map((name) => NodePath.join(path, name))
    if (images.length === 0) throw invalid(DecodePlan.noImages)
    return images
  }
  if (stats.isDirectory()) throw invalid("this is a folder, not a video file (give it as Video.folder for images)")
  // Opening a pipe would block this thread inside FFmpeg until a writer comes; the command-line
  // decoder, one process per video, reads those.
  if (!stats.isFile()) throw invalid("not a regular file (a pipe or a device): decode it with the ffmpeg decoder")
  try {
    // Opening without blocking proves read permission (a FIFO would otherwise wait for a writer).
    Fs.closeSync(Fs.openSync(path, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK))
  } catch (error) {
    throw fromErrno(error as NodeJS.ErrnoException)
  }
  return undefined
}

/** The clockwise rotation (0, 90, 180, 270) a display matrix asks for, as FFmpeg's autorotate. */
const rotationOf = (matrix: Buffer | null | undefined): number => {
  if (matrix === null || matrix === undefined || matrix.byteLength < 36) return 0
  const m = new Int32Array(matrix.buffer.slice(matrix.byteOffset, matrix.byteOffset + 36))
  const s0 = Math.hypot(m[0] / 65536, m[3] / 65536)
  const s1 = Math.hypot(m[1] / 65536, m[4] / 65536)
  if (s0 === 0 || s1 === 0) return 0
  // av_display_rotation_get is counter-clockwise; the display needs the opposite turn.
  const counter = -(Math.atan2(m[1] / 65536 / s1, m[0] / 65536 / s0) * 180) / Math.PI
  const clockwise = ((Math.round(-counter / 90) * 90) % 360 + 360) % 360
  return clockwise
}

type Stream = NonNullable<ReturnType<Demuxer["video"]>>

const seconds = (value: bigint | number, base: { readonly num: number; readonly den: number }): number =>
  (Number(value) * base.num) / base.den

/** What the header of one input says. */
interface Header {
  readonly width: number
  readonly height: number
  readonly rotation: number
  readonly fps: number
  readonly duration: number | undefined
  /** Whether `duration` is the video stream's own (not the container's, which audio may set). */
  readonly ownDuration: boolean
  /** Frames the container's index announces (0 when it has none). */
  readonly indexed: number
  readonly streams: number
  readonly codec: string
  readonly pixelFormat: string
}

const readHeader = (demuxer: Demuxer, stream: Stream): Header => {
  const par = stream.codecpar
  const rate = stream.avgFrameRate.num > 0 && stream.avgFrameRate.den > 0 ? stream.avgFrameRate : stream.rFrameRate
  const fps = rate.num > 0 && rate.den > 0 ? rate.num / rate.den : 0
  const streamDuration = Number(stream.duration) > 0 ? seconds(stream.duration, stream.timeBase) : undefined
  const duration = streamDuration ?? (demuxer.duration > 0 ? demuxer.duration : undefined)
  return {
    width: par.width,
    height: par.height,
    rotation: rotationOf(par.getCodedSideData(AV_PKT_DATA_DISPLAYMATRIX)),
    fps,
    duration,
    ownDuration: streamDuration !== undefined,
    indexed: Math.max(0, Number(stream.nbFrames)),
    streams: demuxer.streams.length,
    codec: avGetCodecName(par.codecId) ?? "unknown",
    pixelFormat: avGetPixFmtName(par.format as AVPixelFormat) ?? "unknown"
  }
}

/** How one decoded frame is placed into the tensor. */
interface Placement {
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

const placement = (header: Header, options: DecodeOptions): Placement => {
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
const place = (scratch: Uint8Array, p: Placement, data: Uint8Array | Float32Array, t: number) => {
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

/** The resources of one opened input, freed by `close`. */
interface Opened {
  readonly demuxer: Demuxer
  readonly stream: Stream
  readonly header: Header
}

const open = (path: string): Opened => {
  let demuxer: Demuxer
  try {
    demuxer = Demuxer.openSync(path)
  } catch (error) {
    throw invalid(`FFmpeg cannot open the file: ${(error as Error).message}`)
  }
  const stream = demuxer.video()
  if (stream === undefined || stream === null) {
    demuxer.closeSync()
    throw invalid("FFmpeg found no video stream in the file")
  }
  return { demuxer, stream, header: readHeader(demuxer, stream) }
}

/**
 * Decodes the frames of one input whose presentation time (relative to the stream's start) is
 * in [from, to), handing each to `keep(index, frame, seconds)` with its index in that range (it
 * answers whether to go on), and returns how many there were. Seeks to the keyframe at or before
 * `from` first; where the seek fails or lands after `from` (raw streams, MPEG-TS without an
 * index), it opens the input again and seeks further back, and at last reads from the start.
 * Checks `cancelled` between frames.
 */
const decodeRange = (
  input: { opened: Opened; readonly path: string },
  from: number,
  to: number,
  threads: number,
  cancelled: () => boolean,
  keep: (index: number, frame: Frame, seconds: number) => boolean,
  counters: { decoded: number }
): number => {
  for (let back = 0, attempt = 0; ; back = back === 0 ? 2 : back * 4, attempt++) {
    if (attempt > 0) {
      input.opened.demuxer.closeSync()
      input.opened = open(input.path)
    }
    const { demuxer, header, stream } = input.opened
    const base = Number(stream.startTime) > 0 ? seconds(stream.startTime, stream.timeBase) : 0
    const target = from - back
    const seeking = from > 0 && target > 0
    if (seeking && demuxer.seekSync(demuxer.startTime + target, -1, AVSEEK_FLAG_BACKWARD) < 0) continue
    const decoder = Decoder.createSync(stream, { exitOnError: false, context: { threadCount: threads } })
    let index = 0
    let seen = 0
    let retry = false
    try {
      for (const frame of decoder.framesSync(demuxer.packetsSync(stream.index))) {
        if (frame === null) break
        try {
          if (cancelled()) throw new Cancelled()
          counters.decoded++
          const pts = frame.pts
          const known = pts !== undefined && pts !== null && Number(pts) > -1e15
          // Without a timestamp, the frame's place in the stream at its rate (only from the start).
          const t = known ? seconds(pts, stream.timeBase) - base : seen / (header.fps > 0 ? header.fps : 25)
          if (seen++ === 0 && seeking && t > from + 1e-3) {
            retry = true
            break
          }
          if (t + 1e-6 < from) continue
          if (t + 1e-6 >= to) break
          const more = keep(index, frame, t)
          index++
          if (!more) break
        } finally {
          frame.free()
        }
      }
    } finally {
      decoder.close()
    }
    // A seek followed by no frame at all is a seek that failed.
    if (seeking && seen === 0) retry = true
    if (!retry) return index
  }
}

/**
 * Decodes one request into a tensor (or a typed failure). `cancel[0]` set to 1 by the caller ends
 * the decode at the next frame, as `stop()` answering true does (the thread's own flag). The
 * tensor's memory comes from `memory` (the thread's slab, a consumer's spare, or fresh); the caller
 * ends the lease with the tensor it keeps.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = (
  request: DecodeRequest,
  cancel: Int32Array,
  stop: () => boolean = () => false,
  memory: Pick<Lease, "take"> = { take: (bytes) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer }
): DecodeSuccess | DecodeFailure | "cancelled" => {
  try {
    return decodeUnsafe(request, () => stop() || Atomics.load(cancel, 0) !== 0, memory)
  } catch (error) {
    if (error instanceof Cancelled) return "cancelled"
    if (error instanceof Failed) return error.failure
    return { _tag: "InvalidData", detail: `FFmpeg failed: ${(error as Error).message ?? String(error)}` }
  }
}

const scaleInto = (
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

/** Memory for `elements` of the dtype, from the decode's lease. */
const allocate = (elements: number, float: boolean, memory: Pick<Lease, "take">): Uint8Array | Float32Array => {
  const buffer = memory.take(elements * (float ? 4 : 1))
  return float ? new Float32Array(buffer, 0, elements) : new Uint8Array(buffer, 0, elements)
}

const decodeUnsafe = (
  request: DecodeRequest,
  cancelled: () => boolean,
  memory: Pick<Lease, "take">
): DecodeSuccess => {
  const { options, path } = request
  const images = inspect(path, request.source)
  // The first input's header plans the decode (a folder's images are one frame each).
  const input = { opened: open(images?.[0] ?? path), path: images?.[0] ?? path }
  try {
    const header = input.opened.header
    const p = placement(header, options)
    const { out } = p
    if (!DecodePlan.fitsImage(p.scaleWidth, p.scaleHeight)) {
      throw invalid(`the frames would be scaled to ${p.scaleWidth}x${p.scaleHeight}, over FFmpeg's limit for one picture (${DecodePlan.maxSide} pixels a side)`)
    }
    const fps = images !== undefined ? DecodePlan.folderFps : header.fps
    const from = options.start ?? 0
    const to = options.end ?? Infinity
    const subsampled = options.numFrames !== undefined || options.fps !== undefined
    if (options.fps !== undefined && !(fps > 0)) {
      throw invalid("the clip's frame rate is unknown, so it cannot be resampled to the fps option")
    }
    // What the header announces for the range: the index's frame count when there is one and no
    // range is asked for (it tells a file cut short from a variable frame rate); else the images
    // of a folder in the range, or duration x rate.
    const ranged = options.start !== undefined || options.end !== undefined
    // The video's own duration says what the range holds, whatever other streams there are:
    // the frames' timestamps then tell a file cut short from a variable frame rate.
    const streams = header.ownDuration ? 1 : header.streams
    const fromHeader = DecodePlan.expectedFrames({ duration: header.duration, fps, streams }, images?.length, options, undefined)
    const indexed = images === undefined && header.indexed > 0 && !ranged
    const announced = indexed ? header.indexed : fromHeader?.frames
    const slack = indexed || images !== undefined ? (images !== undefined && ranged ? 1 : 0) : fromHeader?.slack ?? 0

    const frameElements = p.width * p.height * out.channels
    /** Fails the decode when a tensor of `frames` frames cannot be made (before it is allocated). */
    const refuse = (frames: number) => {
      const refused = DecodePlan.refusal(frames, p.width, p.height, out)
      if (refused !== undefined) throw new Failed(refused)
    }
    const tooLarge = (frames: number): Failed => {
      const need = DecodePlan.budget(frames, p.width, p.height, out)
      return new Failed({ _tag: "TooLarge", bytes: need.bytes, limit: need.limit })
    }
    const fits = (frames: number) => DecodePlan.budget(frames, p.width, p.height, out).fits
    /** The frames `options` keep of `decoded`, refused before any list of them is made. */
    const selectOf = (decoded: number, rate: number) => {
      const selected = DecodePlan.selectFrames(decoded, rate, options, p.width, p.height, out)
      if (DecodePlan.isRefusal(selected)) throw new Failed(selected)
      return selected
    }
    // What the header announces is checked before anything is allocated: the true size of the
    // tensor the options ask for, not a frame at a time.
    if (announced !== undefined && announced > 0) {
      if (subsampled) refuse(FrameSelection.count(announced, fps, options))
      else refuse(Math.min(announced, options.maxFrames ?? Infinity))
    }
    // The scratch frame counts against the budget too.
    const scratchBytes = p.direct ? 0 : p.scaleWidth * p.scaleHeight * 3
    if (scratchBytes > out.maxBytes) throw new Failed({ _tag: "TooLarge", bytes: scratchBytes, limit: out.maxBytes })
    const scratch = p.direct ? undefined : Buffer.alloc(scratchBytes)
    const sws = new SoftwareScaleContext()
    const state = { key: "" }
    const counters = { decoded: 0 }
    const float = out.dtype === "float32"

    /** Writes one frame into slot `at` of `data`. */
    const write = (frame: Frame, data: Uint8Array | Float32Array, at: number) => {
      if (p.direct) {
        const bytes = data as Uint8Array
        const offset = bytes.byteOffset + at * frameElements
        if (out.layout === "TCHW") {
          const plane = p.width * p.height
          const view = (k: number) => Buffer.from(bytes.buffer, offset + k * plane, plane)
          // GBRP: planes G, B, R; the tensor's planes are R, G, B.
          scaleInto(sws, state, frame, p.width, p.height, AV_PIX_FMT_GBRP, [view(1), view(2), view(0)], [p.width, p.width, p.width])
        } else {
          scaleInto(sws, state, frame, p.width, p.height, AV_PIX_FMT_RGB24, [Buffer.from(bytes.buffer, offset, frameElements)], [p.width * 3])
        }
      } else {
        scaleInto(sws, state, frame, p.scaleWidth, p.scaleHeight, AV_PIX_FMT_RGB24, [scratch!], [p.scaleWidth * 3])
        place(scratch!, p, data, at)
      }
    }

    /**
     * Decodes the range, keeping the frames `slotOf` gives a slot (in a buffer of `capacity`
     * frames that grows, within the budget, when `growable`), until `done(index)`.
     */
    const decodeInto = (
      capacity: number,
      growable: boolean,
      slotOf: (index: number) => number | undefined,
      done: (index: number) => boolean
    ) => {
      let data = allocate(capacity * frameElements, float, memory)
      let filled = 0
      const stamps: Array<number> = []
      // The last frame in the range and the largest step between two: whether the decode
      // reached the range's end (see DecodePlan.reachesEnd).
      let last: number | undefined
      let gap = 0
      const keep = (index: number, frame: Frame, t: number): boolean => {
        if (last !== undefined && t > last) gap = Math.max(gap, t - last)
        last = last === undefined ? t : Math.max(last, t)
        const at = slotOf(index)
        if (at !== undefined) {
          if ((at + 1) * frameElements > data.length) {
            if (!growable) return false
            const frames = Math.max(at + 1, Math.ceil((data.length / frameElements) * 1.5))
            const target = fits(frames) ? frames : at + 1
            if (!fits(target)) throw tooLarge(target)
            const bigger = allocate(target * frameElements, float, memory)
            bigger.set(data.subarray(0, filled * frameElements))
            data = bigger
          }
          write(frame, data, at)
          stamps[at] = t
          filled = Math.max(filled, at + 1)
        }
        return !done(index)
      }
      let inRange = 0
      if (images === undefined) {
        inRange = decodeRange(input, from, to, request.threads, cancelled, keep, counters)
      } else {
        // One image per input, image k at k / folderFps; each is opened, decoded and closed.
        for (let k = 0; k < images.length; k++) {
          const t = k / DecodePlan.folderFps
          if (t + 1e-9 < from || t + 1e-9 >= to) continue
          const image = k === 0 ? input : { opened: open(images[k]), path: images[k] }
          let more = true
          try {
            const before = counters.decoded
            decodeRange(image, 0, Infinity, 1, cancelled, (_index, frame) => {
              more = keep(inRange, frame, t)
              return false
            }, counters)
            if (counters.decoded === before) throw invalid(`FFmpeg decoded no picture from ${images[k]}`)
          } finally {
            if (k > 0) image.opened.demuxer.closeSync()
          }
          inRange++
          if (!more) break
        }
      }
      return { data, filled, stamps, inRange, last, gap }
    }
    /** The end of what the range asks for: its end, or the clip's duration. */
    const rangeEnd = Math.min(to, images === undefined ? header.duration ?? Infinity : Infinity)
    /** A shortfall against a count from duration x rate: frames spread to the end are a variable rate. */
    const spreadToEnd = (r: { readonly last: number | undefined; readonly gap: number }) =>
      !indexed && images === undefined && DecodePlan.reachesEnd(r.last, r.gap, fps, rangeEnd)

    try {
      let planned: FrameSelection.Selection | undefined
      let rate = fps
      let result: ReturnType<typeof decodeInto> | undefined
      let slots: Map<number, number> | undefined
      if (subsampled && announced !== undefined && announced > 0) {
        // The selection from the header's count: only the picked frames are converted.
        planned = selectOf(announced, fps)
        const unique = [...new Set(planned.indices)]
        slots = new Map(unique.map((index, i) => [index, i]))
        const last = unique[unique.length - 1]
        result = decodeInto(unique.length, false, (index) => slots!.get(index), (index) => index >= last)
        if (result.inRange <= last) {
          // Fewer frames than announced: cut short, or a header that said too much.
          if (result.inRange + slack < announced && !spreadToEnd(result)) {
            throw invalid(`FFmpeg decoded ${result.inRange} frames but the file announces ${announced}; the file is cut short or damaged`)
          }
          planned = undefined
          slots = undefined
          result = undefined
          input.opened.demuxer.closeSync()
          input.opened = open(input.path)
        }
      }
      if (result === undefined) {
        // Every frame of the range (up to maxFrames), in a buffer that grows within the budget.
        const limit = subsampled ? Infinity : options.maxFrames ?? Infinity
        const guess = announced !== undefined && announced > 0 ? announced : Math.ceil((header.duration ?? 2) * (fps > 0 ? fps : 25))
        let capacity = Math.max(1, Math.min(limit, guess))
        while (capacity > 1 && !fits(capacity)) capacity = Math.floor(capacity / 2)
        if (!fits(capacity)) throw tooLarge(Math.min(limit, Math.max(1, guess)))
        result = decodeInto(capacity, true, (index) => (index < limit ? index : undefined), (index) => index + 1 >= limit)
        const expected = announced === undefined ? undefined : Math.min(announced, limit)
        if (result.inRange === 0) {
          throw invalid(counters.decoded === 0 ? "FFmpeg decoded no frame" : "no frame in the requested start/end range")
        }
        if (expected !== undefined && DecodePlan.cutShort(result.inRange, { frames: expected, slack }, false) && !spreadToEnd(result)) {
          throw invalid(`FFmpeg decoded ${result.inRange} frames but the file announces ${expected}; the file is cut short or damaged`)
        }
        // A raw stream has no container to say its rate (the header's is a guess): its frames'
        // own timestamps do.
        const stamps = result.stamps
        if (images === undefined && header.duration === undefined && result.filled > 1) {
          const span = stamps[result.filled - 1] - stamps[0]
          if (span > 0) rate = (result.filled - 1) / span
        }
        if (subsampled) planned = selectOf(result.inRange, rate)
      }
      const { data: sink, stamps } = result
      const order = planned?.indices ?? Array.from({ length: result.filled }, (_, i) => i)
      const slotOf = (index: number) => slots?.get(index) ?? index
      const frames = order.length
      refuse(frames)
      let data: Uint8Array | Float32Array
      const identity = order.every((index, i) => slotOf(index) === i)
      if (identity && sink.length === frames * frameElements) {
        data = sink
      } else {
        // Repeats (upsampling), a selection from every frame, or a buffer larger than the frames.
        data = allocate(frames * frameElements, float, memory)
        order.forEach((index, i) => {
          const start = slotOf(index) * frameElements
          data.set(sink.subarray(start, start + frameElements), i * frameElements)
        })
      }
      const quarter = p.rotation === 90 || p.rotation === 270
      const source: SourceMetadata = {
        path,
        width: quarter ? header.height : header.width,
        height: quarter ? header.width : header.height,
        fps,
        frameCount: images !== undefined ? images.length : announced ?? result.inRange,
        ...(header.duration !== undefined && images === undefined ? { duration: header.duration } : {}),
        codec: header.codec,
        pixelFormat: header.pixelFormat,
        rotation: header.rotation,
        decodedFrames: counters.decoded
      }
      return {
        data,
        shape: DecodePlan.shape(out.layout, frames, p.height, p.width, out.channels),
        layout: out.layout,
        dtype: out.dtype,
        fps: planned?.fps ?? rate,
        timestamps: order.map((index) => stamps[slotOf(index)] ?? 0),
        source
      }
    } finally {
      sws.freeContext()
    }
  } finally {
    input.opened.demuxer.closeSync()
  }
}
