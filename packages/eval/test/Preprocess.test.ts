import { assert, describe, it } from "@effect/vitest"
import { VideoTensor } from "@vidpool/pool"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { axisTaps, clipBatch, IMAGENET, imageBatch, resizePlane, shorterSideSize } from "../src/Preprocess.ts"

// torch's own outputs for the same inputs, from scripts/make_model_fixtures.py.
const reference = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "models", "preprocess-reference.json"), "utf8")) as {
  readonly resizes: ReadonlyArray<{ in: [number, number]; out: [number, number]; input: Array<number>; output: Array<number> }>
  readonly shorterSide: ReadonlyArray<{ in: [number, number]; out: [number, number] }>
  readonly image: { frame: Array<number>; shape: [number, number]; output: Array<number>; outShape: Array<number> }
  readonly clip: { frames: Array<number>; shape: [number, number, number]; output: Array<number>; outShape: Array<number> }
}

const assertClose = (actual: ArrayLike<number>, expected: ReadonlyArray<number>, tolerance: number) => {
  assert.strictEqual(actual.length, expected.length)
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]))
  assert.isAtMost(worst, tolerance)
}

const bytes = (data: ReadonlyArray<number>, shape: [number, number, number, number]): VideoTensor =>
  VideoTensor.makeUnsafe({ data: Uint8Array.from(data), shape, layout: "THWC", dtype: "uint8", fps: 25, source: { path: "t" } })

describe("preprocessing kernels against torch", () => {
  it("resizes a plane as F.interpolate(bilinear, align_corners=False): down, up, odd sizes, the same size", () => {
    for (const c of reference.resizes) {
      const out = new Float32Array(c.out[0] * c.out[1])
      resizePlane(Float32Array.from(c.input), 0, c.in[1], axisTaps(c.in[0], c.out[0]), axisTaps(c.in[1], c.out[1]), out, 0)
      assertClose(out, c.output, 1e-6)
    }
  })

  it("sizes the shorter side to 224 as torchvision's resize(img, 224), the longer rounded down", () => {
    for (const c of reference.shorterSide) {
      const { height, width } = shorterSideSize(c.in[0], c.in[1], 224)
      assert.deepStrictEqual([height, width], c.out, `${c.in}`)
    }
  })

  it("makes an NCHW image batch: bytes on [0, 1], shorter side resized, ImageNet-normalised", () => {
    const [h, w] = reference.image.shape
    const video = bytes(reference.image.frame, [1, h, w, 3])
    const size = shorterSideSize(h, w, 4)
    assert.deepStrictEqual([1, 3, size.height, size.width], reference.image.outShape)
    assertClose(imageBatch(video, 0, 1, size, IMAGENET), reference.image.output, 1e-5)
  })

  it("makes an NCTHW clip batch: [0, 1] scaled to [-1, 1] before the resize", () => {
    const [t, h, w] = reference.clip.shape
    const video = bytes(reference.clip.frames, [t, h, w, 3])
    assertClose(clipBatch(video, { height: 3, width: 4 }, 2, -1), reference.clip.output, 1e-6)
  })

  it("reads TCHW and float32 tensors as THWC bytes", () => {
    const [t, h, w] = reference.clip.shape
    const hwc = reference.clip.frames
    const chw = new Uint8Array(hwc.length)
    const floats = new Float32Array(hwc.length)
    for (let f = 0; f < t; f++) {
      for (let p = 0; p < h * w; p++) {
        for (let c = 0; c < 3; c++) chw[f * 3 * h * w + c * h * w + p] = hwc[(f * h * w + p) * 3 + c]
      }
    }
    for (let i = 0; i < hwc.length; i++) floats[i] = hwc[i] / 255
    const planar = VideoTensor.makeUnsafe({ data: chw, shape: [t, 3, h, w], layout: "TCHW", dtype: "uint8", fps: 25, source: { path: "t" } })
    const float = VideoTensor.makeUnsafe({ data: floats, shape: [t, h, w, 3], layout: "THWC", dtype: "float32", fps: 25, source: { path: "t" } })
    assertClose(clipBatch(planar, { height: 3, width: 4 }, 2, -1), reference.clip.output, 1e-6)
    assertClose(clipBatch(float, { height: 3, width: 4 }, 2, -1), reference.clip.output, 1e-6)
  })
})
