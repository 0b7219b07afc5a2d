/**
 * The composition root: the default layers of the library and of the `vidpool` command, built in
 * one place above the packages they join (`@vidpool/pool`, `@vidpool/eval`, `@vidpool/ffmpeg`,
 * `@vidpool/libav`). `@vidpool/eval` knows no decoder; this module chooses one.
 *
 * @since 0.3.0
 */
import { Layer } from "effect"
import { type VideoDecoder, VideoPool } from "@vidpool/pool"
import { Evaluator, MetricRegistry } from "@vidpool/eval"
import { FfmpegDecoder, type FfmpegNotFound } from "@vidpool/ffmpeg"
import { LibavDecoder, type LibavUnavailable } from "@vidpool/libav"
import type { DecoderChoice } from "./Engine.ts"

/**
 * The decoder of a choice, over the command-line decoder layer given (which `ffmpeg` is, and the
 * fallback of `auto`): `libav` decodes in process on decode threads, `auto` does so where node-av
 * loads and else falls back to the command-line one.
 *
 * @since 0.3.0
 * @category layers
 */
export const decoder = <E>(
  choice: DecoderChoice,
  ffmpegDecoder: Layer.Layer<VideoDecoder, E>
): Layer.Layer<VideoDecoder, E | LibavUnavailable> =>
  choice === "ffmpeg"
    ? ffmpegDecoder
    : choice === "libav"
    ? LibavDecoder.layer
    : LibavDecoder.layerAuto(ffmpegDecoder)

/**
 * The Evaluator over the metrics of a registry layer and a decoder layer, with the `VideoPool` it
 * draws from (also provided, for programs that open pools of their own). The decoder's layer owns
 * its free list: decoded memory leased by the Evaluator goes back there from the metric workers,
 * and the next decodes reuse it.
 *
 * @since 0.3.0
 * @category layers
 */
export const evaluatorWith = <E1, E2>(
  registryLayer: Layer.Layer<MetricRegistry, E1>,
  decoderLayer: Layer.Layer<VideoDecoder, E2>
): Layer.Layer<Evaluator | VideoPool, E1 | E2> =>
  Evaluator.layer.pipe(
    Layer.provide(registryLayer),
    Layer.provideMerge(VideoPool.layer),
    Layer.provide(decoderLayer)
  )

/**
 * The common case in one layer: the Evaluator with the built-in metrics, its `VideoPool` and the
 * default decoder: the in-process one (`LibavDecoder`, FFmpeg's libraries on decode threads) where
 * node-av loads, else the command-line one (`FfmpegDecoder.layer`, one ffmpeg process per video).
 * Fails to build with `FfmpegNotFound` (of `@vidpool/ffmpeg`) when neither is there.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Video } from "@vidpool/pool"
 * import { Evaluator } from "@vidpool/eval"
 * import { Live } from "@vidpool/cli"
 *
 * const program = Evaluator.use((ev) =>
 *   ev.evaluate([{ video: Video.file("gen.mp4"), reference: Video.file("ref.mp4") }], { metrics: ["common.psnr"] })
 * )
 * Effect.runPromise(program.pipe(Effect.provide(Live.layerEvaluator))).then((r) => console.log(r.summary))
 * ```
 *
 * @since 0.3.0
 * @category layers
 */
export const layerEvaluator: Layer.Layer<Evaluator | VideoPool, FfmpegNotFound> = evaluatorWith(
  MetricRegistry.layer,
  LibavDecoder.layerAuto(FfmpegDecoder.layer)
)
