/**
 * The Frechet distance between two Gaussians fitted to feature vectors, and the set metric built
 * on it with a pluggable per-clip feature extractor. With the built-in extractor (simple colour
 * and motion statistics) this is NOT FVD: FVD needs an I3D network as the extractor.
 *
 * @since 0.1.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import { multiply, sqrtPsd, symmetricEigen } from "./internal/LinearAlgebra.ts"

export { symmetricEigen } from "./internal/LinearAlgebra.ts"
import * as Metric from "./Metric.ts"

/**
 * Turns one decoded video into a fixed-length feature vector. Runs on the worker threads.
 *
 * @since 0.1.0
 * @category models
 */
export interface FeatureExtractorShape {
  readonly name: string
  readonly dimension: number
  readonly extract: (video: VideoTensor) => ArrayLike<number>
  /**
   * The module (a file URL or package specifier) the worker threads import to get this
   * extractor; absent for the built-in one. `FeatureExtractor.layerModule` sets it.
   */
  readonly module?: string
}

/**
 * Summary of a set of feature vectors: count, mean and the sum of centred outer products
 * (Welford's update, Chan's merge), which stays accurate where raw sums of squares cancel.
 * Plain data, so it crosses threads.
 *
 * @since 0.1.0
 * @category models
 */
export interface Moments {
  readonly n: number
  readonly mean: Float64Array
  /** Sum over vectors of (v - mean)(v - mean)^T, d x d row-major. */
  readonly m2: Float64Array
}

/**
 * @since 0.1.0
 * @category moments
 */
export const emptyMoments = (dimension: number): Moments => ({
  n: 0,
  mean: new Float64Array(dimension),
  m2: new Float64Array(dimension * dimension)
})

/**
 * Adds one vector (updates `moments` in place and returns it with the new count).
 *
 * @since 0.1.0
 * @category moments
 */
export const addVector = (moments: Moments, v: ArrayLike<number>): Moments => {
  const d = moments.mean.length
  if (v.length !== d) throw new RangeError(`feature vector has ${v.length} values, expected ${d}`)
  const n = moments.n + 1
  const before = new Float64Array(d)
  for (let i = 0; i < d; i++) {
    before[i] = v[i] - moments.mean[i]
    moments.mean[i] += before[i] / n
  }
  for (let i = 0; i < d; i++) {
    const after = v[i] - moments.mean[i]
    for (let j = 0; j < d; j++) moments.m2[i * d + j] += after * before[j]
  }
  return { n, mean: moments.mean, m2: moments.m2 }
}

/**
 * A copy that `addVector` can update without touching the original.
 *
 * @since 0.1.0
 * @category moments
 */
export const copyMoments = (m: Moments): Moments => ({ n: m.n, mean: m.mean.slice(), m2: m.m2.slice() })

/**
 * @since 0.1.0
 * @category moments
 */
export const mergeMoments = (a: Moments, b: Moments): Moments => {
  if (a.n === 0) return b
  if (b.n === 0) return a
  const d = a.mean.length
  const n = a.n + b.n
  const delta = a.mean.map((m, i) => b.mean[i] - m)
  const mean = a.mean.map((m, i) => m + (delta[i] * b.n) / n)
  const k = (a.n * b.n) / n
  const m2 = a.m2.map((x, idx) => x + b.m2[idx] + delta[Math.floor(idx / d)] * delta[idx % d] * k)
  return { n, mean, m2 }
}

/**
 * Mean and unbiased covariance (divisor n - 1) of the summarised vectors (n >= 2).
 *
 * @since 0.1.0
 * @category moments
 */
export const gaussian = (m: Moments): { readonly mean: Float64Array; readonly cov: Float64Array } => ({
  mean: m.mean,
  cov: m.m2.map((x) => x / (m.n - 1))
})

/**
 * Squared Frechet distance between N(mu1, cov1) and N(mu2, cov2):
 * `|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2))`. The trace of the matrix square root
 * is taken as the sum of square roots of the eigenvalues of `S cov2 S`, `S = cov1^(1/2)`, which
 * is symmetric, so no complex arithmetic is needed.
 *
 * @since 0.1.0
 * @category linear algebra
 */
export const frechetDistance = (
  mu1: ArrayLike<number>,
  cov1: ArrayLike<number>,
  mu2: ArrayLike<number>,
  cov2: ArrayLike<number>
): number => {
  const d = mu1.length
  let meanTerm = 0
  for (let i = 0; i < d; i++) meanTerm += (mu1[i] - mu2[i]) ** 2
  let trace = 0
  for (let i = 0; i < d; i++) trace += cov1[i * d + i] + cov2[i * d + i]
  const s = sqrtPsd(cov1, d)
  const { values } = symmetricEigen(multiply(multiply(s, cov2, d), s, d), d)
  let traceSqrt = 0
  for (let i = 0; i < d; i++) traceSqrt += Math.sqrt(Math.max(0, values[i]))
  return Math.max(0, meanTerm + trace - 2 * traceSqrt)
}

/**
 * The built-in extractor: per-clip colour and motion statistics on the 0-255 scale: mean and
 * standard deviation of each of R, G, B (grey is repeated), and mean and standard deviation of
 * the per-pixel absolute difference of consecutive frames. 8 values. Not a learned feature.
 *
 * @since 0.1.0
 * @category extractors
 */
export const colourMotionFeatures: FeatureExtractorShape = {
  name: "colour-motion-stats",
  dimension: 8,
  extract: (video) => {
    const { frames, height, width, channels, frameSize, scale } = geometry(video)
    const data = video.data
    const plane = height * width
    const chw = video.layout === "TCHW"
    const sum = [0, 0, 0]
    const sumSq = [0, 0, 0]
    for (let f = 0; f < frames; f++) {
      const base = f * frameSize
      for (let c = 0; c < 3; c++) {
        const ch = Math.min(c, channels - 1)
        let s = 0
        let s2 = 0
        if (chw) {
          for (let p = 0, i = base + ch * plane; p < plane; p++, i++) {
            const x = data[i]
            s += x
            s2 += x * x
          }
        } else {
          for (let p = 0, i = base + ch; p < plane; p++, i += channels) {
            const x = data[i]
            s += x
            s2 += x * x
          }
        }
        sum[c] += s
        sumSq[c] += s2
      }
    }
    const count = frames * plane
    const out = new Float64Array(8)
    for (let c = 0; c < 3; c++) {
      const mean = sum[c] / count
      out[c] = mean * scale
      out[3 + c] = Math.sqrt(Math.max(0, sumSq[c] / count - mean * mean)) * scale
    }
    let dSum = 0
    let dSq = 0
    for (let f = 0; f + 1 < frames; f++) {
      for (let i = f * frameSize, j = i + frameSize, end = i + frameSize; i < end; i++, j++) {
        const diff = Math.abs(data[j] - data[i])
        dSum += diff
        dSq += diff * diff
      }
    }
    const dCount = Math.max(1, (frames - 1) * frameSize)
    const dMean = dSum / dCount
    out[6] = dMean * scale
    out[7] = Math.sqrt(Math.max(0, dSq / dCount - dMean * dMean)) * scale
    return out
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FrechetAccumulator {
  readonly generated: Moments
  readonly reference: Moments
}

/**
 * A Frechet-distance set metric over the features of the `video` field: generated samples
 * against reference samples. `common.frechet_distance` is this metric over the extractor of the
 * `FeatureExtractor` service (the built-in statistics by default); another extractor under
 * another name can also be given in a metric module registered with `MetricRegistry.layerWith`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const frechetMetric = (options: {
  readonly name: string
  readonly extractor: FeatureExtractorShape
  readonly description?: string
  /** The version of its scores (`Metric.SetMetric.version`). */
  readonly version?: string
}): Metric.SetMetric<FrechetAccumulator> => {
  const { name, extractor } = options
  return Metric.set<FrechetAccumulator>({
    name,
    ...(options.version !== undefined ? { version: options.version } : {}),
    needs: ["video"],
    description: options.description ??
      `Frechet distance between Gaussians fitted to ${extractor.name} features of generated and reference videos`,
    init: () => ({ generated: emptyMoments(extractor.dimension), reference: emptyMoments(extractor.dimension) }),
    accumulate: (acc, input, role) => {
      const video = input.video
      if (!Metric.isTensor(video)) return acc
      const features = extractor.extract(video)
      // A new accumulator, the old one left as it was (see `SetMetric.accumulate`).
      return role === "reference"
        ? { generated: acc.generated, reference: addVector(copyMoments(acc.reference), features) }
        : { generated: addVector(copyMoments(acc.generated), features), reference: acc.reference }
    },
    merge: (a, b) => ({
      generated: mergeMoments(a.generated, b.generated),
      reference: mergeMoments(a.reference, b.reference)
    }),
    finalize: (acc) => {
      const details = { extractor: extractor.name, generated: acc.generated.n, reference: acc.reference.n }
      if (acc.generated.n < 2 || acc.reference.n < 2) {
        return Metric.skipped(
          name,
          `needs at least 2 generated and 2 reference videos (got ${acc.generated.n} and ${acc.reference.n})`,
          details
        )
      }
      const g = gaussian(acc.generated)
      const r = gaussian(acc.reference)
      return Metric.result(name, frechetDistance(g.mean, g.cov, r.mean, r.cov), details)
    }
  })
}
