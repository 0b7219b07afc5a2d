import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { TensorBuffers, Video, VideoDecoder } from "@vidpool/pool"
import { at, decode, Live } from "./helpers.ts"

describe("TensorBuffers", () => {
  it("reuses a given-back buffer of the same size, once", () => {
    const buffers = TensorBuffers.makeUnsafe()
    const first = buffers.takeUnsafe(1000)
    buffers.giveUnsafe(first)
    buffers.giveUnsafe(first) // twice is still once
    assert.strictEqual(Effect.runSync(buffers.keptBytes), 1000)
    assert.strictEqual(buffers.takeUnsafe(1000).buffer, first.buffer)
    assert.notStrictEqual(buffers.takeUnsafe(1000).buffer, first.buffer)
    assert.strictEqual(Effect.runSync(buffers.keptBytes), 0)
  })

  it("keeps only arrays that own their whole buffer, up to the cap", () => {
    const buffers = TensorBuffers.makeUnsafe()
    buffers.giveUnsafe(new Uint8Array(100).subarray(10))
    assert.strictEqual(Effect.runSync(buffers.keptBytes), 0)
    buffers.giveUnsafe(new Uint8Array(TensorBuffers.maxKeptBytes + 1))
    assert.strictEqual(Effect.runSync(buffers.keptBytes), 0)
    buffers.giveUnsafe(new Float32Array(10))
    assert.strictEqual(Effect.runSync(buffers.keptBytes), 40)
  })

  it("gives each free list its own memory: what one keeps, another never hands out", () => {
    const one = TensorBuffers.makeUnsafe()
    const other = TensorBuffers.makeUnsafe()
    const given = new Uint8Array(64)
    one.giveUnsafe(given)
    assert.notStrictEqual(other.takeUnsafe(64).buffer, given.buffer)
    assert.strictEqual(one.takeUnsafe(64).buffer, given.buffer)
  })

  it("knows the memory its own decoder lent, and no other free list does", () => {
    const one = TensorBuffers.makeUnsafe()
    const other = TensorBuffers.makeUnsafe()
    const released: Array<string> = []
    const data = new Uint8Array(new SharedArrayBuffer(64))
    one.lendUnsafe(data, () => released.push("slot"))
    assert.isTrue(one.isLent(data))
    assert.isFalse(other.isLent(data))
    // Another free list neither releases it nor keeps it (it is not ordinary memory).
    other.giveUnsafe(data)
    assert.deepStrictEqual(released, [])
    assert.strictEqual(Effect.runSync(other.keptBytes), 0)
    one.giveUnsafe(data)
    one.giveUnsafe(data) // once only
    assert.deepStrictEqual(released, ["slot"])
    assert.isFalse(one.isLent(data))
    assert.strictEqual(Effect.runSync(one.keptBytes), 0)
  })

  it.effect("a scoped free list is emptied when its scope closes", () =>
    Effect.gen(function*() {
      const kept = yield* Effect.scoped(Effect.gen(function*() {
        const buffers = yield* TensorBuffers.make()
        buffers.giveUnsafe(new Uint8Array(128))
        assert.strictEqual(yield* buffers.keptBytes, 128)
        return buffers
      }))
      assert.strictEqual(yield* kept.keptBytes, 0)
    }))

  layer(Live)((it) => {
    it.effect("a decode into memory recycled through the decoder's free list overwrites all of it", () =>
      Effect.gen(function*() {
        const { buffers } = yield* VideoDecoder
        const fresh = yield* decode(Video.file(at("ffv1.mkv")))
        const other = yield* decode(Video.file(at("h264.mp4"))) // same shape, other pictures
        assert.deepStrictEqual(other.shape, fresh.shape)
        yield* buffers.recycle(other)
        const reused = yield* decode(Video.file(at("ffv1.mkv")))
        assert.strictEqual(reused.data.buffer, other.data.buffer)
        assert.deepStrictEqual(reused.data, fresh.data)
      }))
  })
})
