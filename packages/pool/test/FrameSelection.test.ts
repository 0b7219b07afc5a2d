import { assert, describe, it } from "@effect/vitest"
import { runs, select } from "../src/FrameSelection.ts"

describe("FrameSelection", () => {
  it("keeps every frame by default", () => {
    assert.deepStrictEqual(select(5, 25, {}), { indices: [0, 1, 2, 3, 4], fps: 25 })
  })

  it("numFrames is linspace(0, n - 1) truncated, and scales the rate", () => {
    const picked = select(75, 25, { numFrames: 4 })
    assert.deepStrictEqual(picked.indices, [0, 24, 49, 74])
    assert.closeTo(picked.fps, (25 * 3) / 74, 1e-12)
    assert.deepStrictEqual(select(3, 25, { numFrames: 5 }).indices, [0, 0, 1, 1, 2])
  })

  it("fps picks the frame on screen at each output time", () => {
    assert.deepStrictEqual(select(10, 25, { fps: 10 }).indices, [0, 2, 5, 7])
    assert.deepStrictEqual(select(3, 10, { fps: 20 }).indices, [0, 0, 1, 1, 2, 2])
    assert.deepStrictEqual(select(6, 30000 / 1001, { fps: 30000 / 1001 }).indices, [0, 1, 2, 3, 4, 5])
    // an unknown source rate cannot be resampled
    assert.deepStrictEqual(select(3, 0, { fps: 10 }).indices, [0, 1, 2])
  })

  it("applies fps, then numFrames, then maxFrames", () => {
    assert.deepStrictEqual(select(100, 25, { fps: 5, numFrames: 3, maxFrames: 2 }).indices, [0, 45])
  })

  it("groups consecutive indices into reads", () => {
    assert.deepStrictEqual(runs([0, 1, 2, 5, 5, 6, 9]), [[0, 3], [5, 1], [5, 2], [9, 1]])
    assert.deepStrictEqual(runs([]), [])
  })
})
