// The Evaluator as the composition root (`Live.layerEvaluator` of @vidpool/cli) builds it, for the
// tests of this package, which sits below the decoders' packages and below the root.
import { Layer } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { LibavDecoder } from "@vidpool/libav"
import { VideoPool } from "@vidpool/pool"
import { Evaluator, MetricRegistry } from "../../src/index.ts"

/** The Evaluator over the registry layer given, its VideoPool and the default decoder (libav, else ffmpeg). */
export const layerWith = <E>(registry: Layer.Layer<MetricRegistry, E>) =>
  Evaluator.layer.pipe(
    Layer.provide(registry),
    Layer.provideMerge(VideoPool.layer),
    Layer.provide(LibavDecoder.layerAuto(FfmpegDecoder.layer))
  )

/** The Evaluator over the built-in metrics, its VideoPool and the default decoder. */
export const layerDefault = layerWith(MetricRegistry.layer)
