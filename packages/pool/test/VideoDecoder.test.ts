import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { InvalidData, makeRunning, Timeout, Video, VideoDecoder, VideoTensor } from "@vidpool/pool"
import { testPixel } from "@vidpool/pool/testing"

const decode = (path: string) => VideoDecoder.use((decoder) => decoder.decode(Video.file(path)))

describe("VideoDecoder.layerTest", () => {
  it.effect("makes a tensor of the given shape whose pixels identify the path", () =>
    Effect.gen(function*() {
      const tensor = yield* decode("a.mp4")
      assert.deepStrictEqual(tensor.shape, [3, 2, 5, 3])
      assert.strictEqual(tensor.data.length, 3 * 2 * 5 * 3)
      assert.isTrue(tensor.data.every((v) => v === testPixel("a.mp4")))
      assert.notStrictEqual(testPixel("a.mp4"), testPixel("b.mp4"))
      assert.deepStrictEqual(VideoTensor.dimensions(tensor), { frames: 3, height: 2, width: 5, channels: 3 })
    }).pipe(Effect.provide(VideoDecoder.layerTest({ shape: [3, 2, 5, 3] }))))

  it.effect("decodes into memory taken from its own free list, as a real decoder does", () =>
    Effect.gen(function*() {
      const { buffers } = yield* VideoDecoder
      const first = yield* decode("a.mp4")
      const memory = first.data.buffer
      yield* buffers.recycle(first)
      assert.strictEqual(yield* buffers.keptBytes, 3 * 2 * 5 * 3)
      const second = yield* decode("b.mp4")
      assert.strictEqual(second.data.buffer, memory)
      assert.strictEqual(yield* buffers.keptBytes, 0)
      assert.isTrue(second.data.every((v) => v === testPixel("b.mp4")))
      const floats = yield* VideoDecoder.use((decoder) => decoder.decode(Video.file("c.mp4", { dtype: "float32" })))
      assert.isTrue(floats.data.every((v) => Math.abs(v - testPixel("c.mp4") / 255) < 1e-7))
    }).pipe(Effect.provide(VideoDecoder.layerTest({ shape: [3, 2, 5, 3] }))))

  it.effect("follows the script: delays on the Effect clock, failures and frame counts", () =>
    Effect.gen(function*() {
      const slow = yield* Effect.forkChild(decode("slow.mp4"))
      yield* TestClock.adjust("49 millis")
      assert.strictEqual(slow.pollUnsafe(), undefined)
      yield* TestClock.adjust("1 millis")
      const tensor = yield* Fiber.join(slow)
      assert.strictEqual(tensor.shape[0], 7)

      const error = yield* Effect.flip(decode("broken.mp4"))
      assert.strictEqual(error.path, "broken.mp4")
      assert.strictEqual(error.reason._tag, "InvalidData")

      const defect = yield* Effect.exit(decode("bug.mp4"))
      assert.isTrue(Exit.hasDies(defect))

      const fallback = yield* Effect.flip(decode("anything-else.mp4"))
      assert.strictEqual(fallback.reason._tag, "Timeout")
    }).pipe(Effect.provide(VideoDecoder.layerTest({
      script: {
        "slow.mp4": { delay: "50 millis", frames: 7 },
        "broken.mp4": { fail: new InvalidData({ detail: "moov atom not found" }) },
        "bug.mp4": { die: new Error("bug") }
      },
      defaultStep: { fail: new Timeout({ millis: 10 }) }
    }))))
})

describe("VideoTensor.makeUnsafe", () => {
  it("rejects data that does not match the shape or dtype", () => {
    const base = { layout: "THWC", fps: 1, source: { path: "x" } } as const
    assert.throws(() => VideoTensor.makeUnsafe({ ...base, data: new Uint8Array(5), shape: [1, 1, 2, 3], dtype: "uint8" }))
    assert.throws(() => VideoTensor.makeUnsafe({ ...base, data: new Float32Array(6), shape: [1, 1, 2, 3], dtype: "uint8" }))
    const tchw = VideoTensor.makeUnsafe({ ...base, layout: "TCHW", data: new Float32Array(6), shape: [1, 3, 1, 2], dtype: "float32" })
    assert.deepStrictEqual(VideoTensor.dimensions(tchw), { frames: 1, channels: 3, height: 1, width: 2 })
  })
})

describe("makeRunning", () => {
  it.effect("counts the decodes whose scope is open, and no longer those whose scope closed", () =>
    Effect.gen(function*() {
      const running = makeRunning()
      const gate = yield* Deferred.make<void>()
      const decodeWhileOpen = Effect.scoped(Effect.andThen(running.counted, Deferred.await(gate)))
      const decodes = yield* Effect.forkChild(Effect.all([decodeWhileOpen, decodeWhileOpen], { concurrency: "unbounded" }))
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      assert.strictEqual(running.countUnsafe(), 2)
      assert.strictEqual(running.countUnsafe(), 2)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(decodes)
      assert.strictEqual(running.countUnsafe(), 0)
    }))
})
