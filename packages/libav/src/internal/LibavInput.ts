/**
 * One input of a libav decode, opened and probed: what the header of its video stream says
 * (size, rotation, rate, duration, codec). Its path was checked before (`InputCheck`).
 *
 * @since 0.2.0
 */
import { Demuxer } from "node-av/api"
import { type AVPixelFormat, AV_PKT_DATA_DISPLAYMATRIX } from "node-av/constants"
import { avGetCodecName, avGetPixFmtName } from "node-av/lib"
import { invalid } from "./LibavFailed.ts"

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

/**
 * The video stream of an opened input.
 *
 * @since 0.2.0
 * @category models
 */
export type Stream = NonNullable<ReturnType<Demuxer["video"]>>

/**
 * A timestamp in `base` units, in seconds.
 *
 * @since 0.2.0
 * @category timing
 */
export const seconds = (value: bigint | number, base: { readonly num: number; readonly den: number }): number =>
  (Number(value) * base.num) / base.den

/**
 * What the header of one input says.
 *
 * @since 0.2.0
 * @category models
 */
export interface Header {
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

/** Reads the header of an opened input's video stream. */
const readHeaderUnsafe = (demuxer: Demuxer, stream: Stream): Header => {
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

/**
 * The resources of one opened input, freed by `demuxer.closeSync()`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Opened {
  readonly demuxer: Demuxer
  readonly stream: Stream
  readonly header: Header
}

/**
 * Opens `path` with FFmpeg and reads its video stream's header; the caller closes the demuxer.
 * Throws a `Failed` when FFmpeg cannot open it or it holds no video stream.
 *
 * @since 0.2.0
 * @category inputs
 */
export const openUnsafe = (path: string): Opened => {
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
  return { demuxer, stream, header: readHeaderUnsafe(demuxer, stream) }
}
