/**
 * `common.lpips`, FastVideo's definition: LPIPS (AlexNet, version 0.1) of each frame of a video
 * against the same frame of its reference, at native resolution, averaged over the frames both have.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import * as Metric from "./Metric.ts"
import type { ModelSpec } from "./Models.ts"
import { framePlanes } from "./Preprocess.ts"

/**
 * LPIPS as `common.lpips` runs it: the whole network in one file, frame pairs `[N, 2, 3, H, W]`
 * (the video's frame, then the reference's, on [-1, 1]) in, one distance per pair out.
 *
 * @since 0.3.0
 * @category models
 */
export const lpipsSpec: ModelSpec = {
  name: "lpips",
  description: "LPIPS v0.1 over AlexNet (lpips.LPIPS(net=\"alex\"), exported to ONNX by scripts/export_lpips.py)",
  input: { name: "pair", dims: ["N", 2, 3, "H", "W"], range: [-1, 1] },
  outputs: [{ name: "distance", dims: ["N"] }],
  howToGet: "packages/eval/README.md, section Models"
}

/**
 * The most float32 values one run's input may hold (128 MB): at 1080p, 2 frame pairs a run,
 * whatever the batch setting.
 *
 * @since 0.3.0
 * @category constants
 */
export const MAX_RUN_VALUES = 2 ** 25

const DISTANCES = "@vidpool/lpips"

/**
 * Frame pairs `start` to `start + count - 1` of two videos of one size as one `[count, 2, 3, H, W]`
 * float32 batch on [-1, 1] (`2v - 1` of the values on [0, 1]).
 *
 * @since 0.3.0
 * @category batches
 */
export const pairBatch = (video: VideoTensor, reference: VideoTensor, start: number, count: number): Float32Array => {
  const { height, width } = geometry(video)
  const image = 3 * height * width
  const out = new Float32Array(count * 2 * image)
  for (let n = 0; n < count; n++) {
    framePlanes(video, start + n, out, 2 * n * image, 2, -1)
    framePlanes(reference, start + n, out, (2 * n + 1) * image, 2, -1)
  }
  return out
}

/**
 * The frame pairs of one model run: the batch setting, or fewer where frames are large.
 *
 * @since 0.3.0
 * @category batches
 */
export const pairsPerRun = (batch: number, height: number, width: number): number =>
  Math.max(1, Math.min(batch, Math.floor(MAX_RUN_VALUES / (6 * height * width))))

/**
 * LPIPS of each of the first `frames` frame pairs, in runs of `pairsPerRun` pairs.
 *
 * @since 0.3.0
 * @category features
 */
export const lpipsDistances = async (
  video: VideoTensor,
  reference: VideoTensor,
  frames: number,
  models: Metric.ModelContext
): Promise<Float64Array> => {
  const { height, width } = geometry(video)
  const per = pairsPerRun(models.batch, height, width)
  const out = new Float64Array(frames)
  for (let start = 0; start < frames; start += per) {
    const count = Math.min(per, frames - start)
    const result = await models.run(lpipsSpec.name, pairBatch(video, reference, start, count), [count, 2, 3, height, width])
    if (result.data.length < count) throw new Error(`the model gave ${result.data.length} distances for ${count} frame pairs`)
    for (let n = 0; n < count; n++) out[start + n] = result.data[n]
  }
  return out
}

/** The two videos and the frames compared, or why they cannot be. */
const pairOf = (input: Metric.MetricInput): { video: VideoTensor; reference: VideoTensor; frames: number } | string => {
  const video = input.video
  const reference = input.reference
  if (!Metric.isTensor(video)) return `field "video" is not a decoded video (${typeof video})`
  if (!Metric.isTensor(reference)) return `field "reference" is not a decoded video (${typeof reference})`
  const a = geometry(video)
  const b = geometry(reference)
  if (a.height !== b.height || a.width !== b.width) {
    return `frame sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height}); LPIPS compares frames at their own size`
  }
  const frames = Math.min(a.frames, b.frames)
  return frames === 0 ? "a video has no frames" : { video, reference, frames }
}

/**
 * `common.lpips`: LPIPS (AlexNet) of each frame against the reference's, frames cut to the
 * shorter clip, scaled to [-1, 1] at native resolution, averaged (FastVideo's definition).
 *
 * @since 0.3.0
 * @category metrics
 */
export const lpips: Metric.SampleMetric = Metric.sample({
  name: "common.lpips",
  needs: ["video", "reference"],
  description: "LPIPS (AlexNet, v0.1) of video against reference per frame at native resolution, frames cut to the " +
    "shorter clip, averaged; lower is closer (needs the model lpips)",
  models: [lpipsSpec],
  prepare: async (input, models) => {
    const pair = pairOf(input)
    if (typeof pair === "string") return input
    return { ...input, [DISTANCES]: await lpipsDistances(pair.video, pair.reference, pair.frames, models) }
  },
  compute: (input) => {
    const name = "common.lpips"
    const distances = input[DISTANCES] as Float64Array | undefined
    if (distances === undefined) {
      const pair = pairOf(input)
      return Metric.skipped(name, typeof pair === "string" ? pair : "no distances were computed")
    }
    let sum = 0
    for (const d of distances) sum += d
    return Metric.result(name, sum / distances.length, { frames: distances.length, perFrame: Array.from(distances), model: lpipsSpec.name })
  }
})
