/**
 * Reads what ffmpeg writes on stderr (run with `-loglevel level+info`): the input's header (size,
 * rate, duration, codec, rotation), the size of the output stream, and the error lines.
 *
 * @since 0.1.0
 */

/**
 * The first video stream of an input, as ffmpeg announces it before decoding.
 *
 * @since 0.1.0
 * @category models
 */
export interface InputInfo {
  /** Coded width and height (before rotation). */
  readonly width: number
  readonly height: number
  /** Frames per second (the stream's average rate, else its base rate); 0 if unknown. */
  readonly fps: number
  /** Container duration in seconds; `undefined` when ffmpeg prints `N/A`. */
  readonly duration: number | undefined
  readonly codec: string
  readonly pixelFormat: string
  /** Clockwise rotation to apply for display: 0, 90, 180 or 270. */
  readonly rotation: number
  /** How many streams of any kind the input has (audio makes the container duration less exact). */
  readonly streams: number
}

/**
 * What one ffmpeg run said on stderr.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly input: InputInfo | undefined
  /** Width and height of the (first) output video stream, once ffmpeg configured it. */
  readonly output: { readonly width: number; readonly height: number } | undefined
  /** Frames written to the output, from ffmpeg's final report (`frame=  N`). */
  readonly framesWritten: number | undefined
  /** Where the last frame written ends, in seconds of output, from the same report (`time=`). */
  readonly timeWritten: number | undefined
  /** Lines logged at error or fatal level, without the level prefix. */
  readonly errors: ReadonlyArray<string>
  /** The last lines that are not plain info, for error messages. */
  readonly tail: string
}

const levelPrefix = /^(?:\[[^\]]+ @ 0x[0-9a-f]+\] )?\[(trace|debug|verbose|info|warning|error|fatal|panic)\] /

/**
 * A known NTSC-style rate printed rounded (29.97) becomes its exact value (30000/1001).
 *
 * @since 0.1.0
 * @category parsing
 */
export const exactRate = (printed: number): number => {
  const ntsc = Math.round(printed * 1.001)
  if (Math.abs(ntsc / 1.001 - printed) < 0.006 && Math.abs(ntsc - printed) > 0.001) return (ntsc * 1000) / 1001
  return printed
}

const parseRate = (text: string, unit: "fps" | "tbr"): number | undefined => {
  const match = new RegExp(`(\\d+(?:\\.\\d+)?)(k?) ${unit}\\b`).exec(text)
  if (match === null) return undefined
  const value = Number(match[1]) * (match[2] === "k" ? 1000 : 1)
  return Number.isFinite(value) && value > 0 ? exactRate(value) : undefined
}

const parseDuration = (text: string): number | undefined => {
  const match = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(text)
  if (match === null) return undefined
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])
}

/** `Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 320x240 [SAR 1:1 DAR 4:3], ...` */
const parseVideoLine = (line: string) => {
  const body = line.slice(line.indexOf("Video: ") + 7)
  const codec = /^[^\s,]+/.exec(body)?.[0] ?? "unknown"
  // Split on commas outside parentheses: codec, pixel format, size, ...
  const fields: Array<string> = []
  let depth = 0
  let current = ""
  for (const ch of body) {
    if (ch === "(") depth++
    if (ch === ")") depth--
    if (ch === "," && depth === 0) {
      fields.push(current.trim())
      current = ""
    } else {
      current += ch
    }
  }
  fields.push(current.trim())
  const pixelFormat = (fields[1] ?? "unknown").replace(/\(.*\)$/, "").trim()
  const size = /(?:^|,\s*)(\d+)x(\d+)/.exec(fields.slice(1).join(", "))
  return {
    codec,
    pixelFormat,
    width: size === null ? 0 : Number(size[1]),
    height: size === null ? 0 : Number(size[2]),
    fps: parseRate(body, "fps") ?? parseRate(body, "tbr") ?? 0
  }
}

const normalizeRotation = (degrees: number): number => ((Math.round(degrees / 90) * 90) % 360 + 360) % 360

/** Seconds of output in ffmpeg's final report (`time=HH:MM:SS.cc`): where the last frame ends. */
const timeWritten = (stderr: string): number | undefined => {
  const at = stderr.lastIndexOf("frame=")
  if (at < 0) return undefined
  const match = /time=\s*(-?)(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr.slice(at).split(/\r?\n|\r/)[0])
  if (match === null) return undefined
  const value = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4])
  return match[1] === "-" ? -value : value
}

const framesWritten = (stderr: string): number | undefined => {
  const at = stderr.lastIndexOf("frame=")
  if (at < 0) return undefined
  const match = /^frame=\s*(\d+)/.exec(stderr.slice(at))
  return match === null ? undefined : Number(match[1])
}

/** What a read of ffmpeg's stderr has gathered so far, line by line. */
interface Scan {
  section: "none" | "input" | "output"
  durationLine: string
  videoLine: string | undefined
  outputLine: string | undefined
  streams: number
  inVideoStream: boolean
  rotateTag: number | undefined
  displayMatrix: number | undefined
  readonly errors: Array<string>
  readonly notable: Array<string>
}

/** A line of the input's section: its duration, its streams (the first video one), that stream's rotation. */
const scanInputLine = (scan: Scan, text: string): void => {
  if (/^\s*Duration: /.test(text)) scan.durationLine = text
  if (/^\s*Stream #\d+:\d+/.test(text)) {
    scan.streams++
    const isVideo = / Video: /.test(text) && !/\(attached pic\)/.test(text)
    scan.inVideoStream = isVideo && scan.videoLine === undefined
    if (scan.inVideoStream) scan.videoLine = text
    return
  }
  if (scan.inVideoStream) {
    const rotate = /^\s*rotate\s*: (-?\d+)/.exec(text)
    if (rotate !== null) scan.rotateTag = normalizeRotation(Number(rotate[1]))
    const matrix = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(text)
    if (matrix !== null) scan.displayMatrix = normalizeRotation(-Number(matrix[1]))
  }
}

/** One line of stderr: its level (errors and notable lines kept), the section it opens, or what it says in one. */
const scanLine = (scan: Scan, raw: string): void => {
  const prefix = levelPrefix.exec(raw)
  const level = prefix?.[1] ?? "info"
  const text = prefix === null ? raw : raw.slice(prefix[0].length)
  if (level === "error" || level === "fatal" || level === "panic") scan.errors.push(text.trim())
  if (level !== "info" && text.trim().length > 0) scan.notable.push(text.trim())
  if (/^Input #0\b/.test(text)) {
    scan.section = "input"
  } else if (/^Input #\d+/.test(text) || /^Stream mapping:/.test(text)) {
    scan.section = "none"
  } else if (/^Output #0\b/.test(text)) {
    scan.section = "output"
  } else if (scan.section === "input") {
    scanInputLine(scan, text)
  } else if (scan.section === "output" && scan.outputLine === undefined && /^\s*Stream #\d+:\d+.* Video: /.test(text)) {
    scan.outputLine = text
  }
}

/**
 * Parses stderr of an ffmpeg run made with `-loglevel level+info`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (stderr: string): Report => {
  const scan: Scan = {
    section: "none",
    durationLine: "",
    videoLine: undefined,
    outputLine: undefined,
    streams: 0,
    inVideoStream: false,
    rotateTag: undefined,
    displayMatrix: undefined,
    errors: [],
    notable: []
  }
  for (const raw of stderr.split(/\r?\n|\r/)) scanLine(scan, raw)
  const video = scan.videoLine === undefined ? undefined : parseVideoLine(scan.videoLine)
  const input: InputInfo | undefined = video === undefined ? undefined : {
    ...video,
    duration: parseDuration(scan.durationLine),
    rotation: scan.rotateTag ?? scan.displayMatrix ?? 0,
    streams: scan.streams
  }
  const out = scan.outputLine === undefined ? undefined : parseVideoLine(scan.outputLine)
  return {
    input,
    output: out === undefined || out.width === 0 ? undefined : { width: out.width, height: out.height },
    framesWritten: framesWritten(stderr),
    timeWritten: timeWritten(stderr),
    errors: scan.errors,
    tail: scan.notable.slice(-6).join("\n")
  }
}

/**
 * Width and height of an input as displayed: the coded size, swapped when the rotation is a
 * quarter turn (90 or 270 degrees).
 *
 * @since 0.1.0
 * @category parsing
 */
export const displaySize = (info: InputInfo): { readonly width: number; readonly height: number } =>
  info.rotation === 90 || info.rotation === 270
    ? { width: info.height, height: info.width }
    : { width: info.width, height: info.height }

/**
 * A short explanation of a failed run for error messages: the error lines, else the tail.
 *
 * @since 0.1.0
 * @category parsing
 */
export const explain = (report: Report, fallback: string): string => {
  const unique = [...new Set(report.errors)]
  const text = unique.length > 0 ? unique.slice(-4).join("; ") : report.tail.split("\n").slice(-3).join("; ")
  return text.length > 0 ? text : fallback
}
