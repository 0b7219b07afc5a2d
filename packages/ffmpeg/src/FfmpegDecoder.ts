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
  type TensorBuffersShape,
  InvalidData,
  ProcessFailed,
  type Video,
  VideoDecoder,
  VideoTensor
} from "@vidpool/pool"
import * as DecodeChecks from "./internal/DecodeChecks.ts"
import * as DecodeCommand from "./internal/DecodeCommand.ts"
import { Ffmpeg, type FfmpegNotFound } from "./Ffmpeg.ts"
import * as FfmpegConfig from "./internal/FfmpegConfig.ts"
import * as FfmpegLog from "./FfmpegLog.ts"
import * as Input from "./internal/Input.ts"
import * as ScratchFile from "./internal/ScratchFile.ts"

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

const { invalid } = DecodeChecks

/** Checks the options; a wrong one is reported as InvalidData naming the option. */
const checkOptions = (path: string, options: DecodeOptions): Effect.Effect<void, DecodeError> => {
  const found = DecodePlan.problems(options)
  return found.length === 0 ? Effect.void : invalid(path, found.join("; "))
}

/**
 * The `-vf` chain of a decode (see `DecodeCommand.filters`).
 *
 * @since 0.1.0
 * @category internals
 */
export const filters = DecodeCommand.filters

/**
 * A `select` expression keeping the frames at `indices` (see `DecodeCommand.pickExpression`).
 *
 * @since 0.1.0
 * @category internals
 */
export const pickExpression = DecodeCommand.pickExpression

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
  const outcome = yield* DecodeCommand.run(ffmpeg, spawner, path, inputArgs)
  const report = FfmpegLog.parse(outcome.stderr)
  yield* DecodeCommand.failIfSignalled(path, outcome, report)
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

/** What each decode of one decoder uses: ffmpeg and its spawner, the scratch files, the free list, the thread count. */
interface Tools {
  readonly ffmpeg: Ffmpeg["Service"]
  readonly spawner: ChildProcessSpawner.ChildProcessSpawner["Service"]
  readonly scratchDir: string
  readonly scratch: Effect.Success<ReturnType<typeof ScratchFile.makePool>>
  readonly buffers: TensorBuffersShape
  readonly threadArgs: () => Array<string>
}

/** What the header says before any frame is written: the frames picked, the count announced, the first image's size. */
interface HeaderPlan {
  readonly plan: DecodeChecks.Plan | undefined
  readonly announced: number | undefined
  /** The first image's size, for a folder mixing image formats (each input is scaled to it). */
  readonly first: { readonly width: number; readonly height: number } | undefined
}

/**
 * The header first, when the plan depends on it: numFrames/fps pick their frames inside ffmpeg
 * from the header's frame count, and a given size (it multiplies the bytes of every frame) or
 * maxBytes is checked before any frame is written.
 */
const planFromHeader = Effect.fnUntraced(function*(
  tools: Tools,
  path: string,
  input: Input.Input,
  options: DecodeOptions,
  out: DecodePlan.Output
) {
  const subsampled = options.numFrames !== undefined || options.fps !== undefined
  const sized = options.width !== undefined || options.height !== undefined
  const none: HeaderPlan = { plan: undefined, announced: undefined, first: undefined }
  if (!(subsampled || sized || options.maxBytes !== undefined || input.inputs > 1)) return none
  const header = yield* readHeader(tools.ffmpeg, tools.spawner, path, input.args)
  const first = { width: header.width, height: header.height }
  if (options.fps !== undefined && !(header.fps > 0)) {
    return yield* invalid(path, "the clip's frame rate is unknown, so it cannot be resampled to the fps option")
  }
  const announced = DecodePlan.expectedFrames(header, input.images, options, undefined)?.frames
  if (announced === undefined || announced <= 0) return { ...none, announced, first }
  const shown = FfmpegLog.displaySize(header)
  const size = DecodePlan.outputSize(shown.width, shown.height, options)
  // The tensor's true size from the header, before any frame is decoded or listed.
  const count = subsampled
    ? FrameSelection.count(announced, header.fps, options)
    : Math.min(announced, options.maxFrames ?? Infinity)
  const refused = DecodePlan.refusal(count, size.width, size.height, out)
  if (refused !== undefined) return yield* DecodeChecks.refuse(path, out, refused)
  const selection = subsampled ? DecodePlan.selectFrames(announced, header.fps, options, size.width, size.height, out) : undefined
  const plan = selection !== undefined && !DecodePlan.isRefusal(selection) ? { selection, unique: [...new Set(selection.indices)] } : undefined
  return { plan, announced, first }
})

/**
 * ffmpeg's run writing the raw frames to the scratch file at `rawPath`; when it writes fewer frames
 * than the header announced, without an error, the whole range is decoded again and picked from
 * what it holds, as when the header gives no count (the checks decide the rest).
 */
const decodeToScratch = Effect.fnUntraced(function*(
  tools: Tools,
  path: string,
  input: Input.Input,
  options: DecodeOptions,
  out: DecodePlan.Output,
  planned: HeaderPlan,
  rawPath: string,
  rawLimit: number
) {
  const { announced, first } = planned
  const subsampled = options.numFrames !== undefined || options.fps !== undefined
  const run = (picked: DecodeChecks.Plan | undefined) => {
    // Without subsampling every decoded frame is kept, so ffmpeg can stop at maxFrames; with a
    // plan, after the last frame picked. Always at what maxBytes allows.
    const everyFrame = picked === undefined || announced === undefined || picked.unique.length >= announced
    const vf = DecodeCommand.filters(options, everyFrame ? undefined : DecodeCommand.pickExpression(picked.unique))
    const head = Input.headFilters(input, first)
    return DecodeCommand.run(tools.ffmpeg, tools.spawner, path, [
      ...tools.threadArgs(),
      ...input.args,
      ...DecodeCommand.rawOutputArgs({
        chain: head === undefined ? vf : [head, ...vf],
        inputs: input.inputs,
        frameLimit: picked !== undefined ? picked.unique.length : subsampled ? undefined : options.maxFrames,
        fileLimit: rawLimit + 1,
        pixelFormat: out.pixelFormat,
        outPath: rawPath
      })
    ])
  }
  let plan = planned.plan
  let outcome = yield* run(plan)
  let report = FfmpegLog.parse(outcome.stderr)
  if (
    plan !== undefined && outcome.exitCode === 0 && report.errors.length === 0 &&
    (report.framesWritten ?? 0) < plan.unique.length
  ) {
    plan = undefined
    outcome = yield* run(undefined)
    report = FfmpegLog.parse(outcome.stderr)
  }
  return { outcome, report, plan }
})

/** The tensor of the checked frames, read from the scratch file into memory from the decoder's free list. */
const tensorFromScratch = Effect.fnUntraced(function*(
  buffers: TensorBuffersShape,
  path: string,
  options: DecodeOptions,
  out: DecodePlan.Output,
  checked: Effect.Success<ReturnType<typeof DecodeChecks.check>>,
  scratchFd: number
) {
  const { channels, dtype, layout } = out
  const { decoded, frameBytes, height, info, positions, selection, width } = checked
  const frames = selection.indices.length
  const pixels = buffers.takeUnsafe(frames * frameBytes)
  yield* ScratchFile.readBlocks(scratchFd, pixels, frameBytes, FrameSelection.runs(positions)).pipe(
    Effect.catch((cause) =>
      DecodeChecks.fail(path, new InvalidData({ detail: `cannot read ffmpeg's output: ${cause.message}`, cause }))
    )
  )
  const data = DecodePlan.arrange(pixels, frames, height, width, channels, dtype, layout)
  if (data !== pixels) buffers.giveUnsafe(pixels) // the THWC bytes were only a step
  return VideoTensor.makeUnsafe({
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

/**
 * The decoder over the given ffmpeg, defaults and scratch folder, with its own free list
 * (`buffers`: made here, so the memory its consumers give back reaches the decodes that reuse it).
 * Its scratch files and free list live until the scope closes.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeDecoder = Effect.fnUntraced(function*(
  ffmpeg: Ffmpeg["Service"],
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  defaults: DecodeOptions = {},
  given: DecoderSettings = {}
) {
  const buffers = yield* TensorBuffers.make()
  const settings = yield* Effect.orDie(DecoderSettingsSchema.decode(given))
  const scratchDir = settings.scratchDir ?? ScratchFile.defaultDirUnsafe()
  const scratch = yield* ScratchFile.makePool(scratchDir, ".raw", scratchKeepBytes)
  const cores = Os.availableParallelism()
  const running = makeRunning()
  const threadArgs = (): Array<string> => {
    if (settings.threads !== undefined) return ["-threads", String(settings.threads)]
    const now = running.countUnsafe()
    return now <= 1 ? [] : ["-threads", String(Math.max(1, Math.floor(cores / now)))]
  }
  const tools: Tools = { ffmpeg, spawner, scratchDir, scratch, buffers, threadArgs }
  // One decode: the plan from the header, ffmpeg's run into a scratch file, its checks, the tensor.
  const decodeScoped = Effect.fnUntraced(function*(video: Video, options: DecodeOptions) {
    yield* running.counted
    const path = video.path
    yield* checkOptions(path, options)
    const input = yield* Input.open(path, video.source, scratchDir, options.openTimeout)
    const out = DecodePlan.output(options)
    // The largest raw output ffmpeg may write (`-fs`): what maxBytes allows, and a byte more.
    const rawLimit = Math.floor(out.maxBytes / out.elementBytes)
    const planned = yield* planFromHeader(tools, path, input, options, out)
    const raw = yield* scratch.acquire.pipe(
      Effect.catch((cause) =>
        DecodeChecks.fail(
          path,
          new ProcessFailed({ exitCode: null, stderr: `cannot create a scratch file in ${scratchDir}: ${cause.message}`, cause })
        )
      )
    )
    const { outcome, plan, report } = yield* decodeToScratch(tools, path, input, options, out, planned, raw.path, rawLimit)
    const checked = yield* DecodeChecks.check({
      path,
      options,
      input,
      out,
      outcome,
      report,
      plan,
      announced: planned.announced,
      rawLimit,
      scratchFd: raw.fd
    })
    return yield* tensorFromScratch(buffers, path, options, out, checked, raw.fd)
  })

  return VideoDecoder.of({ decode: decodeWith("FfmpegDecoder.decode", defaults, decodeScoped), buffers })
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
      return yield* makeDecoder(ffmpeg, spawner, defaults, resolved)
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
   * process services. Fails to build with `FfmpegNotFound` (this package's error) when there is
   * no ffmpeg.
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
  readonly layer: Layer.Layer<VideoDecoder, FfmpegNotFound>
} = {
  layerWith,
  layer: layerWith().pipe(Layer.provide([Ffmpeg.layer, NodeServices.layer]))
}
