/**
 * The real `VideoDecoder`: one ffmpeg child process per video, owned by a Scope, writing raw
 * frames to a scratch file on tmpfs that is read into one tensor buffer of the exact size.
 *
 * @since 0.1.0
 */
import * as Os from "node:os"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { ChildProcessSpawner } from "effect/process"
import {
  DecodeError,
  Options,
  type DecodeOptions,
  DecodePlan,
  decodeWith,
  FrameSelection,
  makeRunning,
  TensorBuffers,
  InvalidData,
  ProcessFailed,
  TooLarge,
  type Video,
  VideoDecoder,
  VideoTensor
} from "@vidpool/pool"
import { Ffmpeg } from "./Ffmpeg.ts"
import * as FfmpegConfig from "./FfmpegConfig.ts"
import * as FfmpegLog from "./FfmpegLog.ts"
import * as FfmpegProcess from "./FfmpegProcess.ts"
import * as Input from "./Input.ts"
import * as ScratchFile from "./ScratchFile.ts"

/**
 * Settings of the decoder itself (not of one video). Each one not given is read from the Effect
 * config (environment variables by default): `VIDPOOL_SCRATCH_DIR`, `VIDPOOL_FFMPEG_THREADS`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecoderSettings {
  /** Where ffmpeg writes raw frames. Default `/dev/shm` when writable, else the OS temp folder. */
  readonly scratchDir?: string
  /**
   * Threads of each ffmpeg decoder (`-threads`). Default: adaptive. A decode that runs alone
   * lets ffmpeg choose (about one thread per core, the lowest latency); while others run, each
   * gets `floor(cores / decodes running)` threads, at least 1, so that loaders share the cores
   * instead of oversubscribing them. `1` makes every decode single-threaded.
   */
  readonly threads?: number
}

/**
 * The decoder's settings (`DecoderSettings`) as one Schema, decoded once when the decode function
 * is made (a bad one is a defect naming it).
 *
 * @since 0.2.0
 * @category options
 */
export const DecoderSettingsSchema = Options.struct({
  scratchDir: Options.option(Schema.String.check(Schema.isPattern(/\S/)), "a folder path"),
  threads: Options.Count
})

/**
 * The largest tensor decoded when no `maxBytes` is given: 2 GiB (`DecodePlan.defaultMaxBytes`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBytes = DecodePlan.defaultMaxBytes

const fail = (path: string, reason: DecodeError["reason"]) => Effect.fail(new DecodeError({ path, reason }))

const invalid = (path: string, detail: string) => fail(path, new InvalidData({ detail }))

/** Checks the options; a wrong one is reported as InvalidData naming the option. */
const checkOptions = (path: string, options: DecodeOptions): Effect.Effect<void, DecodeError> => {
  const found = DecodePlan.problems(options)
  return found.length === 0 ? Effect.void : invalid(path, found.join("; "))
}

/**
 * How far past `end` the decode may run before ffmpeg is told to stop: the exact cut is made by
 * `select`; `trim` only ends the input early, so it needs a margin larger than the rounding of
 * `end` to the stream's time base.
 */
const endMargin = 1

/**
 * The `-vf` chain: the time range (by presentation time, `start <= t < end`, with `trim` ending
 * the decode soon after `end`), then the frames picked by `pick` (a `select` expression over the
 * index `n` of the frames in the range), then the resize.
 *
 * @since 0.1.0
 * @category internals
 */
export const filters = (options: DecodeOptions, pick?: string): Array<string> => {
  const out: Array<string> = []
  if (options.end !== undefined) out.push(`trim=duration=${options.end + endMargin}`)
  if (options.start !== undefined || options.end !== undefined) {
    const t = "(t-start_t)"
    const terms = [
      options.start !== undefined ? `gte(${t}\\,${options.start})` : undefined,
      options.end !== undefined ? `lt(${t}\\,${options.end})` : undefined
    ].filter((term) => term !== undefined)
    out.push(`select=${terms.join("*")}`)
  }
  if (pick !== undefined) out.push(`select=${pick}`)
  const { height, width } = options
  if (width !== undefined && height !== undefined) {
    switch (options.resize ?? "exact") {
      case "exact":
        out.push(`scale=${width}:${height}`)
        break
      case "fit":
        out.push(`scale=${width}:${height}:force_original_aspect_ratio=decrease`)
        break
      case "crop":
        out.push(`scale=${width}:${height}:force_original_aspect_ratio=increase`, `crop=${width}:${height}`)
        break
    }
  } else if (width !== undefined) {
    out.push(`scale=${width}:-1`)
  } else if (height !== undefined) {
    out.push(`scale=-1:${height}`)
  }
  // Gray is made from the rgb24 frames, so it is exactly `grayOf` of the rgb24 output.
  if (options.pixelFormat === "gray") out.push("format=rgb24")
  return out
}

/**
 * A `select` expression keeping the frames whose index `n` is in `indices` (sorted, unique), one
 * term per run of consecutive indices.
 *
 * @since 0.1.0
 * @category internals
 */
export const pickExpression = (indices: ReadonlyArray<number>): string =>
  FrameSelection.runs(indices)
    .map(([first, length]) => length === 1 ? `eq(n\\,${first})` : `between(n\\,${first}\\,${first + length - 1})`)
    .join("+")

/**
 * The size of the frames ffmpeg will write (see `DecodePlan.outputSize`).
 *
 * @since 0.1.0
 * @category internals
 */
export const outputSize = DecodePlan.outputSize

/**
 * The gray value of an rgb24 pixel (see `DecodePlan.grayOf`).
 *
 * @since 0.1.0
 * @category models
 */
export const grayOf = DecodePlan.grayOf

/** The header's frame count for the range (see `DecodePlan.expectedFrames`). */
const expectedFrames = (
  input: FfmpegLog.InputInfo,
  images: number | undefined,
  options: DecodeOptions,
  frameLimit: number | undefined
) => DecodePlan.expectedFrames(input, images, options, frameLimit)

/**
 * The input's header, read by an ffmpeg run that opens the input and stops before decoding (it
 * has no output, so it ends with "At least one output file must be specified").
 */
const readHeader = Effect.fnUntraced(function*(
  ffmpeg: Ffmpeg["Service"],
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  path: string,
  inputArgs: ReadonlyArray<string>
) {
  const outcome = yield* FfmpegProcess.run(ffmpeg, spawner, path, inputArgs)
  const report = FfmpegLog.parse(outcome.stderr)
  yield* FfmpegProcess.failIfSignalled(path, outcome, report)
  if (report.input === undefined) {
    const errors = report.errors.filter((line) => !/At least one output file must be specified/.test(line))
    return yield* invalid(
      path,
      FfmpegLog.explain({ ...report, errors, tail: "" }, "ffmpeg found no video stream in the file")
    )
  }
  return report.input
})

/**
 * Scratch files up to this size are kept for the next decode: 64 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const scratchKeepBytes = 64 * 1024 ** 2

/**
 * The decode function over the given ffmpeg, defaults and scratch folder. Its scratch files live
 * until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDecode = Effect.fnUntraced(function*(
  ffmpeg: Ffmpeg["Service"],
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  defaults: DecodeOptions = {},
  given: DecoderSettings = {}
) {
  const settings = yield* Effect.orDie(DecoderSettingsSchema.decode(given))
  const scratchDir = settings.scratchDir ?? ScratchFile.defaultDir()
  const scratch = yield* ScratchFile.makePool(scratchDir, ".raw", scratchKeepBytes)
  const cores = Os.availableParallelism()
  const running = makeRunning()
  const threadArgs = (): Array<string> => {
    if (settings.threads !== undefined) return ["-threads", String(settings.threads)]
    const now = running.count()
    return now <= 1 ? [] : ["-threads", String(Math.max(1, Math.floor(cores / now)))]
  }
  const decodeScoped = Effect.fnUntraced(function*(video: Video, options: DecodeOptions) {
    yield* running.counted
    const path = video.path
    yield* checkOptions(path, options)
    const input = yield* Input.open(path, video.source, scratchDir)
    const out = DecodePlan.output(options)
    const { channels, dtype, elementBytes, layout, maxBytes, pixelFormat } = out
    const subsampled = options.numFrames !== undefined || options.fps !== undefined
    // The largest raw output ffmpeg may write (`-fs`): what maxBytes allows, and a byte more.
    const rawLimit = Math.floor(maxBytes / elementBytes)
    const tooLarge = (bytes: number) =>
      fail(path, new TooLarge({ bytes, limit: DecodePlan.budget(0, 0, 0, out).limit }))
    const refuse = (refused: NonNullable<ReturnType<typeof DecodePlan.refusal>>) =>
      refused._tag === "TooLarge" ? tooLarge(refused.bytes) : invalid(path, refused.detail)
    // The header first, when the plan depends on it: numFrames/fps pick their frames inside ffmpeg
    // from the header's frame count, and a given size or maxBytes is checked before any frame is
    // written.
    let plan: { readonly selection: FrameSelection.Selection; readonly unique: ReadonlyArray<number> } | undefined
    let announced: number | undefined
    // A size given multiplies the bytes of every frame: the header says how many there are.
    const sized = options.width !== undefined || options.height !== undefined
    if (subsampled || sized || options.maxBytes !== undefined) {
      const header = yield* readHeader(ffmpeg, spawner, path, input.args)
      if (options.fps !== undefined && !(header.fps > 0)) {
        return yield* invalid(path, "the clip's frame rate is unknown, so it cannot be resampled to the fps option")
      }
      announced = expectedFrames(header, input.images, options, undefined)?.frames
      if (announced !== undefined && announced > 0) {
        const shown = FfmpegLog.displaySize(header)
        const size = DecodePlan.outputSize(shown.width, shown.height, options)
        // The tensor's true size from the header, before any frame is decoded or listed.
        const count = subsampled
          ? FrameSelection.count(announced, header.fps, options)
          : Math.min(announced, options.maxFrames ?? Infinity)
        const refused = DecodePlan.refusal(count, size.width, size.height, out)
        if (refused !== undefined) return yield* refuse(refused)
        const selection = subsampled ? DecodePlan.selectFrames(announced, header.fps, options, size.width, size.height, out) : undefined
        if (selection !== undefined && !DecodePlan.isRefusal(selection)) plan = { selection, unique: [...new Set(selection.indices)] }
      }
    }
    const raw = yield* scratch.acquire.pipe(
      Effect.catch((error) =>
        fail(path, new ProcessFailed({ exitCode: null, stderr: `cannot create a scratch file in ${scratchDir}: ${error.message}` }))
      )
    )
    const run = (picked: typeof plan) => {
      // Without subsampling every decoded frame is kept, so ffmpeg can stop at maxFrames; with a
      // plan, after the last frame picked. Always at what maxBytes allows.
      const frameLimit = picked !== undefined ? picked.unique.length : subsampled ? undefined : options.maxFrames
      const everyFrame = picked === undefined || announced === undefined || picked.unique.length >= announced
      const vf = filters(options, everyFrame ? undefined : pickExpression(picked.unique))
      const head = Input.headFilters(input)
      const chain = head === undefined ? vf : [head, ...vf]
      const graph = input.inputs > 1
        ? ["-filter_complex", `${chain.join(",")}[picture]`, "-map", "[picture]"]
        : ["-map", "0:v:0", ...(chain.length > 0 ? ["-vf", chain.join(",")] : [])]
      return FfmpegProcess.run(ffmpeg, spawner, path, [
        ...threadArgs(),
        ...input.args,
        ...graph,
        "-vsync",
        "0",
        ...(frameLimit !== undefined ? ["-frames:v", String(frameLimit)] : []),
        "-fs",
        String(rawLimit + 1),
        "-f",
        "rawvideo",
        "-pix_fmt",
        pixelFormat,
        "-truncate",
        "0",
        "-y",
        raw.path
      ])
    }
    let outcome = yield* run(plan)
    let report = FfmpegLog.parse(outcome.stderr)
    if (
      plan !== undefined && outcome.signal === undefined && outcome.exitCode === 0 && report.errors.length === 0 &&
      (report.framesWritten ?? 0) < plan.unique.length
    ) {
      // Fewer frames than the header announced, without an error: decode the whole range and pick
      // from what it holds, as when the header gives no count (the checks below decide the rest).
      plan = undefined
      outcome = yield* run(undefined)
      report = FfmpegLog.parse(outcome.stderr)
    }
    yield* FfmpegProcess.failIfSignalled(path, outcome, report)
    if (outcome.exitCode !== 0) {
      const detail = FfmpegLog.explain(report, `ffmpeg exited with code ${outcome.exitCode}`)
      if (/No space left on device|Cannot allocate memory/.test(outcome.stderr)) {
        return yield* fail(path, new ProcessFailed({ exitCode: outcome.exitCode, stderr: detail }))
      }
      return yield* invalid(path, detail)
    }
    if (report.input === undefined) {
      return yield* invalid(path, FfmpegLog.explain(report, "ffmpeg found no video stream"))
    }
    const written = report.framesWritten ?? 0
    if (report.output === undefined || written === 0) {
      return yield* invalid(
        path,
        options.start !== undefined || options.end !== undefined
          ? "no frame in the requested start/end range"
          : FfmpegLog.explain(report, "ffmpeg decoded no frame")
      )
    }
    const { height, width } = report.output
    const frameBytes = width * height * channels
    if (written * frameBytes > rawLimit) {
      // ffmpeg stopped at -fs: the frames it had to decode exceed maxBytes.
      return yield* tooLarge(written * frameBytes * elementBytes)
    }
    // The scratch file is reused, so it may be longer than this output, never shorter.
    const bytes = yield* ScratchFile.size(raw.fd)
    if (bytes < written * frameBytes) {
      return yield* invalid(path, `ffmpeg reported ${written} frames but wrote ${bytes} bytes`)
    }
    const errorsSeen = report.errors.length > 0
    let selection: FrameSelection.Selection
    let positions: ReadonlyArray<number>
    let decoded: number
    if (plan !== undefined) {
      if (written < plan.unique.length) {
        return yield* invalid(
          path,
          `ffmpeg decoded fewer frames than the file announces (${announced}); the file is cut short or damaged` +
            (errorsSeen ? ` (${FfmpegLog.explain(report, "")})` : "")
        )
      }
      selection = plan.selection
      const position = new Map(plan.unique.map((index, i) => [index, i]))
      positions = selection.indices.map((index) => position.get(index) ?? 0)
      decoded = announced ?? written
    } else {
      decoded = written
      const frameLimit = subsampled ? undefined : options.maxFrames
      const expected = expectedFrames(report.input, input.images, options, frameLimit)
      // Fewer frames than duration x rate, without an error, spread to the end of the range: a
      // variable frame rate, not a file cut short.
      const info = report.input
      const rangeEnd = Math.min(options.end ?? Infinity, input.images === undefined ? info.duration ?? Infinity : Infinity)
      const spread = report.timeWritten !== undefined && report.timeWritten - (options.start ?? 0) > 0
        ? (report.timeWritten - (options.start ?? 0)) / decoded
        : 0
      const variableRate = !errorsSeen && input.images === undefined &&
        DecodePlan.reachesEnd(report.timeWritten, spread, info.fps, rangeEnd)
      if (expected !== undefined && DecodePlan.cutShort(decoded, expected, errorsSeen) && !variableRate) {
        return yield* invalid(
          path,
          `ffmpeg decoded ${decoded} frames but the file announces ${expected.frames}; the file is cut short or damaged` +
            (errorsSeen ? ` (${FfmpegLog.explain(report, "")})` : "")
        )
      }
      if (options.fps !== undefined && !(report.input.fps > 0)) {
        return yield* invalid(path, "the clip's frame rate is unknown, so it cannot be resampled to the fps option")
      }
      const selected = DecodePlan.selectFrames(decoded, report.input.fps, options, width, height, out)
      if (DecodePlan.isRefusal(selected)) return yield* refuse(selected)
      selection = selected
      positions = selection.indices
    }
    const frames = selection.indices.length
    const refused = DecodePlan.refusal(frames, width, height, out)
    if (refused !== undefined) return yield* refuse(refused)
    const pixels = TensorBuffers.take(frames * frameBytes)
    yield* ScratchFile.readBlocks(raw.fd, pixels, frameBytes, FrameSelection.runs(positions)).pipe(
      Effect.catch((error) => invalid(path, `cannot read ffmpeg's output: ${error.message}`))
    )
    const data = DecodePlan.arrange(pixels, frames, height, width, channels, dtype, layout)
    if (data !== pixels) TensorBuffers.give(pixels) // the THWC bytes were only a step
    const { input: info } = report
    return VideoTensor.make({
      data,
      shape: DecodePlan.shape(layout, frames, height, width, channels),
      layout,
      dtype,
      fps: selection.fps,
      // ffmpeg's -vsync 0 keeps the stream's frames; their times follow its average rate.
      timestamps: DecodePlan.constantRateTimestamps(selection.indices, info.fps, options.start ?? 0),
      source: {
        path,
        ...FfmpegLog.displaySize(info),
        fps: info.fps,
        frameCount: decoded,
        ...(info.duration !== undefined ? { duration: info.duration } : {}),
        codec: info.codec,
        pixelFormat: info.pixelFormat,
        rotation: info.rotation
      }
    })
  })

  return decodeWith("FfmpegDecoder.decode", defaults, decodeScoped)
})

const layerWith = (
  defaults: DecodeOptions = {},
  settings: DecoderSettings = {}
): Layer.Layer<VideoDecoder, never, Ffmpeg | ChildProcessSpawner.ChildProcessSpawner> =>
  Layer.effect(
    VideoDecoder,
    Effect.gen(function*() {
      const ffmpeg = yield* Ffmpeg
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const scratchDir = settings.scratchDir ?? (yield* FfmpegConfig.scratchDir)
      const threads = settings.threads ?? (yield* FfmpegConfig.ffmpegThreads)
      const resolved = {
        scratchDir,
        ...(threads !== undefined ? { threads } : {})
      } as DecoderSettings
      return VideoDecoder.of({ decode: yield* makeDecode(ffmpeg, spawner, defaults, resolved) })
    })
  )

/**
 * The ffmpeg decoder layers.
 *
 * @since 0.1.0
 * @category layers
 */
export const FfmpegDecoder: {
  /**
   * The `VideoDecoder`, with `defaults` for the options a `Video` leaves out, decoding with the
   * `Ffmpeg` and `ChildProcessSpawner` in context. Use it to pin a binary or to set defaults.
   *
   * @example
   * ```ts
   * import { NodeServices } from "@effect/platform-node"
   * import { Layer } from "effect"
   * import { VideoPool } from "@vidpool/pool"
   * import { Ffmpeg, FfmpegDecoder } from "@vidpool/ffmpeg"
   *
   * const Decoder = FfmpegDecoder.layerWith({ numFrames: 16, width: 224, height: 224, resize: "crop" }).pipe(
   *   Layer.provide([Ffmpeg.layerPath("/opt/ffmpeg/bin/ffmpeg"), NodeServices.layer])
   * )
   * const PoolLive = VideoPool.layer.pipe(Layer.provide(Decoder))
   * ```
   */
  readonly layerWith: typeof layerWith
  /**
   * The `VideoDecoder` with everything it needs: ffmpeg found by `Ffmpeg.layer` and Node's
   * process services. Fails to build with `FfmpegNotFound` when there is no ffmpeg.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { VideoPool } from "@vidpool/pool"
   * import { FfmpegDecoder } from "@vidpool/ffmpeg"
   *
   * const PoolLive = VideoPool.layer.pipe(Layer.provide(FfmpegDecoder.layer))
   * ```
   */
  readonly layer: Layer.Layer<VideoDecoder, DecodeError>
} = {
  layerWith,
  layer: layerWith().pipe(Layer.provide([Ffmpeg.layer, NodeServices.layer]))
}
