/**
 * Physics-IQ's pair metrics, FastVideo's definitions: the MSE of quarter-size frames and three
 * IoUs of motion masks made from frame differences, of a generated video against its real take.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import * as Metric from "./Metric.ts"
import {
  motionMasksOf,
  quarterMseFrames,
  quarterSize,
  spatialIou,
  spatiotemporalIouFrames,
  weightedSpatialIou,
  WINDOW_FRAMES,
  windowFrames
} from "./internal/PhysicsIqKernels.ts"

export * from "./internal/PhysicsIqKernels.ts"

const sumMean = (values: Float64Array): number => {
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** The two decoded videos of a sample, or why the pair cannot be scored. */
const pair = (input: Metric.MetricInput): { readonly video: VideoTensor; readonly reference: VideoTensor } | string => {
  const video = input.video
  const reference = input.reference
  if (!Metric.isTensor(video)) return `field "video" is not a decoded video (${typeof video})`
  if (!Metric.isTensor(reference)) return `field "reference" is not a decoded video (${typeof reference})`
  for (const [name, tensor] of [["video", video], ["reference", reference]] as const) {
    const g = geometry(tensor)
    if (g.channels !== 3) return `Physics-IQ reads RGB frames; the ${name} has ${g.channels} channels`
    if (g.frames === 0) return `the ${name} has no frames`
  }
  return { video, reference }
}

const physicsIqMetric = (options: {
  readonly name: string
  readonly description: string
  readonly compute: (video: VideoTensor, reference: VideoTensor) => Metric.MetricResult
}): Metric.SampleMetric =>
  Metric.sample({
    name: options.name,
    version: "1",
    needs: ["video", "reference"],
    description: options.description,
    compute: (input) => {
      const p = pair(input)
      return typeof p === "string" ? Metric.skipped(options.name, p) : options.compute(p.video, p.reference)
    }
  })

const maskPair = (video: VideoTensor, reference: VideoTensor) => {
  const size = quarterSize(reference)
  return { size, generated: motionMasksOf(video, size), real: motionMasksOf(reference, size) }
}

const maskDetails = (masks: ReturnType<typeof maskPair>) => ({
  width: masks.size.width,
  height: masks.size.height,
  videoFrames: masks.generated.length,
  referenceFrames: masks.real.length
})

/**
 * `physics_iq.mse`: per frame, the MSE of both clips' frames resized to a quarter of the
 * reference's size, on [0, 1], rounded to 4 decimals; averaged over the first 150 frames.
 *
 * @since 0.3.0
 * @category metrics
 */
export const mse = physicsIqMetric({
  name: "physics_iq.mse",
  description: "Physics-IQ MSE, FastVideo's definition: frames resized to a quarter of the reference's size (bilinear), " +
    "on [0, 1], per frame rounded to 4 decimals, averaged over the first 150 frames; lower is closer",
  compute: (video, reference) => {
    const nv = windowFrames(video)
    const nr = windowFrames(reference)
    if (nv !== nr) {
      return Metric.skipped("physics_iq.mse", `frame counts differ in the first ${WINDOW_FRAMES} frames (${nv} vs ${nr})`)
    }
    const size = quarterSize(reference)
    const perFrame = quarterMseFrames(video, reference, size)
    return Metric.result("physics_iq.mse", sumMean(perFrame), {
      frames: perFrame.length,
      width: size.width,
      height: size.height,
      perFrame: Array.from(perFrame)
    })
  }
})

/**
 * `physics_iq.spatiotemporal_iou`: per frame, the IoU of the two clips' motion masks, rounded
 * to 4 decimals; averaged over the frames both have.
 *
 * @since 0.3.0
 * @category metrics
 */
export const spatiotemporalIou = physicsIqMetric({
  name: "physics_iq.spatiotemporal_iou",
  description: "Physics-IQ spatiotemporal IoU, FastVideo's definition: the IoU of the motion masks frame by frame " +
    "(rounded to 4 decimals), averaged over the frames both clips have in their first 150",
  compute: (video, reference) => {
    const masks = maskPair(video, reference)
    const perFrame = spatiotemporalIouFrames(masks.real, masks.generated)
    return Metric.result("physics_iq.spatiotemporal_iou", sumMean(perFrame), {
      ...maskDetails(masks),
      frames: perFrame.length,
      perFrame: Array.from(perFrame)
    })
  }
})

/**
 * `physics_iq.spatial_iou`: the IoU of the pixels that move in any of each clip's first 150 frames.
 *
 * @since 0.3.0
 * @category metrics
 */
export const spatialIouMetric = physicsIqMetric({
  name: "physics_iq.spatial_iou",
  description: "Physics-IQ spatial IoU, FastVideo's definition: the IoU of the pixels that move in any frame " +
    "of each clip's first 150",
  compute: (video, reference) => {
    const masks = maskPair(video, reference)
    return Metric.result("physics_iq.spatial_iou", spatialIou(masks.real, masks.generated), maskDetails(masks))
  }
})

/**
 * `physics_iq.weighted_spatial_iou`: the IoU of how often each pixel moves in each clip's first
 * 150 frames.
 *
 * @since 0.3.0
 * @category metrics
 */
export const weightedSpatialIouMetric = physicsIqMetric({
  name: "physics_iq.weighted_spatial_iou",
  description: "Physics-IQ weighted spatial IoU, FastVideo's definition: sum min / sum max of the share of frames " +
    "in which each pixel moves, over each clip's first 150 frames",
  compute: (video, reference) => {
    const masks = maskPair(video, reference)
    return Metric.result("physics_iq.weighted_spatial_iou", weightedSpatialIou(masks.real, masks.generated), maskDetails(masks))
  }
})
