import { assert, describe, it } from "@effect/vitest"
import { Array as Arr, Deferred, Effect, Exit, Fiber, Layer, Metric, Option, Scope, Stream, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { InvalidData, InvalidPoolOptions, poolMetrics, Video, VideoDecoder, VideoPool } from "@vidpool/pool"
import { testPixel } from "@vidpool/pool/testing"
import { drain, drainConcurrently, invalid, pathIndex, poolWith, samples, tensor } from "./fixtures.ts"

const open = <S extends object>(input: ReadonlyArray<S>, options?: Parameters<VideoPool["Service"]["open"]>[1]) =>
  VideoPool.use((pool) => pool.open(input, options))

const instant = poolWith((video) => Effect.succeed(tensor(video.path)))

describe("VideoPool", () => {
  describe("decoding", () => {
    it.effect("decodes every Video field and passes other values through", () =>
      Effect.gen(function*() {
        const pool = yield* open([{
          video: Video.file("a.mp4"),
          reference: Video.folder("frames/"),
          prompt: "a cat",
          meta: { seed: 7 }
        }])
        const item = yield* pool.take
        assert.isTrue(Option.isSome(item))
        const [index, sample] = Option.getOrThrow(item)
        assert.strictEqual(index, 0)
        assert.strictEqual(sample.video.source.path, "a.mp4")
        assert.strictEqual(sample.reference.source.path, "frames/")
        assert.strictEqual(sample.prompt, "a cat")
        assert.deepStrictEqual(sample.meta, { seed: 7 })
      }).pipe(Effect.provide(instant)))

    it.effect("never mutates the caller's samples", () =>
      Effect.gen(function*() {
        const input = samples(5).map((s) => Object.freeze(s))
        Object.freeze(input)
        const pool = yield* open(input, { loaderThreads: 2 })
        const taken: Array<unknown> = []
        while (true) {
          const item = yield* pool.take
          if (Option.isNone(item)) break
          taken.push(item.value[1])
        }
        assert.strictEqual(taken.length, 5)
        for (const sample of input) assert.isTrue(Video.is(sample.video))
        for (const sample of taken) assert.isFalse(input.includes(sample as never))
      }).pipe(Effect.provide(instant)))

    it.effect("a sample with no Video passes through as is", () =>
      Effect.gen(function*() {
        const pool = yield* open([{ prompt: "only text" }])
        const item = yield* pool.take
        assert.deepStrictEqual(Option.map(item, ([index, sample]) => [index, sample.prompt]), Option.some([0, "only text"]))
        assert.isTrue(Option.isNone(yield* pool.take))
      }).pipe(Effect.provide(instant)))
  })

  describe("ending", () => {
    it.effect("an empty sample list ends at once, for every consumer", () =>
      Effect.gen(function*() {
        const pool = yield* open([], { loaderThreads: 3 })
        const taken = yield* drainConcurrently(pool, 4)
        assert.deepStrictEqual(taken, [[], [], [], []])
        assert.strictEqual(pool.size, 0)
      }).pipe(Effect.provide(instant)))

    it.effect("one sample and eight consumers: one gets it, the blocked seven wake with None", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const pool = yield* open(samples(1)).pipe(
          Effect.provide(poolWith((video) => Effect.as(Deferred.await(gate), tensor(video.path))))
        )
        const fibers = yield* Effect.forEach(Arr.range(1, 8), () => Effect.forkChild(drain(pool)))
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow
        // the only sample is still decoding, so every consumer is suspended in take, none has ended
        assert.isTrue(fibers.every((fiber) => fiber.pollUnsafe() === undefined))
        yield* Deferred.succeed(gate, undefined)
        const taken = yield* Effect.forEach(fibers, Fiber.join)
        assert.deepStrictEqual(taken.flat().map((o) => o.index), [0])
        assert.strictEqual(taken.filter((t) => t.length === 0).length, 7)
      }))

    it.effect("take after the end keeps answering None", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(2))
        yield* drain(pool)
        assert.isTrue(Option.isNone(yield* pool.take))
        assert.isTrue(Option.isNone(yield* pool.take))
      }).pipe(Effect.provide(instant)))

    it.effect("stream yields every sample once and ends", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(20), { loaderThreads: 4, maxSize: 3 })
        const items = yield* Stream.runCollect(pool.stream)
        assert.deepStrictEqual(items.map(([index]) => index).sort((a, b) => a - b), Arr.range(0, 19))
      }).pipe(Effect.provide(instant)))
  })

  describe("failures", () => {
    it.effect("a failed decode reaches the take that would have delivered it, and the pool goes on", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(4), { order: "input" }).pipe(Effect.provide(poolWith((video) =>
          pathIndex(video.path) === 1 ? Effect.fail(invalid(video.path)) : Effect.succeed(tensor(video.path))
        )))
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 0)
        const error = yield* Effect.flip(pool.take)
        assert.strictEqual(error._tag, "DecodeError")
        assert.strictEqual(error.path, "v1.mp4")
        assert.strictEqual(error.index, 1)
        assert.strictEqual(error.key, "video")
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.include(error.message, "v1.mp4")
        assert.include(error.message, "sample 1")
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 2)
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 3)
        assert.isTrue(Option.isNone(yield* pool.take))
      }))

    it.effect("a failure in a sample's second video names that field", () =>
      Effect.gen(function*() {
        const pool = yield* open([{ video: Video.file("good.mp4"), reference: Video.file("bad.mp4") }]).pipe(
          Effect.provide(poolWith((video) =>
            video.path === "bad.mp4" ? Effect.fail(invalid(video.path)) : Effect.succeed(tensor(video.path))
          ))
        )
        const error = yield* Effect.flip(pool.take)
        assert.strictEqual(error.key, "reference")
        assert.strictEqual(error.path, "bad.mp4")
        assert.strictEqual(error.index, 0)
      }))

    it.effect("a decoder defect reaches the consumer as a defect, not a hang", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(2), { order: "input" }).pipe(Effect.provide(poolWith((video) =>
          pathIndex(video.path) === 0 ? Effect.die(new Error("decoder bug")) : Effect.succeed(tensor(video.path))
        )))
        const exit = yield* Effect.exit(pool.take)
        assert.isTrue(Exit.hasDies(exit))
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 1)
      }))

    it.effect("a decoder that throws or fails with a foreign value fails only its sample", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(4), { order: "input" }).pipe(Effect.provide(poolWith((video) => {
          const index = pathIndex(video.path)
          if (index === 1) throw new Error("decoder threw")
          if (index === 2) return Effect.fail("not a DecodeError" as never)
          return Effect.succeed(tensor(video.path))
        })))
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 0)
        assert.isTrue(Exit.hasDies(yield* Effect.exit(pool.take)))
        // The foreign failure is no DecodeError, so the take dies with it instead of failing.
        assert.deepStrictEqual(yield* Effect.exit(pool.take), Exit.die("not a DecodeError"))
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 3)
        assert.isTrue(Option.isNone(yield* pool.take))
      }))

    // Live clock: a take that hung would end in the timeout, not in the suite's own.
    it.live("a decoder failure that is not a DecodeError ends the take with a defect, for one video or several", () =>
      Effect.gen(function*() {
        const foreign = new Error("a decoder broke its contract")
        const pool = yield* open([
          { video: Video.file("v0.mp4") },
          { video: Video.file("good.mp4"), reference: Video.file("v1.mp4") },
          { video: Video.file("v2.mp4") }
        ], { order: "input", loaderThreads: 2 }).pipe(Effect.provide(poolWith((video) =>
          video.path === "good.mp4" || pathIndex(video.path) === 2
            ? Effect.succeed(tensor(video.path))
            : Effect.fail(foreign as never)
        )))
        for (let i = 0; i < 2; i++) {
          const exit = yield* Effect.exit(Effect.timeout(pool.take, "5 seconds"))
          assert.deepStrictEqual(exit, Exit.die(foreign))
          assert.isFalse(Exit.hasFails(exit))
        }
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 2)
        assert.isTrue(Option.isNone(yield* pool.take))
      }))

    it.live("a stream meeting a failure that is not a DecodeError dies with it instead of hanging", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(2)).pipe(Effect.provide(poolWith(() => Effect.fail("foreign" as never))))
        const exit = yield* Effect.exit(Effect.timeout(Stream.runCollect(pool.stream), "5 seconds"))
        assert.deepStrictEqual(exit, Exit.die("foreign"))
      }))

    it.effect("a decode that interrupts itself reaches the consumer as a defect, not as its own interruption", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(2), { order: "input" }).pipe(Effect.provide(poolWith((video) =>
          pathIndex(video.path) === 0 ? Effect.interrupt : Effect.succeed(tensor(video.path))
        )))
        const exit = yield* Effect.exit(pool.take)
        assert.isTrue(Exit.hasDies(exit))
        assert.isFalse(Exit.hasInterrupts(exit))
        assert.strictEqual(Option.getOrThrow(yield* pool.take)[0], 1)
      }))

    it.effect("the stream ends with the first DecodeError", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(3), { order: "input" }).pipe(Effect.provide(poolWith((video) =>
          pathIndex(video.path) === 1 ? Effect.fail(invalid(video.path)) : Effect.succeed(tensor(video.path))
        )))
        const error = yield* Effect.flip(Stream.runCollect(pool.stream))
        assert.strictEqual(error.index, 1)
        assert.strictEqual(error.path, "v1.mp4")
      }))

    it.effect.each([
      { options: { loaderThreads: 0 }, option: "loaderThreads" },
      { options: { loaderThreads: 1.5 }, option: "loaderThreads" },
      { options: { maxSize: 0 }, option: "maxSize" },
      { options: { maxSize: Number.NaN }, option: "maxSize" }
    ] as const)("rejects $option = invalid value at open with InvalidPoolOptions", ({ options, option }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(open(samples(1), options))
        assert.instanceOf(error, InvalidPoolOptions)
        assert.strictEqual(error.option, option)
        assert.include(error.message, option)
      }).pipe(Effect.provide(instant)))
  })

  describe("bounds", () => {
    it.effect("never more than loaderThreads decodes running nor maxSize decoded items waiting", () =>
      Effect.gen(function*() {
        let running = 0, maxRunning = 0, decoded = 0, taken = 0, maxWaiting = 0
        const decoder = poolWith((video) =>
          Effect.gen(function*() {
            running++
            maxRunning = Math.max(maxRunning, running)
            yield* Effect.sleep(`${1 + (pathIndex(video.path) % 5)} millis`)
            running--
            decoded++
            maxWaiting = Math.max(maxWaiting, decoded - taken)
            return tensor(video.path)
          })
        )
        const pool = yield* open(samples(60), { loaderThreads: 3, maxSize: 4 }).pipe(Effect.provide(decoder))
        // a slow consumer: 3 ms per item on the test clock
        const consumer = yield* Effect.forkChild(drain(pool, () => {
          taken++
          return Effect.sleep("3 millis")
        }))
        for (let i = 0; i < 400; i++) yield* TestClock.adjust("1 millis")
        const out = yield* Fiber.join(consumer)
        assert.strictEqual(out.length, 60)
        assert.strictEqual(maxRunning, 3)
        assert.isAtMost(maxWaiting, 4)
        assert.isAtLeast(maxWaiting, 3)
      }))

    it.effect("order input delivers in input order while decodes finish in reverse", () =>
      Effect.gen(function*() {
        const n = 12
        let decoded = 0, taken = 0, maxHeld = 0
        const decoder = poolWith((video) =>
          Effect.sleep(`${(n - pathIndex(video.path)) * 2} millis`).pipe(Effect.map(() => {
            decoded++
            maxHeld = Math.max(maxHeld, decoded - taken)
            return tensor(video.path)
          }))
        )
        const pool = yield* open(samples(n), { loaderThreads: 2, maxSize: 3, order: "input" }).pipe(
          Effect.provide(decoder)
        )
        const consumer = yield* Effect.forkChild(drain(pool, () => Effect.sync(() => taken++)))
        for (let i = 0; i < 200; i++) yield* TestClock.adjust("1 millis")
        const out = yield* Fiber.join(consumer)
        assert.deepStrictEqual(out.map((o) => o.index), Arr.range(0, n - 1))
        assert.isAtMost(maxHeld, 3 + 2)
      }))
  })

  describe("scope", () => {
    /** A decoder that never finishes, counting starts and finalizers, with a latch for `expected` starts. */
    const hanging = (expected: number) =>
      Effect.gen(function*() {
        const counts = { started: 0, finalized: 0 }
        const allStarted = yield* Deferred.make<void>()
        const layer = poolWith((video) =>
          pathIndex(video.path) === 0 && expected < 0
            ? Effect.succeed(tensor(video.path))
            : Effect.suspend(() => {
              counts.started++
              return counts.started === Math.abs(expected) ? Deferred.succeed(allStarted, undefined) : Effect.void
            }).pipe(
              Effect.andThen(Effect.never),
              Effect.ensuring(Effect.sync(() => counts.finalized++))
            )
        )
        return { counts, allStarted: Deferred.await(allStarted), layer }
      })

    it.effect("closing the scope interrupts every loader and runs its finalizers", () =>
      Effect.gen(function*() {
        const { allStarted, counts, layer } = yield* hanging(3)
        const scope = yield* Scope.make()
        yield* open(samples(10), { loaderThreads: 3, maxSize: 8 }).pipe(Scope.provide(scope), Effect.provide(layer))
        yield* allStarted
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual(counts, { started: 3, finalized: 3 })
        // nothing starts after the scope closed
        yield* Effect.yieldNow
        assert.strictEqual(counts.started, 3)
      }))

    it.effect("a consumer that fails closes its pool: loaders are interrupted", () =>
      Effect.gen(function*() {
        // sample 0 decodes at once; the two loaders then hang on samples 1 and 2
        const { allStarted, counts, layer } = yield* hanging(-2)
        const exit = yield* Effect.gen(function*() {
          const pool = yield* open(samples(5), { loaderThreads: 2, order: "input" })
          yield* pool.take
          yield* allStarted
          return yield* Effect.fail("metric blew up" as const)
        }).pipe(Effect.scoped, Effect.provide(layer), Effect.exit)
        assert.deepStrictEqual(exit, Exit.fail("metric blew up"))
        assert.deepStrictEqual(counts, { started: 2, finalized: 2 })
      }))

    it.effect("a take after the pool's scope closed is interrupted instead of waiting forever", () =>
      Effect.gen(function*() {
        const { layer } = yield* hanging(2)
        const scope = yield* Scope.make()
        const pool = yield* open(samples(3), { loaderThreads: 2 }).pipe(Scope.provide(scope), Effect.provide(layer))
        const blocked = yield* Effect.forkChild(pool.take)
        yield* Effect.yieldNow
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(blocked)))
        assert.isTrue(Exit.hasInterrupts(yield* Effect.exit(pool.take)))
      }))

    it.effect("interrupting a consumer blocked in take closes the pool", () =>
      Effect.gen(function*() {
        const { allStarted, counts, layer } = yield* hanging(2)
        const consumer = yield* Effect.forkChild(
          Effect.scoped(Effect.flatMap(open(samples(3), { loaderThreads: 2 }), (pool) => pool.take)).pipe(
            Effect.provide(layer)
          )
        )
        yield* allStarted
        yield* Fiber.interrupt(consumer)
        assert.deepStrictEqual(counts, { started: 2, finalized: 2 })
      }))
  })

  describe("with VideoDecoder.layerTest", () => {
    const n = 8
    const scripted = VideoPool.layer.pipe(Layer.provide(VideoDecoder.layerTest({
      shape: [2, 3, 4, 3],
      script: Object.fromEntries(Arr.range(0, n - 1).map((i) => [
        `v${i}.mp4`,
        i === 5
          ? { delay: "1 millis", fail: new InvalidData({ detail: "scripted failure" }) }
          : { delay: `${(n - i) * 3} millis`, frames: i + 1 }
      ]))
    })))

    it.effect("delivers in input order the tensors the script describes, and its failure on its take", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(n), { loaderThreads: 3, maxSize: 4, order: "input" })
        const consumer = yield* Effect.forkChild(drain(pool))
        for (let i = 0; i < 100; i++) yield* TestClock.adjust("1 millis")
        const out = yield* Fiber.join(consumer)
        assert.deepStrictEqual(out.map((o) => o.index), Arr.range(0, n - 1))
        assert.strictEqual(out[5]?.error?.reason._tag, "InvalidData")
        assert.strictEqual(out[5]?.error?.index, 5)
      }).pipe(Effect.provide(scripted)))

    it.effect("each decoded sample carries its own video's tensor", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(3), { loaderThreads: 2 })
        const fiber = yield* Effect.forkChild(Stream.runCollect(pool.stream))
        for (let i = 0; i < 100; i++) yield* TestClock.adjust("1 millis")
        for (const [index, sample] of yield* Fiber.join(fiber)) {
          assert.deepStrictEqual(sample.video.shape, [index + 1, 3, 4, 3])
          assert.strictEqual(sample.video.data[0], testPixel(`v${index}.mp4`))
          assert.strictEqual(sample.label, index)
        }
      }).pipe(Effect.provide(scripted)))
  })

  describe("observability", () => {
    it.effect("the queue-depth gauge follows the decoded samples waiting", () =>
      Effect.gen(function*() {
        const pool = yield* open(samples(3), { loaderThreads: 3, maxSize: 4 })
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow
        assert.strictEqual((yield* Metric.value(poolMetrics.queueDepth)).value, 3)
        yield* pool.take
        assert.strictEqual((yield* Metric.value(poolMetrics.queueDepth)).value, 2)
        yield* drain(pool)
        assert.strictEqual((yield* Metric.value(poolMetrics.queueDepth)).value, 0)
      }).pipe(Effect.provide(instant)))

    it.effect("counts decodes and failures and records a span per decode with path and index", () => {
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span(options) {
          const span = Tracer.nativeTracer.span(options)
          spans.push(span)
          return span
        }
      })
      return Effect.gen(function*() {
        const before = yield* Metric.value(poolMetrics.decoded)
        const failuresBefore = yield* Metric.value(poolMetrics.failures)
        const timerBefore = yield* Metric.value(poolMetrics.decodeDuration)
        const pool = yield* open(samples(5), { loaderThreads: 2 }).pipe(Effect.provide(poolWith((video) =>
          pathIndex(video.path) === 3 ? Effect.fail(invalid(video.path)) : Effect.succeed(tensor(video.path))
        )))
        yield* drain(pool)
        const after = yield* Metric.value(poolMetrics.decoded)
        const failuresAfter = yield* Metric.value(poolMetrics.failures)
        assert.strictEqual(Number(after.count) - Number(before.count), 4)
        assert.strictEqual(Number(failuresAfter.count) - Number(failuresBefore.count), 1)
        const timerAfter = yield* Metric.value(poolMetrics.decodeDuration)
        assert.strictEqual(timerAfter.count - timerBefore.count, 5)
        const decodes = spans.filter((s) => s.name === "VideoPool.decode")
        assert.strictEqual(decodes.length, 5)
        assert.deepStrictEqual(
          decodes.map((s) => s.attributes.get("index")).sort(),
          [0, 1, 2, 3, 4]
        )
        assert.strictEqual(decodes.find((s) => s.attributes.get("index") === 3)?.attributes.get("path"), "v3.mp4")
      }).pipe(Effect.withTracer(tracer))
    })
  })
})
