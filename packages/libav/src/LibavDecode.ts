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
import { allocateUnsafe, makeConverterUnsafe, placement } from "./LibavConvert.ts"
import { Cancelled, Failed, invalid } from "./LibavFailed.ts"
import { openUnsafe } from "./LibavInput.ts"
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

/** The decode of one request; a failure is thrown (`Failed`, `Cancelled`, or FFmpeg's own). */
const decodeRequestUnsafe = (
  request: DecodeRequest,
  cancelled: () => boolean,
  memory: Pick<Lease, "take">
): DecodeSuccess => {
  const { options, path } = request
  // Checked on the main thread (InputCheck): a folder's images come listed.
  const images = request.source === "folder" ? request.images ?? [] : undefined
  if (images !== undefined && images.length === 0) throw invalid(DecodePlan.noImages)
  // The first input's header plans the decode (a folder's images are one frame each).
  const input = { opened: openUnsafe(images?.[0] ?? path), path: images?.[0] ?? path }
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
    const convert = makeConverterUnsafe(p)
    const counters = { decoded: 0 }
    const float = out.dtype === "float32"

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
      let data = allocateUnsafe(capacity * frameElements, float, memory)
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
      let inRange = 0
      if (images === undefined) {
        inRange = decodeRangeUnsafe(input, from, to, request.threads, cancelled, keep, counters)
      } else {
        // One image per input, image k at k / folderFps; each is opened, decoded and closed.
        for (let k = 0; k < images.length; k++) {
          const t = k / DecodePlan.folderFps
          if (t + 1e-9 < from || t + 1e-9 >= to) continue
          const image = k === 0 ? input : { opened: openUnsafe(images[k]), path: images[k] }
          let more = true
          try {
            const before = counters.decoded
            decodeRangeUnsafe(image, 0, Infinity, 1, cancelled, (_index, frame) => {
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
          input.opened = openUnsafe(input.path)
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
          // A folder's images outside the range are not even opened.
          throw invalid(
            counters.decoded === 0 && images === undefined ? "FFmpeg decoded no frame" : "no frame in the requested start/end range"
          )
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
        data = allocateUnsafe(frames * frameElements, float, memory)
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
      convert.free()
    }
  } finally {
    input.opened.demuxer.closeSync()
  }
}
