/**
 * The metrics that run a model the user gives: `common.fvd` (Fréchet Video Distance over I3D
 * features) and `vbench.subject_consistency` (DINO ViT-B/16 features of every frame), by
 * FastVideo's definitions.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import { addVector, copyMoments, emptyMoments, type FrechetAccumulator, frechetDistance, gaussian, mergeMoments } from "./Frechet.ts"
import * as Metric from "./Metric.ts"
import type { ModelSpec } from "./Models.ts"
import { clipBatch, IMAGENET, imageBatch, shorterSideSize } from "./Preprocess.ts"

/**
 * I3D as `common.fvd` runs it: a whole clip `[N, 3, T, 224, 224]` on [-1, 1] in, 400 Kinetics
 * features out.
 *
 * @since 0.3.0
 * @category models
 */
export const i3dSpec: ModelSpec = {
  name: "i3d",
  description: "Kinetics-400 I3D (FastVideo's flateon/FVD-I3D-torchscript, exported to ONNX)",
  input: { name: "video", dims: ["N", 3, "T", 224, 224] },
  outputs: [{ name: "features", dims: ["N", 400] }],
  howToGet: "packages/eval/README.md, section Models"
}

/**
 * DINO ViT-B/16 as `vbench.subject_consistency` runs it: frames `[N, 3, H, W]` (ImageNet
 * normalised) in, the class token's 768 values out, either as a `features` output or as token 0
 * of a `last_hidden_state` output.
 *
 * @since 0.3.0
 * @category models
 */
export const dinoSpec: ModelSpec = {
  name: "dino",
  description: "DINO ViT-B/16 (facebookresearch/dino dino_vitb16, exported to ONNX)",
  input: { name: "pixel_values", dims: ["N", 3, "H", "W"] },
  outputs: [{ name: "features", dims: ["N", 768] }, { name: "last_hidden_state", dims: ["N", "S", 768] }],
  howToGet: "packages/eval/README.md, section Models"
}

/**
 * The fewest frames I3D takes.
 *
 * @since 0.3.0
 * @category constants
 */
export const I3D_MIN_FRAMES = 10

/**
 * The most frames I3D takes: FVD runs a whole clip at once, 588 KB of float32 input a frame.
 *
 * @since 0.3.0
 * @category constants
 */
export const I3D_MAX_FRAMES = 1024

/**
 * The value added to both covariances' diagonals before the Fréchet distance (FastVideo's eps).
 *
 * @since 0.3.0
 * @category constants
 */
export const FVD_EPS = 1e-6

const FEATURES = "@vidpool/features"

/**
 * The most pixels a frame resized for DINO may have (224 x 3584: an aspect ratio of 16:1), so a
 * strip of a video cannot ask for gigabytes per batch.
 *
 * @since 0.3.0
 * @category constants
 */
export const MAX_RESIZED_PIXELS = 224 * 224 * 16

const videoOf = (input: Metric.MetricInput): VideoTensor => {
  const video = input.video
  if (!Metric.isTensor(video)) throw new Error(`field "video" is not a decoded video (${typeof video})`)
  return video
}

/** One row of a model's output: the class token (token 0) of a rank-3 output, the row of a rank-2 one. */
const row = (out: { readonly data: Float32Array; readonly dims: ReadonlyArray<number> }, n: number): Float32Array => {
  const d = out.dims[out.dims.length - 1]
  const stride = out.dims.length === 3 ? out.dims[1] * d : d
  return out.data.subarray(n * stride, n * stride + d)
}

/**
 * `v / max(|v|, 1e-12)`, as `F.normalize(p=2)`.
 *
 * @since 0.3.0
 * @category kernels
 */
export const l2Normalize = (v: ArrayLike<number>): Float64Array => {
  let sq = 0
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i]
  const norm = Math.max(Math.sqrt(sq), 1e-12)
  const out = new Float64Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm
  return out
}

const cosine = (a: Float64Array, b: Float64Array): number => {
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i]
    aa += a[i] * a[i]
    bb += b[i] * b[i]
  }
  return ab / Math.sqrt(Math.max(aa * bb, 1e-16))
}

/**
 * VBench's temporal consistency of L2-normalised per-frame features: the mean over frames t > 0
 * of `(max(0, cos(f_t, f_t-1)) + max(0, cos(f_t, f_0))) / 2`; 1 for one frame.
 *
 * @since 0.3.0
 * @category kernels
 */
export const consistencyScore = (features: ReadonlyArray<Float64Array>): number => {
  if (features.length <= 1) return 1
  let total = 0
  for (let t = 1; t < features.length; t++) {
    total += (Math.max(0, cosine(features[t - 1], features[t])) + Math.max(0, cosine(features[0], features[t]))) / 2
  }
  return total / (features.length - 1)
}

/**
 * DINO features of every frame of `video`, L2-normalised: frames on [0, 1], the shorter side
 * resized to 224 (bilinear, no antialiasing, no crop), ImageNet-normalised, `batch` frames a run.
 *
 * @since 0.3.0
 * @category features
 */
export const dinoFeatures = async (video: VideoTensor, models: Metric.ModelContext): Promise<Array<Float64Array>> => {
  const { frames, height, width } = geometry(video)
  const size = shorterSideSize(height, width, 224)
  if (size.height * size.width > MAX_RESIZED_PIXELS) {
    throw new Error(
      `frames of ${width}x${height} resize to ${size.width}x${size.height}, over the ${MAX_RESIZED_PIXELS} pixels ` +
        `a frame may have for the model (an aspect ratio up to 16:1)`
    )
  }
  const out: Array<Float64Array> = []
  const batch = Math.max(1, models.batch)
  for (let start = 0; start < frames; start += batch) {
    const count = Math.min(batch, frames - start)
    const data = imageBatch(video, start, count, size, IMAGENET)
    const result = await models.run(dinoSpec.name, data, [count, 3, size.height, size.width])
    for (let n = 0; n < count; n++) out.push(l2Normalize(row(result, n)))
  }
  return out
}

/**
 * `vbench.subject_consistency`: VBench's subject consistency over DINO ViT-B/16 features of
 * every frame (FastVideo's definition).
 *
 * @since 0.3.0
 * @category metrics
 */
export const subjectConsistency: Metric.SampleMetric = Metric.sample({
  name: "vbench.subject_consistency",
  needs: ["video"],
  description: "VBench subject consistency: cosine similarity of DINO ViT-B/16 frame features to the previous " +
    "and the first frame, averaged (needs the model dino)",
  models: [dinoSpec],
  prepare: async (input, models) => {
    const video = videoOf(input)
    if (geometry(video).frames === 0) return input
    return { ...input, [FEATURES]: await dinoFeatures(video, models) }
  },
  compute: (input) => {
    const name = "vbench.subject_consistency"
    const features = input[FEATURES] as ReadonlyArray<Float64Array> | undefined
    if (features === undefined) return Metric.skipped(name, "the video has no frames")
    return Metric.result(name, consistencyScore(features), { frames: features.length, model: dinoSpec.name })
  }
})

/**
 * I3D features (400 values) of a whole clip: frames on [0, 1] scaled to [-1, 1] before a
 * bilinear resize to 224x224 (`align_corners=False`, no crop), all frames in one run.
 *
 * @since 0.3.0
 * @category features
 */
export const i3dFeatures = async (video: VideoTensor, models: Metric.ModelContext): Promise<Float32Array> => {
  const { frames } = geometry(video)
  if (frames > I3D_MAX_FRAMES) {
    throw new Error(
      `a clip of ${frames} frames is over the ${I3D_MAX_FRAMES} frames I3D takes in its one run ` +
        `(${((frames * 3 * 224 * 224 * 4) / 2 ** 20).toFixed(0)} MB of input); decode fewer frames (numFrames, --frames)`
    )
  }
  const data = clipBatch(video, { height: 224, width: 224 }, 2, -1)
  const result = await models.run(i3dSpec.name, data, [1, 3, frames, 224, 224])
  return result.data.slice(0, 400)
}

/**
 * The partial of `common.fvd`: the moments of each side, and how many videos were too short.
 *
 * @since 0.3.0
 * @category models
 */
export interface FvdAccumulator extends FrechetAccumulator {
  readonly tooShort: number
}

/**
 * The Fréchet distance of FVD: both covariances (`np.cov`, n - 1) get `FVD_EPS` on their
 * diagonals first.
 *
 * @since 0.3.0
 * @category kernels
 */
export const fvdDistance = (acc: FrechetAccumulator): number => {
  const g = gaussian(acc.generated)
  const r = gaussian(acc.reference)
  const d = g.mean.length
  const c1 = g.cov.slice()
  const c2 = r.cov.slice()
  for (let i = 0; i < d; i++) {
    c1[i * d + i] += FVD_EPS
    c2[i * d + i] += FVD_EPS
  }
  return frechetDistance(g.mean, c1, r.mean, c2)
}

/**
 * `common.fvd`: Fréchet Video Distance between generated and reference videos over I3D features
 * of each whole clip (FastVideo's definition). A clip of fewer than 10 frames is left out and
 * counted in `details.tooShort`.
 *
 * @since 0.3.0
 * @category metrics
 */
export const fvd: Metric.SetMetric<FvdAccumulator> = Metric.set<FvdAccumulator>({
  name: "common.fvd",
  needs: ["video"],
  description: "Frechet Video Distance: I3D features (400) of each whole clip, generated against reference " +
    "(needs the model i3d; clips of at least 10 frames)",
  models: [i3dSpec],
  cached: { field: FEATURES, version: 1 },
  prepare: async (input, models) => {
    const video = videoOf(input)
    if (geometry(video).frames < I3D_MIN_FRAMES) return input
    return { ...input, [FEATURES]: await i3dFeatures(video, models) }
  },
  init: () => ({ generated: emptyMoments(400), reference: emptyMoments(400), tooShort: 0 }),
  accumulate: (acc, input, role) => {
    const features = input[FEATURES] as Float32Array | undefined
    if (features === undefined) return { ...acc, tooShort: acc.tooShort + 1 }
    return role === "reference"
      ? { ...acc, reference: addVector(copyMoments(acc.reference), features) }
      : { ...acc, generated: addVector(copyMoments(acc.generated), features) }
  },
  merge: (a, b) => ({
    generated: mergeMoments(a.generated, b.generated),
    reference: mergeMoments(a.reference, b.reference),
    tooShort: a.tooShort + b.tooShort
  }),
  finalize: (acc) => {
    const name = "common.fvd"
    const details = { model: i3dSpec.name, generated: acc.generated.n, reference: acc.reference.n, tooShort: acc.tooShort }
    const short = acc.tooShort > 0 ? ` (${acc.tooShort} left out: I3D needs at least ${I3D_MIN_FRAMES} frames)` : ""
    if (acc.generated.n < 2 || acc.reference.n < 2) {
      return Metric.skipped(
        name,
        `needs at least 2 generated and 2 reference videos of ${I3D_MIN_FRAMES} frames or more ` +
          `(got ${acc.generated.n} and ${acc.reference.n})${short}`,
        details
      )
    }
    return Metric.result(name, fvdDistance(acc), details)
  }
})

/**
 * The built-in metrics that run models.
 *
 * @since 0.3.0
 * @category metrics
 */
export const modelMetrics: ReadonlyArray<Metric.Metric> = [fvd, subjectConsistency]
