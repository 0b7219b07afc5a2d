/**
 * The `Engine` of the real command: the Evaluator over a VideoPool decoding with ffmpeg, the
 * built-in metric catalogue, ffmpeg's probe, and the demo corpus. Each call builds what it needs,
 * so that a command that does not decode (`metrics`, a usage error) never looks for ffmpeg.
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

const EvaluatorLive = Evaluator.layer.pipe(
  Layer.provide(VideoPool.layer),
  Layer.provide(FfmpegDecoder.layer)
)

const FfmpegLive = Layer.mergeAll(Ffmpeg.layer, NodeServices.layer)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Engine> = Layer.succeed(
  Engine,
  Engine.of({
    metrics: builtinRegistry.list,
    unknownMetric: (name) => new UnknownMetric({ name, known: builtinRegistry.list.map((m) => m.name) }),
    ready: Effect.asVoid(Effect.provide(Effect.service(Ffmpeg), Ffmpeg.layer)),
    evaluate: (samples, options) =>
      Evaluator.use((evaluator) => evaluator.evaluate(samples, options)).pipe(Effect.provide(EvaluatorLive)),
    probe: (path) => probe(path).pipe(Effect.provide(FfmpegLive)),
    makeDemoCorpus: (folder) =>
      Effect.gen(function*() {
        const ffmpeg = yield* Ffmpeg
        return yield* DemoCorpus.make(ffmpeg.path, folder)
      }).pipe(Effect.provide(FfmpegLive))
  })
)
