/**
 * The pictures of the HTML report: for the worst samples of each metric, a few small frames of the
 * video and of its reference, decoded by vidpool's own decoder (only those frames, at thumbnail
 * size) and embedded as PNG `data:` URIs.
 *
 * @since 0.3.0
 */
import { Effect, FileSystem, Path } from "effect"
import { type DecodeOptions, Video, VideoTensor } from "@vidpool/pool"
import { type DecoderChoice, Engine } from "../Engine.ts"
import { InputError } from "../InputError.ts"
import * as Png from "./Png.ts"
import type { Report, SampleOutcome } from "../Report.ts"

/**
 * The most samples per metric `--worst` may ask pictures for.
 *
 * @since 0.3.0
 * @category constants
 */
export const maxWorst = 100

/**
 * Pictures per clip, spread over it (first and last frame included).
 *
 * @since 0.3.0
 * @category constants
 */
export const framesPerClip = 4

/** The box a thumbnail fits in, keeping the clip's aspect ratio. */
const box = { width: 128, height: 96 } as const

/**
 * Checks `--worst`: a whole number from 0 (no pictures) to `maxWorst`.
 *
 * @since 0.3.0
 * @category validation
 */
export const checkWorst = (value: number): Effect.Effect<number, InputError> =>
  Number.isSafeInteger(value) && value >= 0 && value <= maxWorst
    ? Effect.succeed(value)
    : Effect.fail(InputError.usage(`--worst must be a whole number from 0 to ${maxWorst} (samples per metric shown with pictures), got ${value}`))

/**
 * Which end of a metric's scale is worse: `"high"` for errors and distances (`common.mse`,
 * `motion.frame_difference`, the Frechet distances), `"low"` for every other metric (PSNR, SSIM,
 * sharpness, consistency...).
 *
 * @since 0.3.0
 * @category models
 */
export const worseEnd = (metric: string): "low" | "high" =>
  /(^|\.)(mse|frame_difference|frechet_distance|fvd)$/.test(metric) ? "high" : "low"

/**
 * The worst `n` samples of `metric`: those with a finite score, the worst first (ties by index).
 *
 * @since 0.3.0
 * @category selection
 */
export const worst = (samples: ReadonlyArray<SampleOutcome>, metric: string, n: number): Array<SampleOutcome> => {
  if (n <= 0) return []
  const sign = worseEnd(metric) === "low" ? 1 : -1
  const scored = samples.filter((sample) => {
    const score = sample.metrics[metric]?.score
    return typeof score === "number" && Number.isFinite(score)
  })
  scored.sort((a, b) => sign * (a.metrics[metric]!.score! - b.metrics[metric]!.score!) || a.index - b.index)
  return scored.slice(0, n)
}

/**
 * One clip's pictures, or why it has none (the decoder's message).
 *
 * @since 0.3.0
 * @category models
 */
export type Strip =
  | { readonly _tag: "Frames"; readonly width: number; readonly height: number; readonly uris: ReadonlyArray<string> }
  | { readonly _tag: "Missing"; readonly why: string }

/**
 * The pictures of one sample: its video's strip and its reference's.
 *
 * @since 0.3.0
 * @category models
 */
export interface SamplePictures {
  readonly video: Strip
  readonly reference?: Strip | undefined
}

/** A frame of a uint8 THWC tensor as PNG. */
const framePng = (tensor: VideoTensor, frame: number): string => {
  const { channels, height, width } = VideoTensor.dimensions(tensor)
  const size = width * height * channels
  const pixels = (tensor.data as Uint8Array).subarray(frame * size, (frame + 1) * size)
  return Png.dataUri(Png.encode(pixels, width, height, channels === 1 ? 1 : 3))
}

/** The run's decode options that choose which part of the clip is scored (its range and rate). */
const rangeOf = (report: Report): DecodeOptions => {
  const decode = report.settings?.decode ?? {}
  const number = (key: string) => typeof decode[key] === "number" ? decode[key] : undefined
  const start = number("start")
  const end = number("end")
  const fps = number("fps")
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}), ...(fps !== undefined ? { fps } : {}) }
}

/**
 * Pictures of one clip: `framesPerClip` frames spread over the part of it the run scored, scaled
 * to fit 128x96. A relative path is looked for from the working folder, then from `base` (the
 * results file's folder).
 */
const strip = (file: string, options: DecodeOptions, decoder: DecoderChoice, base: string | undefined) =>
  Effect.gen(function*() {
    const engine = yield* Engine
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let found = file
    if (base !== undefined && !path.isAbsolute(file) && !(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
      const there = path.join(base, file)
      if (yield* fs.exists(there).pipe(Effect.orElseSucceed(() => false))) found = there
    }
    const info = yield* fs.stat(found).pipe(Effect.option)
    const folder = info._tag === "Some" && info.value.type === "Directory"
    const video = folder ? Video.folder(found, options) : Video.file(found, options)
    return yield* engine.decode(video, decoder).pipe(
      Effect.map((tensor): Strip => {
        const { frames, height, width } = VideoTensor.dimensions(tensor)
        return { _tag: "Frames", width, height, uris: Array.from({ length: frames }, (_, i) => framePng(tensor, i)) }
      }),
      Effect.catch((error) => Effect.succeed<Strip>({ _tag: "Missing", why: error.message }))
    )
  })

/**
 * The samples that get pictures: the worst `n` of each per-sample metric, by index.
 *
 * @since 0.3.0
 * @category selection
 */
export const chosen = (report: Report, n: number): Array<number> => {
  const indices = new Set<number>()
  for (const metric of report.metrics) for (const sample of worst(report.samples, metric, n)) indices.add(sample.index)
  return [...indices].sort((a, b) => a - b)
}

/**
 * Decodes the pictures of the worst `n` samples of each metric of `report`, two clips at a time,
 * with `decoder`. A clip that cannot be decoded has a `Missing` strip saying why; nothing fails.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(
  report: Report,
  options: { readonly worst: number; readonly decoder: DecoderChoice; readonly base?: string | undefined }
) {
  const decode: DecodeOptions = {
    ...rangeOf(report),
    numFrames: framesPerClip,
    width: box.width,
    height: box.height,
    resize: "fit",
    pixelFormat: "rgb24",
    dtype: "uint8",
    layout: "THWC",
    maxBytes: framesPerClip * box.width * box.height * 3
  }
  const pictures = new Map<number, SamplePictures>()
  yield* Effect.forEach(chosen(report, options.worst), (index) =>
    Effect.gen(function*() {
      const input = report.inputs[index]
      if (input === undefined || input.video === "") return
      const video = yield* strip(input.video, decode, options.decoder, options.base)
      const reference = input.reference === undefined ? undefined : yield* strip(input.reference, decode, options.decoder, options.base)
      pictures.set(index, { video, reference })
    }), { concurrency: 2, discard: true })
  return pictures
})
