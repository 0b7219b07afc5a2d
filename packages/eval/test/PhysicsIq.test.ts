import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { LibavDecoder } from "@vidpool/libav"
import { Video, VideoDecoder } from "@vidpool/pool"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Evaluator, PhysicsIq } from "../src/index.ts"
import * as CvKernels from "../src/internal/CvKernels.ts"
import { layerDefault as EvaluatorLive } from "./support/layers.ts"
import { convert, tensor } from "./support/tensors.ts"

/**
 * Fixtures and scores from scripts/make_physics_iq_fixtures.py: FastVideo's code path with
 * OpenCV (`cv2.resize`, `cvtColor`, `GaussianBlur`, `accumulateWeighted`, `morphologyEx`).
 */
const fixtures = join(import.meta.dirname, "fixtures", "physics-iq")
type PerFrame = { readonly score: number; readonly perFrame: ReadonlyArray<number> }
type Pair = {
  readonly name: string
  readonly video: string
  readonly reference: string
  readonly width: number
  readonly height: number
  readonly videoFrames: number
  readonly referenceFrames: number
  readonly mse_float32?: PerFrame
  readonly mse_float64?: PerFrame
  readonly spatiotemporal_iou: PerFrame
  readonly spatial_iou: number
  readonly weighted_spatial_iou: number
}
const reference = JSON.parse(readFileSync(join(fixtures, "reference.json"), "utf8")) as { readonly pairs: ReadonlyArray<Pair> }
const names = ["physics_iq.mse", "physics_iq.spatiotemporal_iou", "physics_iq.spatial_iou", "physics_iq.weighted_spatial_iou"]

const decoders = LibavDecoder.layerAuto(FfmpegDecoder.layer)


const assertClose = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.isAtMost(Math.abs(actual - expected), tolerance, `${what}: ${actual} vs ${expected}`)

const assertPerFrame = (actual: unknown, expected: PerFrame, tolerance: number, what: string) => {
  const values = actual as ReadonlyArray<number>
  assert.strictEqual(values.length, expected.perFrame.length, `${what} frames`)
  values.forEach((v, f) => assertClose(v, expected.perFrame[f], tolerance, `${what} frame ${f}`))
}

const decodePair = (pair: Pair) =>
  Effect.gen(function*() {
    const decoder = yield* VideoDecoder
    return {
      video: yield* decoder.decode(Video.folder(join(fixtures, pair.video))),
      reference: yield* decoder.decode(Video.folder(join(fixtures, pair.reference)))
    }
  })

describe("physics_iq.* against FastVideo's code path with OpenCV (PNG frame folders)", () => {
  it.live("through a decoder and the Evaluator: every score and per-frame value within 1e-6", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(
          reference.pairs.map((p) => ({ video: Video.folder(join(fixtures, p.video)), reference: Video.folder(join(fixtures, p.reference)) })),
          { metrics: ["physics_iq.*"], workers: 2 }
        )
      )
      reference.pairs.forEach((pair, i) => {
        const m = results.samples[i].metrics
        assert.deepStrictEqual(Object.keys(m).sort(), [...names].sort(), pair.name)
        if (pair.mse_float64 !== undefined) {
          assertClose(m["physics_iq.mse"].score!, pair.mse_float64.score, 1e-6, `${pair.name} mse`)
          assertPerFrame(m["physics_iq.mse"].details.perFrame, pair.mse_float64, 1e-6, `${pair.name} mse`)
          assert.deepStrictEqual([m["physics_iq.mse"].details.width, m["physics_iq.mse"].details.height], [pair.width, pair.height])
        } else {
          assert.strictEqual(m["physics_iq.mse"].score, null)
          assert.strictEqual(
            m["physics_iq.mse"].details.skipped,
            `frame counts differ in the first 150 frames (${pair.videoFrames} vs ${pair.referenceFrames})`
          )
        }
        const st = m["physics_iq.spatiotemporal_iou"]
        assertClose(st.score!, pair.spatiotemporal_iou.score, 1e-6, `${pair.name} spatiotemporal_iou`)
        assertPerFrame(st.details.perFrame, pair.spatiotemporal_iou, 1e-6, `${pair.name} spatiotemporal_iou`)
        assertClose(m["physics_iq.spatial_iou"].score!, pair.spatial_iou, 1e-6, `${pair.name} spatial_iou`)
        assertClose(m["physics_iq.weighted_spatial_iou"].score!, pair.weighted_spatial_iou, 1e-6, `${pair.name} weighted_spatial_iou`)
        assert.deepStrictEqual(
          [st.details.videoFrames, st.details.referenceFrames, st.details.width, st.details.height],
          [pair.videoFrames, pair.referenceFrames, pair.width, pair.height],
          pair.name
        )
      })
    }).pipe(Effect.provide(EvaluatorLive)))

  it.live("the MSE within 1e-6 of FastVideo's own float32 run too", () =>
    Effect.gen(function*() {
      for (const pair of reference.pairs) {
        if (pair.mse_float32 === undefined) continue
        const { video, reference: ref } = yield* decodePair(pair)
        const r = PhysicsIq.mse.compute({ video, reference: ref })
        assertClose(r.score!, pair.mse_float32.score, 1e-6, pair.name)
        assertPerFrame(r.details.perFrame, pair.mse_float32, 1e-6, pair.name)
      }
    }).pipe(Effect.provide(decoders)))

  it.live("read THWC and TCHW, uint8 and float32 [0, 1] tensors to the same scores", () =>
    Effect.gen(function*() {
      const pair = reference.pairs.find((p) => p.name === "moving")!
      const { video, reference: ref } = yield* decodePair(pair)
      const metrics = [PhysicsIq.mse, PhysicsIq.spatiotemporalIou, PhysicsIq.spatialIouMetric, PhysicsIq.weightedSpatialIouMetric]
      const expected = metrics.map((m) => m.compute({ video, reference: ref }).score)
      for (const options of [{ layout: "TCHW" as const }, { dtype: "float32" as const }, { dtype: "float32" as const, layout: "TCHW" as const }]) {
        assert.deepStrictEqual(metrics.map((m) => m.compute({ video: convert(video, options), reference: ref }).score), expected)
        assert.deepStrictEqual(metrics.map((m) => m.compute({ video, reference: convert(ref, options) }).score), expected)
      }
    }).pipe(Effect.provide(decoders)))
})

describe("OpenCV's uint8 operations, bit for bit (kernels.json, made by cv2)", () => {
  const k = JSON.parse(readFileSync(join(fixtures, "kernels.json"), "utf8")) as {
    readonly image: { readonly width: number; readonly height: number; readonly data: ReadonlyArray<number> }
    readonly colours: { readonly data: ReadonlyArray<number>; readonly grey: ReadonlyArray<number> }
    readonly grey: ReadonlyArray<number>
    readonly blur: ReadonlyArray<number>
    readonly small: { readonly width: number; readonly height: number; readonly data: ReadonlyArray<number>; readonly blur: ReadonlyArray<number> }
    readonly resize: ReadonlyArray<{ readonly width: number; readonly height: number; readonly data: ReadonlyArray<number> }>
    readonly mask: { readonly data: ReadonlyArray<number>; readonly openClose: ReadonlyArray<number> }
  }
  const { width, height } = k.image
  const image = Uint8Array.from(k.image.data)

  it("cvtColor RGB2GRAY and GaussianBlur 5x5 (sigma 0), small planes too", () => {
    const grey = new Uint8Array(width * height)
    CvKernels.greyFromRgb(image, grey)
    assert.deepStrictEqual(Array.from(grey), k.grey)
    const colours = new Uint8Array(k.colours.grey.length)
    CvKernels.greyFromRgb(Uint8Array.from(k.colours.data), colours)
    assert.deepStrictEqual(Array.from(colours), k.colours.grey)
    const blurred = new Uint8Array(width * height)
    CvKernels.gaussianBlur5(grey, width, height, blurred)
    assert.deepStrictEqual(Array.from(blurred), k.blur)
    const small = new Uint8Array(k.small.data.length)
    CvKernels.gaussianBlur5(Uint8Array.from(k.small.data), k.small.width, k.small.height, small)
    assert.deepStrictEqual(Array.from(small), k.small.blur)
  })

  it("resize INTER_LINEAR, smaller and larger, each way", () => {
    for (const target of k.resize) {
      const out = new Uint8Array(target.width * target.height * 3)
      CvKernels.resizeLinear(image, width, height, 3, target.width, target.height, out)
      assert.deepStrictEqual(Array.from(out), target.data, `${target.width}x${target.height}`)
    }
  })

  it("morphologyEx OPEN then CLOSE with a 5x5 square", () => {
    const mask = Uint8Array.from(k.mask.data)
    CvKernels.openThenClose5(mask, width, height)
    assert.deepStrictEqual(Array.from(mask), k.mask.openClose)
  })
})

describe("the Physics-IQ kernels", () => {
  // A square that moves one pixel a frame over a flat background, 8x8 frames.
  const moving = (frames: number) =>
    tensor([frames, 8, 8, 3], (i) => {
      const f = Math.floor(i / 192), p = Math.floor((i % 192) / 3)
      const x = p % 8, y = Math.floor(p / 8)
      return x >= (f % 5) && x < (f % 5) + 3 && y >= 2 && y < 5 ? 250 : 20
    })

  it("read the first 150 frames of each clip and no more", () => {
    const long = moving(152)
    const cut = tensor([150, 8, 8, 3], (i) => long.data[i])
    const other = tensor([152, 8, 8, 3], (i) => long.data[(i + 192 * 3) % long.data.length])
    for (const m of [PhysicsIq.mse, PhysicsIq.spatiotemporalIou, PhysicsIq.spatialIouMetric, PhysicsIq.weightedSpatialIouMetric]) {
      const full = m.compute({ video: long, reference: other })
      const windowed = m.compute({ video: cut, reference: other })
      assert.strictEqual(full.score, windowed.score, m.name)
    }
    assert.strictEqual(PhysicsIq.motionMasks(long, { width: 2, height: 2 }).length, 150)
  })

  it("find motion where the square moves and none in a still clip", () => {
    const masks = PhysicsIq.motionMasks(moving(6), { width: 8, height: 8 })
    assert.strictEqual(masks[0].reduce((s, v) => s + v, 0), 0)
    assert.isAbove(masks.slice(1).reduce((s, m) => s + m.reduce((t, v) => t + v, 0), 0), 0)
    const still = tensor([4, 8, 8, 3], (i) => (i * 7) % 256)
    assert.isTrue(PhysicsIq.motionMasks(still, { width: 8, height: 8 }).every((m) => m.every((v) => v === 0)))
  })

  it("compute a clip's masks once for the three IoUs, and again at another size", () => {
    const clip = moving(4)
    const masks = PhysicsIq.motionMasksOf(clip, { width: 4, height: 4 })
    assert.strictEqual(PhysicsIq.motionMasksOf(clip, { width: 4, height: 4 }), masks)
    assert.deepStrictEqual(masks, PhysicsIq.motionMasks(clip, { width: 4, height: 4 }))
    const other = PhysicsIq.motionMasksOf(clip, { width: 2, height: 2 })
    assert.notStrictEqual(other, masks)
    assert.strictEqual(other[0].length, 4)
  })

  it("score clips against themselves 1 (IoUs) and 0 (MSE)", () => {
    const clip = moving(6)
    assert.strictEqual(PhysicsIq.mse.compute({ video: clip, reference: clip }).score, 0)
    assert.strictEqual(PhysicsIq.spatiotemporalIou.compute({ video: clip, reference: clip }).score, 1)
    assert.strictEqual(PhysicsIq.spatialIouMetric.compute({ video: clip, reference: clip }).score, 1)
    assert.strictEqual(PhysicsIq.weightedSpatialIouMetric.compute({ video: clip, reference: clip }).score, 1)
  })

  it("round to 4 decimals as Python does: the exact value, ties to even", () => {
    assert.strictEqual(PhysicsIq.roundDecimals(0.15625, 4), 0.1562)
    assert.strictEqual(PhysicsIq.roundDecimals(0.03125, 4), 0.0312)
    assert.strictEqual(PhysicsIq.roundDecimals(0.09375, 4), 0.0938)
    assert.strictEqual(PhysicsIq.roundDecimals(1 / 3, 4), 0.3333)
    assert.strictEqual(PhysicsIq.roundDecimals(0.00015, 4), 0.0001) // 0.000149999... in binary
    assert.strictEqual(PhysicsIq.roundDecimals(1, 4), 1)
  })

  for (const metric of [PhysicsIq.mse, PhysicsIq.spatiotemporalIou, PhysicsIq.spatialIouMetric, PhysicsIq.weightedSpatialIouMetric]) {
    it(`${metric.name} is skipped, saying why, for frames that are not RGB or a clip without frames`, () => {
      assert.strictEqual(
        metric.compute({ video: tensor([2, 8, 8, 1], () => 0), reference: moving(2) }).details.skipped,
        "Physics-IQ reads RGB frames; the video has 1 channels"
      )
      assert.strictEqual(
        metric.compute({ video: moving(2), reference: tensor([0, 8, 8, 3], () => 0) }).details.skipped,
        "the reference has no frames"
      )
      assert.strictEqual(metric.compute({ video: moving(2), reference: "x.mp4" }).details.skipped, `field "reference" is not a decoded video (string)`)
    })
  }
})
