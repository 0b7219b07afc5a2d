import { assert, describe, it } from "@effect/vitest"
import { count, runs, selectUnsafe } from "../src/FrameSelection.ts"

describe("FrameSelection", () => {
  it("keeps every frame by default", () => {
    assert.deepStrictEqual(selectUnsafe(5, 25, {}), { indices: [0, 1, 2, 3, 4], fps: 25 })
  })

  it("numFrames is linspace(0, n - 1) truncated, and scales the rate", () => {
    const picked = selectUnsafe(75, 25, { numFrames: 4 })
    assert.deepStrictEqual(picked.indices, [0, 24, 49, 74])
    assert.closeTo(picked.fps, (25 * 3) / 74, 1e-12)
    // More than the clip has: the clip as it is (FastVideo), or repeated frames when asked.
    assert.deepStrictEqual(selectUnsafe(3, 25, { numFrames: 5 }).indices, [0, 1, 2])
    assert.strictEqual(selectUnsafe(3, 25, { numFrames: 5 }).fps, 25)
    assert.deepStrictEqual(selectUnsafe(3, 25, { numFrames: 5, repeatFrames: true }).indices, [0, 0, 1, 1, 2])
  })

  it("count gives select's length by arithmetic, also for counts no array could hold", () => {
    const cases = [
      [75, 25, { numFrames: 4 }],
      [3, 25, { numFrames: 5 }],
      [3, 25, { numFrames: 5, repeatFrames: true }],
      [100, 25, { fps: 5, numFrames: 3, maxFrames: 2 }],
      [10, 25, { fps: 10 }],
      [10, 25, { fps: 1000, maxFrames: 7 }],
      [0, 25, { numFrames: 3 }]
    ] as const
    for (const [decoded, fps, options] of cases) {
      assert.strictEqual(count(decoded, fps, options), selectUnsafe(decoded, fps, options).indices.length, JSON.stringify(options))
    }
    assert.strictEqual(count(75, 25, { fps: 1e8 }), 3e8)
    assert.strictEqual(count(75, 25, { numFrames: 1e11, repeatFrames: true }), 1e11)
    assert.strictEqual(count(75, 25, { numFrames: 1e11 }), 75)
    assert.throws(() => selectUnsafe(75, 25, { fps: 1e8 }), /over 1000000/)
  })

  it("numFrames picks among more resampled frames than could be listed, by arithmetic", () => {
    const picked = selectUnsafe(75, 25, { fps: 1e8, numFrames: 3 })
    assert.deepStrictEqual(picked.indices, [0, 37, 74])
    assert.closeTo(picked.fps, 2 / 3, 1e-6)
    // An fps so large that the resampled count is infinite still picks real frames.
    const extreme = selectUnsafe(100, 25, { fps: 1e308, numFrames: 4 })
    assert.deepStrictEqual(extreme.indices, [0, 33, 66, 99])
    assert.isTrue(Number.isFinite(extreme.fps) && extreme.fps > 0)
    // numFrames over the resampled count picks nothing: maxFrames keeps the first at the fps asked.
    const first = selectUnsafe(75, 25, { fps: 1e8, numFrames: 5e8, maxFrames: 3 })
    assert.deepStrictEqual(first, { indices: [0, 0, 0], fps: 1e8 })
  })

  it("fps picks the frame on screen at each output time", () => {
    assert.deepStrictEqual(selectUnsafe(10, 25, { fps: 10 }).indices, [0, 2, 5, 7])
    assert.deepStrictEqual(selectUnsafe(3, 10, { fps: 20 }).indices, [0, 0, 1, 1, 2, 2])
    assert.deepStrictEqual(selectUnsafe(6, 30000 / 1001, { fps: 30000 / 1001 }).indices, [0, 1, 2, 3, 4, 5])
    // an unknown source rate cannot be resampled
    assert.deepStrictEqual(selectUnsafe(3, 0, { fps: 10 }).indices, [0, 1, 2])
  })

  it("applies fps, then numFrames, then maxFrames", () => {
    assert.deepStrictEqual(selectUnsafe(100, 25, { fps: 5, numFrames: 3, maxFrames: 2 }).indices, [0, 45])
  })

  it("groups consecutive indices into reads", () => {
    assert.deepStrictEqual(runs([0, 1, 2, 5, 5, 6, 9]), [[0, 3], [5, 1], [5, 2], [9, 1]])
    assert.deepStrictEqual(runs([]), [])
  })
})
