import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Video, VideoDecoder } from "@vidpool/pool"
import { LibavDecoder, makeDecoder } from "../src/index.ts"
import { at, decodeFile } from "./helpers.ts"

// One decode thread whose slab holds exactly one tensor of the fixture clip (decoded once to learn
// its size).
const probeBytes = Effect.runPromise(
  decodeFile(at("h264.mp4")).pipe(Effect.map((t) => t.data.byteLength), Effect.provide(LibavDecoder.layerWith({}, { decodeThreads: 1, slabBytes: 0 })))
)

describe("LibavDecoder's shared tensors", async () => {
  const bytes = await probeBytes
  layer(LibavDecoder.layerWith({}, { decodeThreads: 1, ffmpegThreads: 1, slabBytes: bytes }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("a tensor is a view of the thread's slab; recycled, its memory holds the next tensor; while held, the next one uses ordinary memory", () =>
      Effect.gen(function*() {
        const { buffers } = yield* VideoDecoder
        const first = yield* decodeFile(at("h264.mp4"))
        assert.instanceOf(first.data.buffer, SharedArrayBuffer)
        assert.isTrue(buffers.isLent(first.data))
        const copy = first.data.slice()
        // Held: the slab is full, so the next tensor is ordinary, transferred memory.
        const second = yield* decodeFile(at("h264.mp4"), { pixelFormat: "gray" })
        assert.instanceOf(second.data.buffer, ArrayBuffer)
        assert.deepStrictEqual(first.data, copy)
        // Handed back: the next tensor of that size is decoded into the same memory.
        yield* buffers.recycle(first)
        assert.isFalse(buffers.isLent(first.data))
        first.data.fill(7)
        const third = yield* decodeFile(at("h264.mp4"))
        assert.instanceOf(third.data.buffer, SharedArrayBuffer)
        assert.deepStrictEqual(third.data, copy)
        assert.deepStrictEqual(first.data, copy)
      }))
  })
})

describe("makeDecoder", () => {
  it.live("builds the decoder with its own free list, the one its decode threads lend their slabs through", () =>
    Effect.scoped(Effect.gen(function*() {
      const decoder = yield* makeDecoder({}, { decodeThreads: 1, ffmpegThreads: 1 })
      const first = yield* decoder.decode(Video.file(at("h264.mp4")))
      assert.instanceOf(first.data.buffer, SharedArrayBuffer)
      assert.isTrue(decoder.buffers.isLent(first.data))
      yield* decoder.buffers.recycle(first)
      assert.isFalse(decoder.buffers.isLent(first.data))
      // Nothing was kept as ordinary memory: the slab's memory went back to the thread.
      assert.strictEqual(yield* decoder.buffers.keptBytes, 0)
      const second = yield* decoder.decode(Video.file(at("h264.mp4")))
      assert.isTrue(decoder.buffers.isLent(second.data))
    })), 60_000)
})
