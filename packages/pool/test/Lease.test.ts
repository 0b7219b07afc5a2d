import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { Lease, NotFound, TensorBuffers, Video, VideoDecoder, VideoPool, type VideoTensor } from "@vidpool/pool"

/** Bytes of one tensor of the test decoder's default shape (2 x 4 x 4 x 3). */
const tensorBytes = 2 * 4 * 4 * 3

/** The pool over the test decoder, whose free list the tests count. */
const Live = VideoPool.layer.pipe(
  Layer.provideMerge(VideoDecoder.layerTest({ script: { "missing.mp4": { fail: new NotFound() } } }))
)

const kept = Effect.flatMap(Effect.service(VideoDecoder), (decoder) => decoder.buffers.keptBytes)

const openPair = (n: number) =>
  VideoPool.use((pool) =>
    pool.open(Array.from({ length: n }, (_, i) => ({ video: Video.file(`gen-${i}.mp4`), reference: Video.file(`ref-${i}.mp4`) })))
  )

describe("Pool.lease", () => {
  it.effect("gives a sample's decoded memory back to the decoder's free list when its scope closes after the taker finished", () =>
    Effect.gen(function*() {
      const pool = yield* openPair(1)
      const seen = yield* Effect.scoped(Effect.gen(function*() {
        const taken = yield* pool.lease
        const [, sample, lease] = Option.getOrThrow(taken)
        // Held: nothing is back yet, and the tensors are readable.
        assert.strictEqual(yield* kept, 0)
        assert.isFalse(lease.ended())
        return sample.video.data.length + sample.reference.data.length
      }))
      assert.strictEqual(seen, 2 * tensorBytes)
      assert.strictEqual(yield* kept, 2 * tensorBytes)
      // The end of the samples is None, with no lease.
      assert.isTrue(Option.isNone(yield* Effect.scoped(pool.lease)))
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("gives it back when the taker fails", () =>
    Effect.gen(function*() {
      const pool = yield* openPair(1)
      const exit = yield* Effect.exit(Effect.scoped(Effect.gen(function*() {
        yield* pool.lease
        return yield* Effect.fail("the metric failed")
      })))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(yield* kept, 2 * tensorBytes)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("gives it back when the taker is interrupted", () =>
    Effect.gen(function*() {
      const pool = yield* openPair(1)
      const leased = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        yield* pool.lease
        yield* Deferred.succeed(leased, undefined)
        return yield* Effect.never
      })))
      yield* Deferred.await(leased)
      assert.strictEqual(yield* kept, 0)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* kept, 2 * tensorBytes)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("a taker interrupted while it waits for a sample leaves that sample for the next taker", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const Gated = VideoPool.layer.pipe(Layer.provideMerge(Layer.effect(
        VideoDecoder,
        Effect.map(Effect.service(VideoDecoder), (inner) =>
          VideoDecoder.of({
            decode: (video) => Effect.andThen(Deferred.await(gate), inner.decode(video)),
            buffers: inner.buffers
          }))
      ).pipe(Layer.provide(VideoDecoder.layerTest()))))
      yield* Effect.gen(function*() {
        const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("a.mp4") }]))
        const waiting = yield* Effect.forkChild(Effect.scoped(pool.lease))
        yield* Fiber.interrupt(waiting)
        yield* Deferred.succeed(gate, undefined)
        const taken = yield* Effect.scoped(Effect.map(pool.lease, Option.map(([index]) => index)))
        assert.deepStrictEqual(taken, Option.some(0))
      }).pipe(Effect.scoped, Effect.provide(Gated))
    }))

  it.effect("a failed decode is the taker's failure, and nothing is leased", () =>
    Effect.gen(function*() {
      const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("missing.mp4") }]))
      const error = yield* Effect.flip(Effect.scoped(pool.lease))
      assert.strictEqual(error._tag, "DecodeError")
      assert.strictEqual(error.index, 0)
      assert.strictEqual(yield* kept, 0)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("a sample whose second video fails gives its first video's memory back to the decoder", () =>
    Effect.gen(function*() {
      const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("a.mp4"), reference: Video.file("missing.mp4") }]))
      const error = yield* Effect.flip(Effect.scoped(pool.lease))
      assert.strictEqual(error._tag, "DecodeError")
      assert.strictEqual(error.key, "reference")
      assert.strictEqual(yield* kept, tensorBytes)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("leases only what the pool decoded: a tensor the caller gave stays the caller's", () =>
    Effect.gen(function*() {
      const given = yield* VideoDecoder.use((d) => d.decode(Video.file("given.mp4")))
      const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("a.mp4"), reference: given }]))
      yield* Effect.scoped(pool.lease)
      assert.strictEqual(yield* kept, tensorBytes)
      assert.strictEqual(given.data.length, tensorBytes)
      const { buffers } = yield* VideoDecoder
      assert.notStrictEqual(buffers.takeUnsafe(tensorBytes).buffer, given.data.buffer)
    }).pipe(Effect.scoped, Effect.provide(Live)))
})

describe("a pool's close", () => {
  /**
   * The pool over the test decoder, where `gate-*.mp4` signals `started` and never finishes: with
   * one loader claiming samples in order, its start means every sample before it was delivered.
   */
  const gatedLive = (started: Deferred.Deferred<void>) =>
    VideoPool.layer.pipe(Layer.provideMerge(Layer.effect(
      VideoDecoder,
      Effect.map(Effect.service(VideoDecoder), (inner) =>
        VideoDecoder.of({
          decode: (video) =>
            video.path.startsWith("gate-")
              ? Effect.andThen(Deferred.succeed(started, undefined), Effect.never)
              : inner.decode(video),
          buffers: inner.buffers
        }))
    ).pipe(Layer.provide(VideoDecoder.layerTest()))))

  it.effect("gives the memory of samples decoded but never taken back to the decoder's free list", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const poolScope = yield* Scope.make()
        const pool = yield* Scope.provide(
          VideoPool.use((p) =>
            p.open([
              { video: Video.file("a.mp4"), reference: Video.file("ra.mp4") },
              { video: Video.file("b.mp4") },
              { video: Video.file("c.mp4") },
              { video: Video.file("gate-d.mp4") }
            ], { maxSize: 4 })
          ),
          poolScope
        )
        yield* Deferred.await(started)
        // Sample 0 (a and ra) is taken and held by its lease past the pool's close: that memory stays the taker's.
        const takerScope = yield* Scope.make()
        const first = Option.getOrThrow(yield* Scope.provide(pool.lease, takerScope))
        assert.strictEqual(first[0], 0)
        assert.strictEqual(yield* kept, 0)
        yield* Scope.close(poolScope, Exit.void)
        // b and c (one tensor each) were never taken; a and ra come back when their lease ends.
        assert.strictEqual(yield* kept, 2 * tensorBytes)
        assert.strictEqual(first[1].video.data.length, tensorBytes)
        yield* Scope.close(takerScope, Exit.void)
        assert.strictEqual(yield* kept, 4 * tensorBytes)
      }).pipe(Effect.provide(gatedLive(started)))
    }))

  it.effect("gives back the samples waiting in the input-order buffer too", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const firstStarted = yield* Deferred.make<void>()
      // Sample 0 never finishes, so samples 1 and 2 wait behind it for their turn in input order.
      const Live = VideoPool.layer.pipe(Layer.provideMerge(Layer.effect(
        VideoDecoder,
        Effect.map(Effect.service(VideoDecoder), (inner) =>
          VideoDecoder.of({
            decode: (video) =>
              video.path === "first.mp4"
                ? Effect.andThen(Deferred.succeed(firstStarted, undefined), Effect.never)
                : video.path.startsWith("gate-")
                ? Effect.andThen(Deferred.succeed(started, undefined), Effect.never)
                : inner.decode(video),
            buffers: inner.buffers
          }))
      ).pipe(Layer.provide(VideoDecoder.layerTest()))))
      yield* Effect.gen(function*() {
        const poolScope = yield* Scope.make()
        yield* Scope.provide(
          VideoPool.use((p) =>
            p.open([
              { video: Video.file("first.mp4") },
              { video: Video.file("b.mp4") },
              { video: Video.file("c.mp4") },
              { video: Video.file("gate-d.mp4") }
            ], { maxSize: 4, loaderThreads: 2, order: "input" })
          ),
          poolScope
        )
        yield* Deferred.await(firstStarted)
        yield* Deferred.await(started)
        assert.strictEqual(yield* kept, 0)
        yield* Scope.close(poolScope, Exit.void)
        assert.strictEqual(yield* kept, 2 * tensorBytes)
      }).pipe(Effect.provide(Live))
    }))
})

describe("Lease moved to a holder", () => {
  it.effect("while moved, closing the taker's scope keeps the memory out; closing the holder's gives it back", () =>
    Effect.gen(function*() {
      const pool = yield* openPair(1)
      const holderScope = yield* Scope.make()
      const holder = yield* Scope.provide(Lease.holder, holderScope)
      yield* Effect.scoped(Effect.gen(function*() {
        const [, , lease] = Option.getOrThrow(yield* pool.lease)
        yield* lease.moveTo(holder)
      }))
      assert.strictEqual(yield* kept, 0)
      yield* Scope.close(holderScope, Exit.void)
      assert.strictEqual(yield* kept, 2 * tensorBytes)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("moved back with the memory the other side returned, the taker's scope gives that back", () =>
    Effect.gen(function*() {
      const pool = yield* openPair(1)
      const holderScope = yield* Scope.make()
      const holder = yield* Scope.provide(Lease.holder, holderScope)
      // What a transfer to another thread and back amounts to: the sent arrays are detached here,
      // and the reply brings the same memory in new arrays.
      yield* Effect.scoped(Effect.gen(function*() {
        const [, sample, lease] = Option.getOrThrow(yield* pool.lease)
        yield* lease.moveTo(holder)
        const returned = [sample.video, sample.reference].map((t: VideoTensor) =>
          structuredClone(t.data, { transfer: [t.data.buffer as ArrayBuffer] })
        )
        yield* lease.moveBack(returned)
      }))
      assert.strictEqual(yield* kept, 2 * tensorBytes)
      // The holder no longer has it: closing it gives nothing twice.
      yield* Scope.close(holderScope, Exit.void)
      assert.strictEqual(yield* kept, 2 * tensorBytes)
    }).pipe(Effect.scoped, Effect.provide(Live)))

  it.effect("memory a decoder lent goes back to it once, by whichever scope ends the lease", () =>
    Effect.gen(function*() {
      const released: Array<string> = []
      const buffers = TensorBuffers.makeUnsafe()
      const Lending = VideoPool.layer.pipe(Layer.provide(Layer.effect(
        VideoDecoder,
        Effect.map(Effect.service(VideoDecoder), (inner) =>
          VideoDecoder.of({
            decode: (video) =>
              Effect.tap(inner.decode(video), (t) => Effect.sync(() => buffers.lendUnsafe(t.data, () => released.push(video.path)))),
            buffers
          }))
      ).pipe(Layer.provide(VideoDecoder.layerTest()))))
      yield* Effect.gen(function*() {
        const pool = yield* VideoPool.use((p) => p.open([{ video: Video.file("a.mp4") }, { video: Video.file("b.mp4") }], { maxSize: 2 }))
        const holderScope = yield* Scope.make()
        const holder = yield* Scope.provide(Lease.holder, holderScope)
        yield* Effect.scoped(Effect.gen(function*() {
          const [, sample, lease] = Option.getOrThrow(yield* pool.lease)
          assert.isTrue(lease.isShared(sample.video.data))
          yield* lease.moveTo(holder)
        }))
        assert.deepStrictEqual(released, [])
        yield* Scope.close(holderScope, Exit.void)
        assert.strictEqual(released.length, 1)
        yield* Effect.scoped(pool.lease)
        assert.strictEqual(released.length, 2)
        assert.sameMembers(released, ["a.mp4", "b.mp4"])
        // Lent memory is not kept in the free list: it went back to its decoder.
        assert.strictEqual(yield* buffers.keptBytes, 0)
      }).pipe(Effect.scoped, Effect.provide(Lending))
    }))
})
