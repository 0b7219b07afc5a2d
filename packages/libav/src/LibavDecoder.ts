/**
 * The in-process `VideoDecoder`: FFmpeg's libraries (node-av) decoding on a pool of worker
 * threads, each frame converted straight into the tensor's buffer (a slot of the thread's shared
 * slab, seen by the caller without a copy). Real seeking for `start`, and the stream's own
 * timestamps.
 *
 * @since 0.2.0
 */
import { createRequire } from "node:module"
import * as Os from "node:os"
import { Config, Effect, Layer, Option, Pool } from "effect"
import {
  DecodeError,
  type DecodeOptions,
  DecodePlan,
  decodeWith,
  InputCheck,
  InvalidData,
  makeRunning,
  Options,
  ProcessFailed,
  TensorBuffers,
  type TensorBuffersShape,
  type Video,
  VideoDecoder
} from "@vidpool/pool"
import * as DecodeThreads from "./internal/DecodeThreads.ts"
import * as Slab from "./internal/Slab.ts"

/**
 * Settings of the decoder itself (not of one video). Each one not given is read from the Effect
 * config (environment variables by default): `VIDPOOL_DECODE_THREADS`, `VIDPOOL_FFMPEG_THREADS`.
 *
 * @since 0.2.0
 * @category models
 */
export interface LibavSettings {
  /** Decode worker threads, each decoding one video at a time. Default: the core count. */
  readonly decodeThreads?: number
  /**
   * FFmpeg's own threads inside one decode. Default: adaptive, `floor(cores / decodes running)`,
   * at least 1 (a decode that runs alone uses every core; several share them).
   */
  readonly ffmpegThreads?: number
  /**
   * Shared memory per decode thread for the tensors it decodes, in bytes (see `Slab`): a tensor in
   * it reaches the main thread without a transfer, and its memory is reused once the tensor is
   * recycled (the decoder's `buffers.recycle`, or the end of a `Pool.lease`) or garbage-collected. Default 128 MiB; 0 turns it off
   * (every tensor's memory is then transferred).
   */
  readonly slabBytes?: number
}

/**
 * The decoder's settings (`LibavSettings`) as one Schema: counts from 1 to `Options.maxCount`,
 * `slabBytes` a whole number of bytes. Decoded once, when the layer is built (a bad one is a
 * defect naming it).
 *
 * @since 0.2.0
 * @category options
 */
export const LibavSettingsSchema = Options.struct({
  decodeThreads: Options.Count,
  ffmpegThreads: Options.Count,
  slabBytes: Options.Bytes
})

/** An optional setting from the config, as written (a number as a number): decoded with the settings. */
const setting = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value): unknown => Options.fromText(Option.getOrUndefined(value))),
    Effect.orDie
  )

/**
 * The decoder over a pool of decode threads, with its own free list (`buffers`), all owned by the
 * current Scope: the service `LibavDecoder.layerWith` provides, for programs that build services
 * without layers. The free list is made here, so the memory its consumers give back always reaches
 * the decode threads that lend and reuse it.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeDecoder = Effect.fnUntraced(function*(
  defaults: DecodeOptions = {},
  settings: LibavSettings = {}
) {
  const buffers = yield* TensorBuffers.make()
  const cores = Os.availableParallelism()
  const read = yield* Effect.orDie(LibavSettingsSchema.decode(settings))
  const size = read.decodeThreads ?? cores
  const slabBytes = read.slabBytes ?? Slab.defaultBytes
  const threads = yield* DecodeThreads.makePool(size, slabBytes, buffers)
  const running = makeRunning()
  const ffmpegThreads = () => read.ffmpegThreads ?? Math.max(1, Math.floor(cores / Math.max(1, running.countUnsafe())))
  const decodeScoped = (video: Video, options: DecodeOptions) =>
    Effect.gen(function*() {
      const problems = DecodePlan.problems(options)
      if (problems.length > 0) {
        return yield* Effect.fail(new DecodeError({ path: video.path, reason: new InvalidData({ detail: problems.join("; ") }) }))
      }
      // The path is checked here, where a file that never answers can be given up on (within
      // openTimeout); a decode thread blocked inside FFmpeg could not be.
      const checked = yield* InputCheck.check(video.path, video.source, options.openTimeout)
      const images = checked._tag === "Folder" ? checked.images : undefined
      yield* running.counted
      // A replacement thread that cannot start fails this sample, not the run.
      const thread = yield* Pool.get(threads).pipe(
        Effect.mapError((error) =>
          new DecodeError({ path: video.path, reason: new ProcessFailed({ exitCode: null, stderr: "", cause: error }) })
        )
      )
      const result = yield* thread.decode(video, options, ffmpegThreads(), images).pipe(
        Effect.onExit(() => (thread.dead() ? Pool.invalidate(threads, thread) : Effect.void))
      )
      return result
    })
  return VideoDecoder.of({ decode: decodeWith("LibavDecoder.decode", defaults, decodeScoped), buffers })
})

const layerWith = (
  defaults: DecodeOptions = {},
  settings: LibavSettings = {}
): Layer.Layer<VideoDecoder, DecodeThreads.LibavUnavailable> =>
  Layer.effect(
    VideoDecoder,
    Effect.gen(function*() {
      const decodeThreads = settings.decodeThreads ?? (yield* setting("VIDPOOL_DECODE_THREADS"))
      const ffmpegThreads = settings.ffmpegThreads ?? (yield* setting("VIDPOOL_FFMPEG_THREADS"))
      return yield* makeDecoder(defaults, {
        ...settings,
        ...(decodeThreads !== undefined ? { decodeThreads } : {}),
        ...(ffmpegThreads !== undefined ? { ffmpegThreads } : {})
      } as LibavSettings)
    })
  )

/**
 * The in-process decoder where node-av loads, else `fallback` (the command-line decoder, say).
 */
const layerAuto = <E, R>(
  fallback: Layer.Layer<VideoDecoder, E, R>,
  defaults: DecodeOptions = {},
  settings: LibavSettings = {}
): Layer.Layer<VideoDecoder, E, R> =>
  layerWith(defaults, settings).pipe(Layer.catchTag("LibavUnavailable", () => fallback))

// Resolved from this package's own folder, also when a bundle (the CLI's) inlined this module.
const require = createRequire(createRequire(import.meta.url).resolve("@vidpool/libav/package.json"))

/** Whether node-av is installed where this package resolves it (cheap: no addon is loaded). */
const installed = (): boolean => {
  try {
    require.resolve("node-av")
    return true
  } catch {
    return false
  }
}

/**
 * The in-process decoder's layers.
 *
 * @since 0.2.0
 * @category layers
 */
export const LibavDecoder: {
  /**
   * The decoder with per-video defaults (overridden by each `Video`'s own options) and settings.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { VideoPool } from "@vidpool/pool"
   * import { LibavDecoder } from "@vidpool/libav"
   *
   * const PoolLive = VideoPool.layer.pipe(Layer.provide(LibavDecoder.layerWith({ numFrames: 16 }, { decodeThreads: 2 })))
   * ```
   */
  readonly layerWith: typeof layerWith
  /**
   * The decoder with its defaults. Fails to build with `LibavUnavailable` when node-av does not
   * load on this platform.
   */
  readonly layer: Layer.Layer<VideoDecoder, DecodeThreads.LibavUnavailable>
  /**
   * This decoder where node-av loads on this platform, else `fallback`: what
   * `vidpool eval --decoder auto` uses, with the command-line decoder as the fallback.
   *
   * @example
   * ```ts
   * import { FfmpegDecoder } from "@vidpool/ffmpeg"
   * import { LibavDecoder } from "@vidpool/libav"
   *
   * const Decoder = LibavDecoder.layerAuto(FfmpegDecoder.layer)
   * ```
   */
  readonly layerAuto: typeof layerAuto
  /** Whether node-av is installed for this package (the addon itself loads on a decode thread). */
  readonly installed: () => boolean
  /** The FFmpeg version of the addon, read on a decode thread started (and ended) for it. */
  readonly version: Effect.Effect<string, DecodeThreads.LibavUnavailable>
} = {
  layerWith,
  layer: layerWith(),
  layerAuto,
  installed,
  // A thread that decodes nothing: no slab, and a free list of its own that nothing fills.
  version: Effect.scoped(Effect.map(DecodeThreads.spawn(0, TensorBuffers.makeUnsafe()), (thread) => thread.ffmpeg))
}
