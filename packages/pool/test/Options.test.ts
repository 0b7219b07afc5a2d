import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { InvalidPoolOptions, Options, Video, VideoDecoder, VideoPool } from "../src/index.ts"

describe("Options", () => {
  it("a struct of options decodes what is valid and names the first bad field with what it accepts", () => {
    const schema = Options.struct({ loaders: Options.Count, order: Options.oneOf(["a", "b"]), bytes: Options.Bytes })
    assert.deepStrictEqual(Effect.runSync(schema.decode({ loaders: 3, order: "b", other: 1 })), { loaders: 3, order: "b" })
    assert.deepStrictEqual(Effect.runSync(schema.decode(undefined)), {})
    for (const bad of [0, -1, 1.5, NaN, Infinity, 1e300, Options.maxCount + 1, "2"]) {
      const error = Effect.runSync(Effect.flip(schema.decode({ loaders: bad })))
      assert.instanceOf(error, InvalidPoolOptions)
      assert.strictEqual(error.option, "loaders")
      assert.strictEqual(error.expected, `an integer from 1 to ${Options.maxCount}`)
    }
    assert.deepStrictEqual(schema.problems({ loaders: 0, order: "c", bytes: -1 }).map((p) => p.option), ["loaders", "order", "bytes"])
    assert.strictEqual(schema.problems({ order: "c" })[0].expected, `"a" or "b"`)
    // The same options as one Schema.
    assert.isTrue(Exit.isSuccess(Schema.decodeUnknownExit(schema.schema)({ loaders: 2 })))
    assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(schema.schema)({ loaders: 0 })))
  })

  it("VideoPool.open decodes its options with PoolOptions: a bad one is an InvalidPoolOptions naming it", () =>
    Effect.gen(function*() {
      for (const [options, name] of [[{ loaderThreads: 1e9 }, "loaderThreads"], [{ maxSize: 0 }, "maxSize"], [{ order: "random" }, "order"]] as const) {
        const error = yield* Effect.flip(Effect.scoped(VideoPool.use((pool) => pool.open([{ video: Video.file("a.mp4") }], options as never))))
        assert.strictEqual(error.option, name)
      }
    }).pipe(Effect.provide(VideoPool.layer), Effect.provide(VideoDecoder.layerTest()), Effect.runPromise))

  it("VideoPool.open refuses samples that are not an array, and a sample that is not an object, naming it", () =>
    Effect.gen(function*() {
      const open = (samples: unknown) => Effect.scoped(VideoPool.use((pool) => pool.open(samples as never)))
      for (const bad of [null, undefined, 7, "a.mp4", [Video.file("a.mp4")]]) {
        const error = yield* Effect.flip(open([{ video: Video.file("a.mp4") }, bad]))
        assert.instanceOf(error, InvalidPoolOptions)
        assert.strictEqual(error.option, "samples[1]")
        assert.strictEqual(error.value, bad)
      }
      // Not an array: refused at once (an object without a length would leave the pool never ending).
      for (const samples of [null, { video: Video.file("a.mp4") }, "ab", 3]) {
        const error = yield* Effect.flip(open(samples))
        assert.instanceOf(error, InvalidPoolOptions)
        assert.strictEqual(error.option, "samples")
        assert.include(error.message, "samples must be an array of samples")
      }
    }).pipe(Effect.provide(VideoPool.layer), Effect.provide(VideoDecoder.layerTest()), Effect.runPromise))
})
