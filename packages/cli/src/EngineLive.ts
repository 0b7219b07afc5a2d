/**
 * The `Engine` of the real command: the Evaluator over a VideoPool decoding with ffmpeg, the
 * built-in metric catalogue, ffmpeg's probe, and the demo corpus. ffmpeg is looked up at most once
 * per run, on first use, and shared by the readiness check, the decoder, probe and the demo; so a
 * command that does not decode (`metrics`, a usage error) never looks for it.
 *
 * @since 0.1.0
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { VideoPool } from "@vidpool/pool"
import { builtinRegistry, Evaluator, UnknownMetric } from "@vidpool/eval"
import { Ffmpeg, FfmpegDecoder, probe } from "@vidpool/ffmpeg"
import * as DemoCorpus from "./DemoCorpus.ts"
import { Engine } from "./Engine.ts"

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
    const EvaluatorLive = Evaluator.layer.pipe(
      Layer.provide(VideoPool.layer),
      Layer.provide(FfmpegDecoder.layerWith()),
      Layer.provide(FfmpegLive)
    )
    return Engine.of({
      metrics: builtinRegistry.list,
      unknownMetric: (name) => new UnknownMetric({ name, known: builtinRegistry.list.map((m) => m.name) }),
      ready: Effect.asVoid(lookup),
      evaluate: (samples, options) =>
        Evaluator.use((evaluator) => evaluator.evaluate(samples, options)).pipe(Effect.provide(EvaluatorLive)),
      probe: (path) => probe(path).pipe(Effect.provide(FfmpegLive)),
      makeDemoCorpus: (folder) =>
        Effect.gen(function*() {
          const ffmpeg = yield* lookup
          return yield* DemoCorpus.make(ffmpeg.path, folder)
        }).pipe(Effect.provide(FfmpegLive))
    })
  })
)
