/**
 * The `Engine` of the real command: the Evaluator over a VideoPool decoding with the chosen
 * decoder (in process with node-av, or with the ffmpeg command; `auto` picks the first), the
 * built-in metric catalogue, ffmpeg's probe, and the demo corpus. ffmpeg is looked up at most once
 * per run, on first use, and shared by the readiness check, the decoder, probe and the demo; so a
 * command that does not decode (`metrics`, a usage error) never looks for it.
 *
 * @since 0.1.0
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { type DecodeError, type VideoDecoder, VideoPool } from "@vidpool/pool"
import { builtinRegistry, Evaluator, UnknownMetric } from "@vidpool/eval"
import { Ffmpeg, FfmpegDecoder, probe } from "@vidpool/ffmpeg"
import { LibavDecoder, LibavUnavailable } from "@vidpool/libav"
import * as DemoCorpus from "./DemoCorpus.ts"
import { type DecoderChoice, type DecoderInfo, Engine, type Failure } from "./Engine.ts"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Engine> = Layer.effect(
  Engine,
  Effect.gen(function*() {
    // The lookup runs on first use only, and its outcome (the binary or why none) is kept.
    const lookup = yield* Effect.cached(Effect.provide(Effect.service(Ffmpeg), Ffmpeg.layer))
    const FfmpegLive = Layer.mergeAll(Layer.effect(Ffmpeg, lookup), NodeServices.layer)
    const FfmpegDecoderLive = FfmpegDecoder.layerWith().pipe(Layer.provide(FfmpegLive))
    const decoderLayer = (choice: DecoderChoice): Layer.Layer<VideoDecoder, DecodeError | LibavUnavailable> =>
      choice === "ffmpeg"
        ? FfmpegDecoderLive
        : choice === "libav"
        ? LibavDecoder.layer
        : LibavDecoder.layerAuto(FfmpegDecoderLive)
    const evaluatorLayer = (choice: DecoderChoice) =>
      Evaluator.layer.pipe(Layer.provide(VideoPool.layer), Layer.provide(decoderLayer(choice)))
    const notInstalled = new LibavUnavailable({ detail: "node-av is not installed for this platform" })
    // auto: in process when node-av is installed (should its addon not load, the decoder layer
    // falls back to ffmpeg, which the run then looks up).
    const ready = (choice: DecoderChoice) =>
      choice === "ffmpeg"
        ? Effect.asVoid(lookup)
        : LibavDecoder.installed()
        ? Effect.void
        : choice === "libav"
        ? Effect.fail(notInstalled)
        : Effect.asVoid(lookup)
    const ffmpegInfo = Effect.map(lookup, (ffmpeg): DecoderInfo => ({ name: "ffmpeg", version: ffmpeg.version, path: ffmpeg.path }))
    const libavInfo = Effect.map(LibavDecoder.version, (version): DecoderInfo => ({ name: "libav", version }))
    const decoderInfo = (choice: DecoderChoice): Effect.Effect<DecoderInfo, Failure> =>
      choice === "ffmpeg"
        ? ffmpegInfo
        : !LibavDecoder.installed()
        ? choice === "libav" ? Effect.fail(notInstalled) : ffmpegInfo
        : choice === "libav"
        ? libavInfo
        : Effect.catchTag(libavInfo, "LibavUnavailable", () => ffmpegInfo)
    return Engine.of({
      metrics: builtinRegistry.list,
      unknownMetric: (name) => new UnknownMetric({ name, known: builtinRegistry.list.map((m) => m.name) }),
      ready,
      decoderInfo,
      evaluate: (samples, options) =>
        Evaluator.use((evaluator) => evaluator.evaluate(samples, options)).pipe(
          Effect.provide(evaluatorLayer(options.decoder))
        ),
      probe: (path) => probe(path).pipe(Effect.provide(FfmpegLive)),
      makeDemoCorpus: (folder) =>
        Effect.gen(function*() {
          const ffmpeg = yield* lookup
          return yield* DemoCorpus.make(ffmpeg.path, folder)
        }).pipe(Effect.provide(FfmpegLive))
    })
  })
)
