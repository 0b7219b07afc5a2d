import { assert, describe, it } from "@effect/vitest"
import { Frechet } from "../src/index.ts"
import { tensor } from "./support/tensors.ts"

const diag = (values: ReadonlyArray<number>): Float64Array => {
  const d = values.length
  const m = new Float64Array(d * d)
  values.forEach((v, i) => (m[i * d + i] = v))
  return m
}

describe("Frechet distance", () => {
  it("is (mu1 - mu2)^2 + (sigma1 - sigma2)^2 in one dimension", () => {
    assert.approximately(Frechet.frechetDistance([1], [4], [3], [9]), 4 + 1, 1e-12)
    assert.approximately(Frechet.frechetDistance([0], [0.25], [0], [0.25]), 0, 1e-12)
  })

  it("is |mu1 - mu2|^2 + sum (sigma1_i - sigma2_i)^2 for diagonal covariances", () => {
    const fd = Frechet.frechetDistance([0, 1, 2], diag([1, 4, 9]), [1, 1, 0], diag([4, 1, 16]))
    assert.approximately(fd, (1 + 0 + 4) + (1 + 1 + 1), 1e-10)
  })

  it("is |mu1 - mu2|^2 + (1 - k)^2 tr(S) when the second covariance is k^2 S", () => {
    const s = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]
    const k = 2.5
    const fd = Frechet.frechetDistance([0, 0, 0], s, [1, 2, 2], s.map((v) => k * k * v))
    assert.approximately(fd, 9 + (1 - k) ** 2 * (4 + 3 + 2), 1e-9)
  })

  it("matches tr sqrt(AB) = sqrt(tr(AB) + 2 sqrt(det A det B)) for non-commuting 2x2 covariances", () => {
    const a = [2, 1, 1, 2]
    const b = [3, -1, -1, 1]
    const trAB = a[0] * b[0] + a[1] * b[2] + a[2] * b[1] + a[3] * b[3]
    const detA = a[0] * a[3] - a[1] * a[2]
    const detB = b[0] * b[3] - b[1] * b[2]
    const expected = (2 + 2) + (3 + 1) - 2 * Math.sqrt(trAB + 2 * Math.sqrt(detA * detB))
    assert.approximately(Frechet.frechetDistance([0, 0], a, [0, 0], b), expected, 1e-10)
  })

  it("fits the exact mean and unbiased covariance of the vectors it summarised", () => {
    let m = Frechet.emptyMoments(2)
    for (const v of [[1, 2], [3, 2], [2, 5], [2, -1]]) m = Frechet.addVector(m, v)
    const { cov, mean } = Frechet.gaussian(m)
    assert.deepStrictEqual(Array.from(mean), [2, 2])
    // deviations: (-1,0) (1,0) (0,3) (0,-3): cov = [[2, 0], [0, 18]] / 3
    assert.deepStrictEqual(Array.from(cov).map((v) => Math.round(v * 1e9) / 1e9), [2 / 3, 0, 0, 6].map((v) => Math.round(v * 1e9) / 1e9))
  })

  it("gives the same result whether the corpus is folded in one partial or merged from two", () => {
    const metric = Frechet.frechetMetric({ name: "fd", extractor: Frechet.colourMotionFeatures })
    const videos = Array.from({ length: 8 }, (_, v) => tensor([3, 4, 4, 3], (i) => (i * (v + 3) + v * 11) % 256))
    let whole = metric.init()
    let left = metric.init()
    let right = metric.init()
    videos.forEach((video, i) => {
      const role = i % 2 === 0 ? "generated" : "reference"
      whole = metric.accumulate(whole, { video }, role)
      if (i < 5) left = metric.accumulate(left, { video }, role)
      else right = metric.accumulate(right, { video }, role)
    })
    const a = metric.finalize(whole)
    const b = metric.finalize(metric.merge(left, right))
    assert.isNumber(a.score)
    assert.approximately(b.score!, a.score!, 1e-6 * a.score!)
    assert.deepStrictEqual(a.details, { extractor: "colour-motion-stats", generated: 4, reference: 4 })
  })

  it("accumulates into a new accumulator, leaving the old one as it was", () => {
    const metric = Frechet.frechetMetric({ name: "fd", extractor: Frechet.colourMotionFeatures })
    const video = tensor([2, 4, 4, 3], (i) => (i * 7) % 256)
    const before = metric.accumulate(metric.accumulate(metric.init(), { video }, "generated"), { video }, "reference")
    const snapshot = structuredClone(before)
    const after = metric.accumulate(metric.accumulate(before, { video: tensor([2, 4, 4, 3], (i) => i % 256) }, "generated"), { video }, "reference")
    assert.deepStrictEqual(before, snapshot)
    assert.strictEqual(after.generated.n, 2)
    assert.strictEqual(after.reference.n, 2)
  })

  it("is skipped, saying why, with fewer than two videos on a side", () => {
    const metric = Frechet.frechetMetric({ name: "fd", extractor: Frechet.colourMotionFeatures })
    const video = tensor([2, 4, 4, 3], (i) => i % 256)
    const acc = metric.accumulate(metric.accumulate(metric.init(), { video }, "generated"), { video }, "generated")
    const result = metric.finalize(metric.accumulate(acc, { video }, "reference"))
    assert.strictEqual(result.score, null)
    assert.match(String(result.details.skipped), /at least 2 generated and 2 reference videos \(got 2 and 1\)/)
  })

  it("extracts channel means, channel deviations and motion statistics", () => {
    // 2 frames of 1x2 pixels: frame 0 = (10,20,30) (30,20,10); frame 1 = frame 0 + 4
    const video = tensor([2, 1, 2, 3], (i) => [10, 20, 30, 30, 20, 10][i % 6] + (i >= 6 ? 4 : 0))
    const f = Array.from(Frechet.colourMotionFeatures.extract(video))
    assert.deepStrictEqual(f.map((v) => Math.round(v * 1e9) / 1e9), [22, 22, 22, Math.sqrt(104), 2, Math.sqrt(104), 4, 0].map((v) => Math.round(v * 1e9) / 1e9))
  })
})
