/**
 * The decode of one request on a decode thread, synchronously with FFmpeg's libraries (node-av):
 * the shared `DecodePlan` checked on the input's header, the frames decoded, selected and returned.
 *
 * @since 0.2.0
 */
import { AV_LOG_QUIET } from "node-av/constants"
import { type Frame, getFFmpegInfo, Log } from "node-av/lib"
import { DecodePlan, FrameSelection } from "@vidpool/pool"
import type { SourceMetadata } from "@vidpool/pool"
import { allocateUnsafe, type Converter, makeConverterUnsafe, type Placement, placement } from "./LibavConvert.ts"
import { Cancelled, Failed, invalid } from "./LibavFailed.ts"
import { type Header, type Opened, openUnsafe } from "./LibavInput.ts"
import { decodeRangeUnsafe } from "./LibavRange.ts"
import type { DecodeFailure, DecodeRequest, DecodeSuccess } from "./Protocol.ts"
import type { Lease } from "./Slab.ts"

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
export const quietUnsafe = (): void => {
  Log.setLevel(AV_LOG_QUIET)
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
export const decodeUnsafe = (
  request: DecodeRequest,
  cancel: Int32Array,
  stop: () => boolean = () => false,
  memory: Pick<Lease, "take"> = { take: (bytes) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer }
): DecodeSuccess | DecodeFailure | "cancelled" => {
  try {
    return decodeRequestUnsafe(request, () => stop() || Atomics.load(cancel, 0) !== 0, memory)
  } catch (error) {
    if (error instanceof Cancelled) return "cancelled"
    if (error instanceof Failed) return error.failure
    return { _tag: "InvalidData", detail: `FFmpeg failed: ${(error as Error).message ?? String(error)}` }
  }
}

/** An opened input: the demuxer, reopened when a decode must start again from the beginning. */
type Input = { opened: Opened; readonly path: string }

/**
 * What the first input's header and the options make of one decode: the geometry, the range, the
 * frames the header announces (and how far to trust it), checked before anything is allocated.
 */
interface Plan {
  readonly request: DecodeRequest
  readonly images: ReadonlyArray<string> | undefined
  readonly header: Header
  readonly p: Placement
  readonly fps: number
  readonly from: number
  readonly to: number
  readonly subsampled: boolean
  /** The header's count is the index's (not duration x rate). */
  readonly indexed: boolean
  readonly announced: number | undefined
  readonly slack: number
  readonly frameElements: number
  readonly float: boolean
  /** The end of what the range asks for: its end, or the clip's duration. */
  readonly rangeEnd: number
}

/** One decode under way: its plan, its input and converter, and where its memory comes from. */
interface Job {
  readonly plan: Plan
  readonly input: Input
  readonly convert: Converter
  readonly counters: { decoded: number }
  readonly memory: Pick<Lease, "take">
  readonly cancelled: () => boolean
}

/** The frames a range decode kept: in `data`, `filled` slots; the timestamps; the range's frames seen. */
interface Decoded {
  readonly data: Uint8Array | Float32Array
  readonly filled: number
  readonly stamps: ReadonlyArray<number>
  readonly inRange: number
  readonly last: number | undefined
  readonly gap: number
}

/** Fails the decode when a tensor of `frames` frames cannot be made (before it is allocated). */
const refuse = (plan: Plan, frames: number): void => {
  const refused = DecodePlan.refusal(frames, plan.p.width, plan.p.height, plan.p.out)
  if (refused !== undefined) throw new Failed(refused)
}

const tooLarge = (plan: Plan, frames: number): Failed => {
  const need = DecodePlan.budget(frames, plan.p.width, plan.p.height, plan.p.out)
  return new Failed({ _tag: "TooLarge", bytes: need.bytes, limit: need.limit })
}

const fits = (plan: Plan, frames: number): boolean => DecodePlan.budget(frames, plan.p.width, plan.p.height, plan.p.out).fits

/** The frames the options keep of `decoded`, refused before any list of them is made. */
const selectOf = (plan: Plan, decoded: number, rate: number): FrameSelection.Selection => {
  const selected = DecodePlan.selectFrames(decoded, rate, plan.request.options, plan.p.width, plan.p.height, plan.p.out)
  if (DecodePlan.isRefusal(selected)) throw new Failed(selected)
  return selected
}

/** A shortfall against a count from duration x rate: frames spread to the end are a variable rate. */
const spreadToEnd = (plan: Plan, r: Pick<Decoded, "last" | "gap">): boolean =>
  !plan.indexed && plan.images === undefined && DecodePlan.reachesEnd(r.last, r.gap, plan.fps, plan.rangeEnd)

const cutShort = (decoded: number, announced: number): Failed =>
  invalid(`FFmpeg decoded ${decoded} frames but the file announces ${announced}; the file is cut short or damaged`)

/** The plan of a decode from the first input's header; what it announces is checked against the budget. */
const planUnsafe = (request: DecodeRequest, images: ReadonlyArray<string> | undefined, header: Header): Plan => {
  const { options } = request
  const p = placement(header, options)
  if (!DecodePlan.fitsImage(p.scaleWidth, p.scaleHeight)) {
    throw invalid(`the frames would be scaled to ${p.scaleWidth}x${p.scaleHeight}, over FFmpeg's limit for one picture (${DecodePlan.maxSide} pixels a side)`)
  }
  const fps = images !== undefined ? DecodePlan.folderFps : header.fps
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
  const to = options.end ?? Infinity
  const plan: Plan = {
    request,
    images,
    header,
    p,
    fps,
    from: options.start ?? 0,
    to,
    subsampled,
    indexed,
    announced,
    slack: indexed || images !== undefined ? (images !== undefined && ranged ? 1 : 0) : fromHeader?.slack ?? 0,
    frameElements: p.width * p.height * p.out.channels,
    float: p.out.dtype === "float32",
    rangeEnd: Math.min(to, images === undefined ? header.duration ?? Infinity : Infinity)
  }
  // What the header announces is checked before anything is allocated: the true size of the
  // tensor the options ask for, not a frame at a time.
  if (announced !== undefined && announced > 0) {
    if (subsampled) refuse(plan, FrameSelection.count(announced, fps, options))
    else refuse(plan, Math.min(announced, options.maxFrames ?? Infinity))
  }
  return plan
}

/**
 * Decodes the range, keeping the frames `slotOf` gives a slot (in a buffer of `capacity` frames
 * that grows, within the budget, when `growable`), until `done(index)`.
 */
const decodeIntoUnsafe = (
  job: Job,
  capacity: number,
  growable: boolean,
  slotOf: (index: number) => number | undefined,
  done: (index: number) => boolean
): Decoded => {
  const { convert, memory, plan } = job
  const { float, frameElements } = plan
  let data = allocateUnsafe(capacity * frameElements, float, memory)
  let filled = 0
  const stamps: Array<number> = []
  // The last frame in the range and the largest step between two: whether the decode reached the
  // range's end (see DecodePlan.reachesEnd).
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
        const target = fits(plan, frames) ? frames : at + 1
        if (!fits(plan, target)) throw tooLarge(plan, target)
        const bigger = allocateUnsafe(target * frameElements, float, memory)
        bigger.set(data.subarray(0, filled * frameElements))
        data = bigger
      }
      convert.write(frame, data, at)
      stamps[at] = t
      filled = Math.max(filled, at + 1)
    }
    return !done(index)
  }
  const inRange = plan.images === undefined
    ? decodeRangeUnsafe(job.input, plan.from, plan.to, plan.request.threads, job.cancelled, keep, job.counters)
    : decodeImagesUnsafe(job, plan.images, keep)
  return { data, filled, stamps, inRange, last, gap }
}

/** A folder's images in the range, one frame each (image k at k / folderFps): each opened, decoded and closed. */
const decodeImagesUnsafe = (
  job: Job,
  images: ReadonlyArray<string>,
  keep: (index: number, frame: Frame, t: number) => boolean
): number => {
  const { counters, plan } = job
  let inRange = 0
  for (let k = 0; k < images.length; k++) {
    const t = k / DecodePlan.folderFps
    if (t + 1e-9 < plan.from || t + 1e-9 >= plan.to) continue
    const image = k === 0 ? job.input : { opened: openUnsafe(images[k]), path: images[k] }
    let more = true
    try {
      const before = counters.decoded
      decodeRangeUnsafe(image, 0, Infinity, 1, job.cancelled, (_index, frame) => {
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
  return inRange
}

/** The frames of a decode, where they sit in `result`, and the rate and selection they have. */
interface Frames {
  readonly result: Decoded
  readonly planned: FrameSelection.Selection | undefined
  readonly slots: ReadonlyMap<number, number> | undefined
  readonly rate: number
}

/**
 * The selection from the header's count, when the options subsample and the header announces
 * frames: only the picked frames are converted. `undefined` when the file holds fewer frames than
 * announced without being cut short (the input is then reopened for a decode of every frame).
 */
const decodePickedUnsafe = (job: Job): Frames | undefined => {
  const { plan } = job
  const announced = plan.announced
  if (!plan.subsampled || announced === undefined || announced <= 0) return undefined
  const planned = selectOf(plan, announced, plan.fps)
  const unique = [...new Set(planned.indices)]
  const slots = new Map(unique.map((index, i) => [index, i]))
  const last = unique[unique.length - 1]
  const result = decodeIntoUnsafe(job, unique.length, false, (index) => slots.get(index), (index) => index >= last)
  if (result.inRange > last) return { result, planned, slots, rate: plan.fps }
  // Fewer frames than announced: cut short, or a header that said too much.
  if (result.inRange + plan.slack < announced && !spreadToEnd(plan, result)) throw cutShort(result.inRange, announced)
  job.input.opened.demuxer.closeSync()
  job.input.opened = openUnsafe(job.input.path)
  return undefined
}

/** Every frame of the range (up to maxFrames), in a buffer that grows within the budget; then the selection. */
const decodeEveryUnsafe = (job: Job): Frames => {
  const { plan } = job
  const { announced, header, images, request, subsampled } = plan
  const limit = subsampled ? Infinity : request.options.maxFrames ?? Infinity
  const guess = announced !== undefined && announced > 0 ? announced : Math.ceil((header.duration ?? 2) * (plan.fps > 0 ? plan.fps : 25))
  let capacity = Math.max(1, Math.min(limit, guess))
  while (capacity > 1 && !fits(plan, capacity)) capacity = Math.floor(capacity / 2)
  if (!fits(plan, capacity)) throw tooLarge(plan, Math.min(limit, Math.max(1, guess)))
  const result = decodeIntoUnsafe(job, capacity, true, (index) => (index < limit ? index : undefined), (index) => index + 1 >= limit)
  const expected = announced === undefined ? undefined : Math.min(announced, limit)
  if (result.inRange === 0) {
    // A folder's images outside the range are not even opened.
    throw invalid(
      job.counters.decoded === 0 && images === undefined ? "FFmpeg decoded no frame" : "no frame in the requested start/end range"
    )
  }
  if (expected !== undefined && DecodePlan.cutShort(result.inRange, { frames: expected, slack: plan.slack }, false) && !spreadToEnd(plan, result)) {
    throw cutShort(result.inRange, expected)
  }
  // A raw stream has no container to say its rate (the header's is a guess): its frames' own
  // timestamps do.
  let rate = plan.fps
  const stamps = result.stamps
  if (images === undefined && header.duration === undefined && result.filled > 1) {
    const span = stamps[result.filled - 1] - stamps[0]
    if (span > 0) rate = (result.filled - 1) / span
  }
  return { result, planned: subsampled ? selectOf(plan, result.inRange, rate) : undefined, slots: undefined, rate }
}

/** The tensor of the frames: in their selected order (copied when that is not how they sit), with the source's metadata. */
const tensorOfUnsafe = (job: Job, frames: Frames): DecodeSuccess => {
  const { plan } = job
  const { frameElements, header, images, p } = plan
  const { planned, result, slots } = frames
  const { data: sink, stamps } = result
  const order = planned?.indices ?? Array.from({ length: result.filled }, (_, i) => i)
  const slotOf = (index: number) => slots?.get(index) ?? index
  const count = order.length
  refuse(plan, count)
  let data: Uint8Array | Float32Array
  const identity = order.every((index, i) => slotOf(index) === i)
  if (identity && sink.length === count * frameElements) {
    data = sink
  } else {
    // Repeats (upsampling), a selection from every frame, or a buffer larger than the frames.
    data = allocateUnsafe(count * frameElements, plan.float, job.memory)
    order.forEach((index, i) => {
      const start = slotOf(index) * frameElements
      data.set(sink.subarray(start, start + frameElements), i * frameElements)
    })
  }
  const quarter = p.rotation === 90 || p.rotation === 270
  const source: SourceMetadata = {
    path: plan.request.path,
    width: quarter ? header.height : header.width,
    height: quarter ? header.width : header.height,
    fps: plan.fps,
    frameCount: images !== undefined ? images.length : plan.announced ?? result.inRange,
    ...(header.duration !== undefined && images === undefined ? { duration: header.duration } : {}),
    codec: header.codec,
    pixelFormat: header.pixelFormat,
    rotation: header.rotation,
    decodedFrames: job.counters.decoded
  }
  return {
    data,
    shape: DecodePlan.shape(p.out.layout, count, p.height, p.width, p.out.channels),
    layout: p.out.layout,
    dtype: p.out.dtype,
    fps: planned?.fps ?? frames.rate,
    timestamps: order.map((index) => stamps[slotOf(index)] ?? 0),
    source
  }
}

/** The decode of one request (plan, frames, tensor); a failure is thrown (`Failed`, `Cancelled`, or FFmpeg's own). */
const decodeRequestUnsafe = (
  request: DecodeRequest,
  cancelled: () => boolean,
  memory: Pick<Lease, "take">
): DecodeSuccess => {
  // Checked on the main thread (InputCheck): a folder's images come listed.
  const images = request.source === "folder" ? request.images ?? [] : undefined
  if (images !== undefined && images.length === 0) throw invalid(DecodePlan.noImages)
  // The first input's header plans the decode (a folder's images are one frame each).
  const input: Input = { opened: openUnsafe(images?.[0] ?? request.path), path: images?.[0] ?? request.path }
  try {
    const plan = planUnsafe(request, images, input.opened.header)
    const convert = makeConverterUnsafe(plan.p)
    try {
      const job: Job = { plan, input, convert, counters: { decoded: 0 }, memory, cancelled }
      return tensorOfUnsafe(job, decodePickedUnsafe(job) ?? decodeEveryUnsafe(job))
    } finally {
      convert.free()
    }
  } finally {
    input.opened.demuxer.closeSync()
  }
}
