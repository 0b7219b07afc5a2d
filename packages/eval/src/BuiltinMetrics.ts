/**
 * The metrics vidpool ships: pure TypeScript kernels, and the model metrics (`ModelMetrics.ts`),
 * which run model files the user gives.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { clipMetrics } from "./ClipMetrics.ts"
import { dynamicDegree } from "./DynamicDegree.ts"
import { colourMotionFeatures, type FeatureExtractorShape, frechetMetric } from "./Frechet.ts"
import { type Geometry, geometry, mismatch } from "./Frames.ts"
import { lpips } from "./LpipsMetric.ts"
import * as Metric from "./Metric.ts"
import { fvd, subjectConsistency } from "./ModelMetrics.ts"
import { MSE_FLOOR, mseUnitFrames, psnrFromUnitMse } from "./internal/MseUnit.ts"
import * as PhysicsIq from "./PhysicsIq.ts"
import { mseFrames, PSNR_CAP, psnrFrames } from "./Psnr.ts"
import { sharpnessFrames } from "./Sharpness.ts"
import { ssimFrames, WINDOW } from "./Ssim.ts"
import { ssimRgbFrames } from "./internal/SsimRgb.ts"
import { flickeringScore, frameDifferences } from "./Temporal.ts"

const mean = (values: ArrayLike<number>): number => {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]
  return sum / values.length
}

const tensorField = (input: Metric.MetricInput, field: string): VideoTensor | string => {
  const value = input[field]
  return Metric.isTensor(value) ? value : `field "${field}" is not a decoded video (${typeof value})`
}

/** Why two videos' frames cannot be compared pixel by pixel (frame counts aside), or `undefined`. */
const frameMismatch = (a: Geometry, b: Geometry): string | undefined => {
  if (a.height !== b.height || a.width !== b.width) {
    return `frame sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`
  }
  if (a.channels !== b.channels) return `channel counts differ (${a.channels} vs ${b.channels})`
  return undefined
}

/**
 * A metric on `video` against `reference`, frame by frame; skipped when the frames cannot be
 * compared or there are none. `frames`: `"same"` (vidpool's own metrics) skips videos of
 * different frame counts; `"shorter"` (FastVideo's) cuts both to the shorter clip and says so
 * in the details.
 */
const pairwise = (options: {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly frames: "same" | "shorter"
  readonly check?: (a: VideoTensor) => string | undefined
  readonly perFrame: (a: VideoTensor, b: VideoTensor) => Float64Array
  readonly details?: Record<string, unknown>
}): Metric.SampleMetric =>
  Metric.sample({
    name: options.name,
    version: options.version,
    needs: ["video", "reference"],
    description: options.description,
    compute: (input) => {
      const a = tensorField(input, "video")
      const b = tensorField(input, "reference")
      if (typeof a === "string") return Metric.skipped(options.name, a)
      if (typeof b === "string") return Metric.skipped(options.name, b)
      const ga = geometry(a)
      const gb = geometry(b)
      const why = (options.frames === "same" ? mismatch(ga, gb) : frameMismatch(ga, gb)) ?? options.check?.(a)
      if (why !== undefined) return Metric.skipped(options.name, why)
      if (ga.frames === 0 || gb.frames === 0) {
        return Metric.skipped(
          options.name,
          options.frames === "same" ? "the videos have no frames" : `a video has no frames (${ga.frames} vs ${gb.frames})`
        )
      }
      const perFrame = options.perFrame(a, b)
      const cut = ga.frames === gb.frames ? {} : { videoFrames: ga.frames, referenceFrames: gb.frames }
      return Metric.result(options.name, mean(perFrame), {
        ...options.details,
        frames: perFrame.length,
        ...cut,
        perFrame: Array.from(perFrame)
      })
    }
  })

/** A metric on the `video` field alone. */
const single = (options: {
  readonly name: string
  readonly version: string
  readonly description: string
  readonly compute: (video: VideoTensor) => Metric.MetricResult
}): Metric.SampleMetric =>
  Metric.sample({
    name: options.name,
    version: options.version,
    needs: ["video"],
    description: options.description,
    compute: (input) => {
      const video = tensorField(input, "video")
      return typeof video === "string" ? Metric.skipped(options.name, video) : options.compute(video)
    }
  })

/**
 * `common.mse`, FastVideo's definition: per frame, the mean over channels and pixels of the
 * squared difference of frames on [0, 1]; averaged over the frames of the shorter clip.
 *
 * @since 0.1.0
 * @category metrics
 */
export const mse = pairwise({
  frames: "shorter",
  name: "common.mse",
  version: "2",
  description: "Mean squared error of video against reference, FastVideo's definition: frames on [0, 1], all channels, " +
    "per frame then averaged, over the shorter clip's frames",
  perFrame: mseUnitFrames
})

/**
 * `common.psnr`, FastVideo's definition: per frame `10 log10(1 / max(MSE, 1e-10))` with the MSE
 * of frames on [0, 1] over all channels (identical frames: 100 dB); averaged over the frames of
 * the shorter clip.
 *
 * @since 0.1.0
 * @category metrics
 */
export const psnr = pairwise({
  frames: "shorter",
  name: "common.psnr",
  version: "2",
  description: "PSNR in dB of video against reference, FastVideo's definition: 10 log10(1 / max(MSE, 1e-10)) per frame " +
    "on [0, 1], all channels, then averaged, over the shorter clip's frames; identical frames count as 100 dB",
  perFrame: (a, b) => mseUnitFrames(a, b).map(psnrFromUnitMse),
  details: { mseFloor: MSE_FLOOR }
})

/**
 * `common.ssim`, FastVideo's definition: SSIM of every channel on [0, 1], 11x11 Gaussian window
 * (sigma 1.5) at every pixel with zero padding, C1 0.01^2, C2 0.03^2; per frame the mean of the
 * map, averaged over the frames of the shorter clip (`SsimRgb`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const ssim = pairwise({
  frames: "shorter",
  name: "common.ssim",
  version: "2",
  description: "SSIM of video against reference, FastVideo's definition: every channel on [0, 1], Gaussian window 11x11 " +
    "(sigma 1.5) zero-padded to the frame size, C1 0.01^2, C2 0.03^2, per frame then averaged, over the shorter clip's frames",
  perFrame: ssimRgbFrames,
  details: { channel: "all" }
})

/**
 * `vidpool.mse_255`: mean squared error per frame (0-255 scale, all channels), averaged over
 * frames; the clips must have the same frame count. `common.mse` before 0.3.0.
 *
 * @since 0.3.0
 * @category metrics
 */
export const mse255 = pairwise({
  frames: "same",
  name: "vidpool.mse_255",
  version: "1",
  description: "Mean squared error of video against reference (0-255 scale, all channels), per frame then averaged",
  perFrame: mseFrames
})

/**
 * `vidpool.psnr_255`: PSNR per frame (peak 255, all channels), averaged over frames; a frame pair
 * with no difference counts as `PSNR_CAP` (100 dB); the clips must have the same frame count.
 * `common.psnr` before 0.3.0.
 *
 * @since 0.3.0
 * @category metrics
 */
export const psnr255 = pairwise({
  frames: "same",
  name: "vidpool.psnr_255",
  version: "1",
  description: `PSNR in dB of video against reference (peak 255, all channels), per frame then averaged; identical frames count as ${PSNR_CAP} dB`,
  perFrame: psnrFrames,
  details: { cap: PSNR_CAP }
})

/**
 * `vidpool.ssim_luma`: SSIM of the luma (BT.601) per frame, Gaussian window 11, sigma 1.5, K1
 * 0.01, K2 0.03, peak 255, valid positions only, averaged over frames; the clips must have the
 * same frame count. `common.ssim` before 0.3.0.
 *
 * @since 0.3.0
 * @category metrics
 */
export const ssimLuma = pairwise({
  frames: "same",
  name: "vidpool.ssim_luma",
  version: "1",
  description: "SSIM of video against reference on BT.601 luma (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, " +
    "valid positions), per frame then averaged",
  check: (a) => {
    const { width, height } = geometry(a)
    return width < WINDOW || height < WINDOW
      ? `frames of ${width}x${height} are smaller than the ${WINDOW}x${WINDOW} window`
      : undefined
  },
  perFrame: ssimFrames,
  details: { channel: "luma" }
})

/**
 * `vbench.temporal_flickering`: VBench's score `(255 - mean absolute difference of consecutive
 * frames) / 255`, in [0, 1], higher is steadier.
 *
 * @since 0.1.0
 * @category metrics
 */
export const temporalFlickering = single({
  name: "vbench.temporal_flickering",
  version: "1",
  description: "VBench temporal flickering: (255 - mean absolute difference of consecutive frames) / 255, in [0, 1]",
  compute: (video) => {
    const diffs = frameDifferences(video)
    if (diffs.length === 0) return Metric.skipped("vbench.temporal_flickering", "needs at least 2 frames")
    const mad = mean(diffs)
    return Metric.result("vbench.temporal_flickering", flickeringScore(mad), { meanAbsDiff: mad })
  }
})

/**
 * `motion.frame_difference`: mean absolute difference of consecutive frames (0-255 scale).
 *
 * @since 0.1.0
 * @category metrics
 */
export const frameDifference = single({
  name: "motion.frame_difference",
  version: "1",
  description: "Mean absolute difference of consecutive frames (0-255 scale, all channels)",
  compute: (video) => {
    const diffs = frameDifferences(video)
    if (diffs.length === 0) return Metric.skipped("motion.frame_difference", "needs at least 2 frames")
    return Metric.result("motion.frame_difference", mean(diffs), { perFrame: Array.from(diffs) })
  }
})

/**
 * `quality.sharpness`: variance of the Laplacian of the luma per frame, averaged.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sharpness = single({
  name: "quality.sharpness",
  version: "1",
  description: "Variance of the Laplacian of the luma (0-255 scale), per frame then averaged",
  compute: (video) => {
    const { frames, width, height } = geometry(video)
    if (frames === 0 || width < 3 || height < 3) {
      return Metric.skipped("quality.sharpness", `needs frames of at least 3x3 (got ${frames} of ${width}x${height})`)
    }
    return Metric.result("quality.sharpness", mean(sharpnessFrames(video)), { frames })
  }
})

/**
 * `common.frechet_distance` over a given extractor (what the `FeatureExtractor` service plugs in).
 *
 * @since 0.1.0
 * @category metrics
 */
export const frechetDistanceWith = (extractor: FeatureExtractorShape): Metric.SetMetric =>
  frechetMetric({
    name: "common.frechet_distance",
    version: "1",
    extractor,
    description: extractor === colourMotionFeatures
      ? "Frechet distance between generated and reference videos on per-clip colour and motion statistics " +
        "(8 values; not FVD, which needs an I3D extractor)"
      : `Frechet distance between generated and reference videos on ${extractor.name} features (${extractor.dimension} values)`
  })

/**
 * `common.frechet_distance`: set metric, Frechet distance between Gaussians fitted to the
 * built-in colour and motion statistics of generated and reference videos. Not FVD. The
 * `FeatureExtractor` service replaces the extractor.
 *
 * @since 0.1.0
 * @category metrics
 */
export const frechetDistance = frechetDistanceWith(colourMotionFeatures)

/**
 * Every built-in metric, in catalogue order.
 *
 * @since 0.1.0
 * @category metrics
 */
export const builtins: ReadonlyArray<Metric.Metric> = [
  mse,
  psnr,
  ssim,
  mse255,
  psnr255,
  ssimLuma,
  temporalFlickering,
  frameDifference,
  sharpness,
  frechetDistance,
  fvd,
  subjectConsistency,
  lpips,
  dynamicDegree,
  ...clipMetrics,
  PhysicsIq.mse,
  PhysicsIq.spatiotemporalIou,
  PhysicsIq.spatialIouMetric,
  PhysicsIq.weightedSpatialIouMetric
]
