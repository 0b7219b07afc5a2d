import { assert, describe, it } from "@effect/vitest"
import { Array as Arr, Effect, Schema } from "effect"
import { VideoPool } from "@vidpool/pool"
import { drainConcurrently, invalid, pathIndex, poolWith, samples, tensor } from "./fixtures.ts"

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

const Scenario = Schema.Struct({
  samples: between(0, 200),
  loaderThreads: between(1, 8),
  maxSize: between(1, 8),
  consumers: between(1, 8),
  /** 0: no failures; k: every sample whose index is 0 mod k fails (after its delay). */
  failEvery: between(0, 6),
  /** Each decode yields to the scheduler `(index * seed) % 5` times: an uneven mix of decode latencies. */
  seed: between(0, 1000),
  order: Schema.Literals(["completion", "input"])
})

describe("VideoPool properties", () => {
  it.effect.prop("every index comes out exactly once, within the bounds, and every consumer ends", [Scenario], ([s]) =>
    Effect.gen(function*() {
      let running = 0, maxRunning = 0, decoded = 0, taken = 0, maxWaiting = 0
      const layer = poolWith((video) =>
        Effect.gen(function*() {
          const index = pathIndex(video.path)
          running++
          maxRunning = Math.max(maxRunning, running)
          for (let i = 0; i < (index * s.seed) % 5; i++) yield* Effect.yieldNow
          running--
          decoded++
          maxWaiting = Math.max(maxWaiting, decoded - taken)
          if (s.failEvery > 0 && index % s.failEvery === 0) return yield* Effect.fail(invalid(video.path))
          return tensor(video.path)
        })
      )
      const outcomes = yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* VideoPool.use((_) =>
          _.open(samples(s.samples), { loaderThreads: s.loaderThreads, maxSize: s.maxSize, order: s.order })
        )
        return yield* drainConcurrently(pool, s.consumers, () => Effect.sync(() => taken++))
      })).pipe(Effect.provide(layer))

      const all = outcomes.flat()
      assert.deepStrictEqual(all.map((o) => o.index).sort((a, b) => a - b), Arr.range(0, s.samples - 1).slice(0, s.samples))
      for (const o of all) {
        const shouldFail = s.failEvery > 0 && o.index % s.failEvery === 0
        assert.strictEqual(o.error !== undefined, shouldFail, `index ${o.index}`)
        if (o.error) assert.strictEqual(o.error.path, `v${o.index}.mp4`)
      }
      assert.isAtMost(maxRunning, s.loaderThreads)
      assert.isAtMost(maxWaiting, s.maxSize)
      if (s.order === "input" && s.consumers === 1) {
        assert.deepStrictEqual(all.map((o) => o.index), Arr.range(0, s.samples - 1).slice(0, s.samples))
      }
    }), { timeout: 60_000, arbitrary: { runs: 150 } })
})
