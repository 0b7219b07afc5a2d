import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { TensorBuffers, Video } from "@vidpool/pool"
import { at, decode, Live } from "./helpers.ts"

describe("TensorBuffers", () => {
  it("reuses a given-back buffer of the same size, once", () => {
    TensorBuffers.clear()
    const first = TensorBuffers.take(1000)
    TensorBuffers.give(first)
    TensorBuffers.give(first) // twice is still once
    assert.strictEqual(TensorBuffers.keptBytes(), 1000)
    assert.strictEqual(TensorBuffers.take(1000).buffer, first.buffer)
    assert.notStrictEqual(TensorBuffers.take(1000).buffer, first.buffer)
    assert.strictEqual(TensorBuffers.keptBytes(), 0)
  })

  it("keeps only arrays that own their whole buffer, up to the cap", () => {
    TensorBuffers.clear()
    TensorBuffers.give(new Uint8Array(100).subarray(10))
    assert.strictEqual(TensorBuffers.keptBytes(), 0)
    TensorBuffers.give(new Uint8Array(TensorBuffers.maxKeptBytes + 1))
    assert.strictEqual(TensorBuffers.keptBytes(), 0)
    TensorBuffers.give(new Float32Array(10))
    assert.strictEqual(TensorBuffers.keptBytes(), 40)
    TensorBuffers.clear()
  })

  layer(Live)((it) => {
    it.effect("a decode into recycled memory overwrites all of it", () =>
      Effect.gen(function*() {
        TensorBuffers.clear()
        const fresh = yield* decode(Video.file(at("ffv1.mkv")))
        const other = yield* decode(Video.file(at("h264.mp4"))) // same shape, other pictures
        assert.deepStrictEqual(other.shape, fresh.shape)
        TensorBuffers.recycle(other)
        const reused = yield* decode(Video.file(at("ffv1.mkv")))
        assert.strictEqual(reused.data.buffer, other.data.buffer)
        assert.deepStrictEqual(reused.data, fresh.data)
        TensorBuffers.clear()
      }))
  })
})
