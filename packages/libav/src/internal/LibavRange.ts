/**
 * The frames of one input in a time range: a seek to the keyframe before the range, falling back
 * to earlier seeks and at last the start where a seek fails, then the decoded frames in order.
 *
 * @since 0.2.0
 */
import { Decoder } from "node-av/api"
import { AVSEEK_FLAG_BACKWARD } from "node-av/constants"
import type { Frame } from "node-av/lib"
import { Cancelled } from "./LibavFailed.ts"
import { type Opened, openUnsafe, seconds } from "./LibavInput.ts"

/**
 * Decodes the frames of one input whose presentation time (relative to the stream's start) is
 * in [from, to), handing each to `keep(index, frame, seconds)` with its index in that range (it
 * answers whether to go on), and returns how many there were. Seeks to the keyframe at or before
 * `from` first; where the seek fails or lands after `from` (raw streams, MPEG-TS without an
 * index), it opens the input again and seeks further back, and at last reads from the start.
 * Checks `cancelled` between frames (a `Cancelled` is thrown when set). `input.opened` may be
 * replaced by a new opening of the same path; the caller closes whichever it holds at the end.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeRangeUnsafe = (
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
      input.opened = openUnsafe(input.path)
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
