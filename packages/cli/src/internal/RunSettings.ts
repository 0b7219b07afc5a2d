/**
 * What a run's scores depend on besides its inputs (the decode options, the decoder and its FFmpeg,
 * the metrics' versions, the model files), stored as the first line of JSON Lines output so that
 * `--resume` can refuse a file made otherwise, naming each setting that differs.
 *
 * @since 0.3.0
 */
import type { DecodeOptions } from "@vidpool/pool"
import type { DecoderChoice, DecoderInfo, MetricInfo } from "../Engine.ts"

/**
 * The settings of one run, as stored in the `{"type": "settings", ...}` line.
 *
 * @since 0.3.0
 * @category models
 */
export interface RunSettings {
  /** The decode options given to every video, less those that cannot change a score. */
  readonly decode: Readonly<Record<string, unknown>>
  /** `"libav"` or `"ffmpeg"` as resolved here; `"cluster:<choice>"` when the runners decode. */
  readonly decoder: string
  /** The version of the FFmpeg behind the decoder; `null` when the runners decode. */
  readonly ffmpeg: string | null
  /** Each metric of the run, with the version of its scores. */
  readonly metrics: Readonly<Record<string, string>>
  /** Each model a chosen metric runs, with the SHA-256 of its file (`"unreadable"` when it cannot be read). */
  readonly models: Readonly<Record<string, string>>
}

/** Decode options that decide whether a decode succeeds, never what it gives. */
const notScoring: ReadonlySet<string> = new Set(["timeout", "maxBytes"])

/**
 * The settings of a run that decodes with `decoder` (here) or on a cluster's runners (the choice
 * they resolve each for themselves), with the chosen metrics of `catalogue`.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: {
  readonly decode: DecodeOptions
  readonly decoder: DecoderInfo | { readonly cluster: DecoderChoice }
  readonly metrics: ReadonlyArray<string>
  readonly catalogue: ReadonlyArray<MetricInfo>
  readonly models?: Readonly<Record<string, string>>
}): RunSettings => {
  const decode = Object.fromEntries(
    Object.entries(options.decode).filter(([key, value]) => value !== undefined && !notScoring.has(key))
  )
  const versions = options.metrics.map((name) => [name, options.catalogue.find((m) => m.name === name)?.version ?? "1"])
  const decoder = options.decoder
  return {
    decode,
    decoder: "cluster" in decoder ? `cluster:${decoder.cluster}` : decoder.name,
    ffmpeg: "cluster" in decoder ? null : decoder.version,
    metrics: Object.fromEntries(versions),
    models: options.models ?? {}
  }
}

/**
 * The settings as the first line of JSON Lines output (without its newline).
 *
 * @since 0.3.0
 * @category formatting
 */
export const line = (settings: RunSettings): string => JSON.stringify({ type: "settings", ...settings })

const record = (value: unknown): Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}

const text = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? "nothing"

/** How each decode option reads in a message, set or not (`undefined`: not set). */
const decodeRules: ReadonlyArray<{
  readonly key: string
  readonly covers: ReadonlyArray<string>
  readonly describe: (decode: Readonly<Record<string, unknown>>) => string
}> = [
  {
    key: "size",
    covers: ["width", "height", "resize"],
    describe: ({ height, resize, width }) =>
      width === undefined && height === undefined && resize === undefined
        ? "the native size"
        : resize === "exact" && width !== undefined && height !== undefined
        ? `--size ${text(width)}x${text(height)}`
        : `width ${text(width)}, height ${text(height)}, resize ${text(resize)}`
  },
  { key: "frames", covers: ["numFrames"], describe: (d) => d.numFrames === undefined ? "every frame" : `--frames ${text(d.numFrames)}` },
  { key: "fps", covers: ["fps"], describe: (d) => d.fps === undefined ? "the native frame rate" : `--fps ${text(d.fps)}` },
  {
    key: "repeat",
    covers: ["repeatFrames"],
    describe: (d) => d.repeatFrames === true ? "--repeat-frames" : "no --repeat-frames"
  },
  {
    key: "pixels",
    covers: ["pixelFormat"],
    describe: (d) => d.pixelFormat === undefined || d.pixelFormat === "rgb24" ? "colour frames" : `${text(d.pixelFormat)} frames`
  },
  { key: "start", covers: ["start"], describe: (d) => d.start === undefined ? "each clip from its start" : `a start at ${text(d.start)} s` },
  { key: "end", covers: ["end"], describe: (d) => d.end === undefined ? "each clip to its end" : `an end at ${text(d.end)} s` },
  {
    key: "maxFrames",
    covers: ["maxFrames"],
    describe: (d) => d.maxFrames === undefined ? "no frame limit" : `at most ${text(d.maxFrames)} frames`
  },
  { key: "dtype", covers: ["dtype"], describe: (d) => `${text(d.dtype ?? "uint8")} pixels` },
  { key: "layout", covers: ["layout"], describe: (d) => `the ${text(d.layout ?? "THWC")} layout` }
]

const covered: ReadonlySet<string> = new Set(decodeRules.flatMap((rule) => rule.covers))

const describeDecoder = (decoder: unknown): string => {
  if (decoder === "libav" || decoder === "ffmpeg") return `the ${decoder} decoder`
  if (typeof decoder === "string" && decoder.startsWith("cluster:")) {
    return `--decoder ${decoder.slice("cluster:".length)} on the cluster's runners`
  }
  return decoder === undefined ? "no recorded decoder" : `the decoder ${text(decoder)}`
}

const describeMetrics = (names: ReadonlyArray<string>): string =>
  names.length === 0 ? "no metric" : `the metric${names.length === 1 ? "" : "s"} ${[...names].sort().join(", ")}`

const topLevel: ReadonlySet<string> = new Set(["type", "decode", "decoder", "ffmpeg", "metrics", "models"])

/** Every setting of a stored (or current) settings record, by a key, as it reads in a message. */
const described = (settings: Readonly<Record<string, unknown>>): Map<string, string> => {
  const out = new Map<string, string>()
  const decode = record(settings.decode)
  for (const rule of decodeRules) out.set(`decode:${rule.key}`, rule.describe(decode))
  for (const key of Object.keys(decode)) if (!covered.has(key)) out.set(`decode:${key}`, `${key} ${text(decode[key])}`)
  out.set("decoder", describeDecoder(settings.decoder))
  out.set("ffmpeg", typeof settings.ffmpeg === "string" ? `FFmpeg ${settings.ffmpeg}` : "the runners' FFmpeg")
  const metrics = record(settings.metrics)
  out.set("metrics", describeMetrics(Object.keys(metrics)))
  for (const [name, version] of Object.entries(metrics)) out.set(`version:${name}`, `${name} version ${text(version)}`)
  for (const [name, digest] of Object.entries(record(settings.models))) out.set(`model:${name}`, `the model ${name} (${text(digest)})`)
  for (const key of Object.keys(settings)) if (!topLevel.has(key)) out.set(key, `${key} ${text(settings[key])}`)
  return out
}

const absent = (key: string): string =>
  key.startsWith("model:") ? `no model ${key.slice("model:".length)}` : `no ${key.slice(key.indexOf(":") + 1)}`

/**
 * One setting that differs: how the stored run had it, and how this run has it.
 *
 * @since 0.3.0
 * @category models
 */
export interface Difference {
  readonly was: string
  readonly now: string
}

/**
 * The settings in which a stored settings record (as read from a file: any shape) differs from
 * this run's, each as it reads in a message. A metric's version is compared when both runs have
 * the metric (a different set of metrics is one difference).
 *
 * @since 0.3.0
 * @category comparing
 */
export const differences = (stored: unknown, current: RunSettings): Array<Difference> => {
  const was = described(record(stored))
  const now = described(current as unknown as Record<string, unknown>)
  const out: Array<Difference> = []
  for (const key of new Set([...was.keys(), ...now.keys()])) {
    if (key.startsWith("version:") && !(was.has(key) && now.has(key))) continue
    const before = was.get(key) ?? absent(key)
    const after = now.get(key) ?? absent(key)
    if (before !== after) out.push({ was: before, now: after })
  }
  return out
}
