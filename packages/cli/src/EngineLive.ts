/**
 * The `Engine` of the real command: the Evaluator over a VideoPool and the chosen decoder (as the
 * composition root, `Live.ts`, builds them), each built once for the engine's lifetime (evaluations
 * reuse its workers, and the report's decodes its decoder), probe and the demo.
 *
 * @since 0.1.0
 */
import { NodeServices } from "@effect/platform-node"
import { Context, Effect, Layer, Scope } from "effect"
import { type Video, VideoDecoder } from "@vidpool/pool"
import { Evaluator, MetricRegistry } from "@vidpool/eval"
import { Ffmpeg, FfmpegDecoder, probe } from "@vidpool/ffmpeg"
import { LibavDecoder, LibavUnavailable } from "@vidpool/libav"
import * as DemoCorpus from "./internal/DemoCorpus.ts"
import * as Live from "./Live.ts"
import { type DecoderChoice, decoderChoices, type DecoderInfo, type DecoderUnavailable, Engine, type FfmpegLookupError } from "./Engine.ts"

/**
 * How the engine builds the decoder of a choice, over the command-line decoder layer (which
 * `ffmpeg` is, and the fallback of `auto`): `Live.decoder` unless a test gives another.
 *
 * @since 0.3.0
 * @category models
 */
export type DecoderOf = (
  choice: DecoderChoice,
  ffmpegDecoder: Layer.Layer<VideoDecoder, FfmpegLookupError>
) => Layer.Layer<VideoDecoder, DecoderUnavailable>

/**
 * The engine over the metrics of the `MetricRegistry` layer given (`MetricRegistry.layer`, the
 * built-ins, for `layer`). Everything it builds belongs to its layer's scope: provided once at the
 * top of the program, each decoder choice's decoder (on first use) serves both that choice's
 * Evaluator (whose metric worker threads serve every evaluation of the process) and the decodes
 * outside an evaluation (the report's pictures), with one free list and one set of decode threads.
 * ffmpeg is looked up at most once, on first use, and shared by the readiness check, the decoder,
 * probe and the demo; so a command that does not decode (`metrics`, a usage error) never looks for it.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerWith = <E>(
  registryLayer: Layer.Layer<MetricRegistry, E>,
  decoderOf: DecoderOf = Live.decoder
): Layer.Layer<Engine, E> =>
  Layer.effect(
    Engine,
    Effect.gen(function*() {
      const scope = yield* Scope.Scope
      const registry = yield* MetricRegistry
      // The lookup runs on first use only, and its outcome (the binary or why none) is kept.
      const lookup = yield* Effect.cached(Effect.provide(Effect.service(Ffmpeg), Ffmpeg.layer))
      const FfmpegLive = Layer.mergeAll(Layer.effect(Ffmpeg, lookup), NodeServices.layer)
      const FfmpegDecoderLive = FfmpegDecoder.layerWith().pipe(Layer.provide(FfmpegLive))
      // One decoder per choice, built on first use into the engine's scope and kept.
      const decoders = yield* perChoice((choice) =>
        Effect.map(Layer.buildWithScope(decoderOf(choice, FfmpegDecoderLive), scope), Context.get(VideoDecoder))
      )
      // One Evaluator per choice, over that choice's decoder, built on its first evaluation and kept.
      const evaluators = yield* perChoice((choice) =>
        Effect.flatMap(decoders(choice), (decoder) =>
          Effect.map(
            Layer.buildWithScope(Live.evaluatorWith(Layer.succeed(MetricRegistry, registry), Layer.succeed(VideoDecoder, decoder)), scope),
            Context.get(Evaluator)
          ))
      )
      const { decoderInfo, ready } = decoderChecks(lookup)
      return Engine.of({
        metrics: registry.list,
        registry,
        resolveMetrics: Effect.fn("Engine.resolveMetrics")(function*(selectors: ReadonlyArray<string>) {
          const chosen = yield* registry.resolve(selectors)
          return chosen.map((metric) => metric.name)
        }),
        ready,
        decoderInfo,
        evaluate: Effect.fn("Engine.evaluate")(function*(samples, options) {
          const evaluator = yield* evaluators(options.decoder)
          return yield* evaluator.evaluate(samples, options)
        }),
        decode: Effect.fn("Engine.decode")(function*(video: Video, choice: DecoderChoice) {
          const decoder = yield* decoders(choice)
          return yield* decoder.decode(video)
        }),
        probe: Effect.fn("Engine.probe")(function*(path: string) {
          return yield* probe(path).pipe(Effect.provide(FfmpegLive))
        }),
        makeDemoCorpus: Effect.fn("Engine.makeDemoCorpus")(function*(folder: string) {
          const ffmpeg = yield* lookup
          return yield* DemoCorpus.make(ffmpeg.path, folder).pipe(Effect.provide(FfmpegLive))
        })
      })
    })
  ).pipe(Layer.provide(registryLayer))

/** One cached build per decoder choice: each runs on its first use only, and its outcome is kept. */
const perChoice = <A>(build: (choice: DecoderChoice) => Effect.Effect<A, DecoderUnavailable>) =>
  Effect.map(
    Effect.forEach(decoderChoices, (choice) => Effect.cached(build(choice))),
    (built) => (choice: DecoderChoice): Effect.Effect<A, DecoderUnavailable> => built[decoderChoices.indexOf(choice)]
  )

/** Whether a decoder choice can run here, and what it is, over the (cached) ffmpeg lookup. */
const decoderChecks = (lookup: Effect.Effect<Ffmpeg["Service"], FfmpegLookupError>) => {
  const notInstalled = new LibavUnavailable({ detail: "node-av is not installed for this platform" })
  // auto: in process when node-av is installed (should its addon not load, the decoder layer
  // falls back to ffmpeg, which the run then looks up).
  const ready = Effect.fn("Engine.ready")(function*(choice: DecoderChoice) {
    if (choice === "ffmpeg") return yield* Effect.asVoid(lookup)
    if (LibavDecoder.installed()) return
    if (choice === "libav") return yield* notInstalled
    return yield* Effect.asVoid(lookup)
  })
  const ffmpegInfo = Effect.map(lookup, (ffmpeg): DecoderInfo => ({ name: "ffmpeg", version: ffmpeg.version, path: ffmpeg.path }))
  const libavInfo = Effect.map(LibavDecoder.version, (version): DecoderInfo => ({ name: "libav", version }))
  const decoderInfo = Effect.fn("Engine.decoderInfo")(function*(choice: DecoderChoice) {
    if (choice === "ffmpeg") return yield* ffmpegInfo
    if (!LibavDecoder.installed()) return choice === "libav" ? yield* notInstalled : yield* ffmpegInfo
    if (choice === "libav") return yield* libavInfo
    return yield* Effect.catchTag(libavInfo, "LibavUnavailable", () => ffmpegInfo)
  })
  return { ready, decoderInfo }
}

/**
 * The engine of the `vidpool` command: the built-in metrics.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Engine> = layerWith(MetricRegistry.layer)
