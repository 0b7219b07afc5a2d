import { assert, describe, it } from "@effect/vitest"
import { DecodePlan } from "@vidpool/pool"

// `DecodePlan` is one namespace over the plan's modules (geometry, budget, frames, pixels): what
// the decoders import from `@vidpool/pool` answers as one plan.
describe("DecodePlan", () => {
  it("scales and crops the centre of a frame as FFmpeg's scale and crop filters do", () => {
    assert.deepStrictEqual(DecodePlan.outputSize(640, 480, { width: 320 }), { width: 320, height: 240 })
    assert.deepStrictEqual(DecodePlan.geometry(640, 480, { width: 100, height: 100, resize: "crop" }), {
      scaled: { width: 133, height: 100 },
      crop: { x: 16, y: 0, width: 100, height: 100 }
    })
    assert.isFalse(DecodePlan.fitsImage(DecodePlan.maxSide + 1, 16))
    assert.deepStrictEqual(DecodePlan.problems({ width: DecodePlan.maxSide * 2 }), [
      `option width must be at most ${DecodePlan.maxSide} (FFmpeg's limit), got ${DecodePlan.maxSide * 2}`
    ])
  })

  it("refuses by arithmetic a tensor over the budget, with its true size", () => {
    const out = DecodePlan.output({ dtype: "float32", maxBytes: 1000 })
    assert.deepStrictEqual(DecodePlan.refusal(10, 4, 4, out), { _tag: "TooLarge", bytes: 10 * 4 * 4 * 3 * 4, limit: 1000 })
    assert.strictEqual(DecodePlan.refusal(5, 4, 4, out), undefined)
    const selected = DecodePlan.selectFrames(100, 25, { numFrames: 1e9, repeatFrames: true }, 1, 1, DecodePlan.output({}))
    assert.isTrue(DecodePlan.isRefusal(selected))
    assert.strictEqual(DecodePlan.defaultMaxBytes, 2 * 1024 ** 3)
  })

  it("expects the frames a header announces and tells a file cut short", () => {
    const expected = DecodePlan.expectedFrames({ duration: 2, fps: 25, streams: 1 }, undefined, { start: 1 }, undefined)
    assert.deepStrictEqual(expected, { frames: 25, slack: 2 })
    assert.isTrue(DecodePlan.cutShort(20, expected, false))
    assert.isFalse(DecodePlan.cutShort(23, expected, false))
    assert.deepStrictEqual(
      DecodePlan.expectedFrames({ fps: 0, streams: 1 }, 60, { end: 1 }, undefined),
      { frames: DecodePlan.folderFps, slack: 1 }
    )
    assert.isTrue(DecodePlan.reachesEnd(1.96, 0.04, 25, 2))
    assert.isFalse(DecodePlan.reachesEnd(1, 0.04, 25, 2))
  })

  it("arranges THWC bytes into the dtype and layout asked, and names a folder's images in order", () => {
    const bytes = Uint8Array.from([0, 51, 255, 10, 20, 30])
    assert.deepStrictEqual([...DecodePlan.arrange(bytes, 1, 1, 2, 3, "uint8", "TCHW")], [0, 10, 51, 20, 255, 30])
    assert.deepStrictEqual([...DecodePlan.arrange(bytes, 1, 1, 2, 3, "float32", "THWC")].slice(0, 3), [0, 51 / 255, 1].map(Math.fround))
    assert.deepStrictEqual(DecodePlan.shape("TCHW", 2, 4, 5, 3), [2, 3, 4, 5])
    assert.strictEqual(DecodePlan.grayOf(255, 255, 255), 255)
    assert.deepStrictEqual(DecodePlan.imagesOf(["b.PNG", "a.jpg", "notes.txt", ".png"]), ["a.jpg", "b.PNG"])
  })
})
