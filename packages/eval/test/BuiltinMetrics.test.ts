import { assert, describe, it } from "@effect/vitest"
import { BuiltinMetrics, Psnr } from "../src/index.ts"
import { convert, tensor } from "./support/tensors.ts"

const { frameDifference, sharpness, temporalFlickering } = BuiltinMetrics
const { mse255: mse, psnr255: psnr, ssimLuma: ssim } = BuiltinMetrics

/** Frames of one constant value each. */
const flat = (values: ReadonlyArray<number>, h = 4, w = 4, c = 3) =>
  tensor([values.length, h, w, c], (i) => values[Math.floor(i / (h * w * c))])

describe("vidpool.mse_255 and vidpool.psnr_255 (common.mse and common.psnr before 0.3.0)", () => {
  it("score per frame, then average over frames", () => {
    const a = flat([10, 10])
    const b = flat([13, 20]) // frame MSEs 9 and 100
    const m = mse.compute({ video: a, reference: b })
    assert.strictEqual(m.score, (9 + 100) / 2)
    assert.deepStrictEqual(m.details.perFrame, [9, 100])
    const p = psnr.compute({ video: a, reference: b })
    const expected = (10 * Math.log10(65025 / 9) + 10 * Math.log10(65025 / 100)) / 2
    assert.approximately(p.score!, expected, 1e-12)
  })

  it("give identical videos the documented PSNR cap of 100 dB and an MSE of 0", () => {
    const a = tensor([3, 8, 8, 3], (i) => i % 256)
    assert.strictEqual(psnr.compute({ video: a, reference: a }).score, Psnr.PSNR_CAP)
    assert.strictEqual(Psnr.PSNR_CAP, 100)
    assert.strictEqual(mse.compute({ video: a, reference: a }).score, 0)
  })

  it("read float32 tensors in [0, 1] on the 0-255 scale", () => {
    const a = flat([10, 10])
    const b = flat([13, 20])
    const m = mse.compute({ video: convert(a, { dtype: "float32" }), reference: b })
    assert.approximately(m.score!, 54.5, 1e-3)
  })

  for (const metric of [mse, psnr, ssim]) {
    describe(metric.name, () => {
      it("is skipped, saying why, when the frame counts differ", () => {
        const r = metric.compute({ video: flat([1, 2, 3], 12, 12), reference: flat([1, 2], 12, 12) })
        assert.strictEqual(r.score, null)
        assert.strictEqual(r.details.skipped, "frame counts differ (3 vs 2)")
      })
      it("is skipped, saying why, when the frame sizes differ", () => {
        const r = metric.compute({ video: flat([1], 12, 16), reference: flat([1], 12, 12) })
        assert.strictEqual(r.score, null)
        assert.strictEqual(r.details.skipped, "frame sizes differ (16x12 vs 12x12)")
      })
      it("is skipped when the reference is not a decoded video", () => {
        const r = metric.compute({ video: flat([1], 12, 12), reference: "ref.mp4" })
        assert.strictEqual(r.score, null)
        assert.match(String(r.details.skipped), /field "reference" is not a decoded video/)
      })
    })
  }

  it("vidpool.ssim_luma is skipped for frames smaller than its 11x11 window", () => {
    const r = ssim.compute({ video: flat([1], 10, 12), reference: flat([1], 10, 12) })
    assert.strictEqual(r.details.skipped, "frames of 12x10 are smaller than the 11x11 window")
  })
})

describe("vbench.temporal_flickering and motion.frame_difference", () => {
  it("measure the mean absolute difference of consecutive frames", () => {
    const video = flat([0, 10, 0, 40]) // differences 10, 10, 40
    const motion = frameDifference.compute({ video })
    assert.strictEqual(motion.score, 20)
    assert.deepStrictEqual(motion.details.perFrame, [10, 10, 40])
    const flicker = temporalFlickering.compute({ video })
    assert.approximately(flicker.score!, (255 - 20) / 255, 1e-12)
  })

  it("give a still video a flickering score of 1 and no motion", () => {
    const video = flat([7, 7, 7])
    assert.strictEqual(temporalFlickering.compute({ video }).score, 1)
    assert.strictEqual(frameDifference.compute({ video }).score, 0)
  })

  it("are skipped for a single frame", () => {
    assert.strictEqual(temporalFlickering.compute({ video: flat([7]) }).details.skipped, "needs at least 2 frames")
    assert.strictEqual(frameDifference.compute({ video: flat([7]) }).score, null)
  })
})

describe("quality.sharpness", () => {
  it("is 0 for a flat frame and the Laplacian's variance for a pattern", () => {
    assert.strictEqual(sharpness.compute({ video: flat([90], 6, 6, 1) }).score, 0)
    // A single-channel 5x5 frame, 0 except 100 at the centre: interior Laplacian (3x3) is
    // -400 at the centre, 100 at its four neighbours, 0 at the corners.
    const video = tensor([1, 5, 5, 1], (i) => (i === 12 ? 100 : 0))
    const values = [-400, 100, 100, 100, 100, 0, 0, 0, 0]
    const mean = values.reduce((a, b) => a + b) / 9
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / 9
    assert.approximately(sharpness.compute({ video }).score!, variance, 1e-9)
  })

  it("reads luma from RGB (BT.601) the same in THWC and TCHW", () => {
    const video = tensor([2, 6, 7, 3], (i) => (i * 53) % 256)
    const a = sharpness.compute({ video }).score!
    const b = sharpness.compute({ video: convert(video, { layout: "TCHW" }) }).score!
    assert.approximately(a, b, 1e-9)
    assert.isAbove(a, 0)
  })
})
