/**
 * Pool benchmarks, printed as ratios against baselines measured in the same run:
 * - overhead: the pool against `Stream.mapEffect(unordered) + Stream.buffer` with an instant decoder;
 * - overlap: a ~5 ms off-thread decoder and a ~2 ms CPU consumer against the ideal pipeline time.
 */
import { Effect, Option, Stream } from "effect"
import { Video, VideoPool } from "@vidpool/pool"
import { poolWith as poolLayer, samples, tensor } from "../test/fixtures.ts"

const now = () => performance.now()

const drain = <A>(take: Effect.Effect<Option.Option<A>, unknown>, onItem: (a: A) => void) =>
  Effect.gen(function*() {
    while (true) {
      const item = yield* take
      if (Option.isNone(item)) return
      onItem(item.value)
    }
  })

// ---------------------------------------------------------------------------------------------
// overhead
// ---------------------------------------------------------------------------------------------
const overhead = Effect.gen(function*() {
  const n = 100_000
  const concurrency = 4
  const capacity = 16
  const input = samples(n)
  const decode = (video: Video) => Effect.succeed(tensor(video.path))
  // the same per-sample work the pool does: decode each Video field into a new record
  const decodeSample = (sample: { readonly video: Video; readonly label: number }) =>
    Effect.map(decode(sample.video), (video) => ({ ...sample, video }))

  const viaStream = Effect.gen(function*() {
    const start = now()
    const count = yield* Stream.fromIterable(input).pipe(
      Stream.mapEffect(decodeSample, { concurrency, unordered: true }),
      Stream.buffer({ capacity }),
      Stream.runCount
    )
    if (count !== n) throw new Error(`stream delivered ${count}`)
    return now() - start
  })
  const viaPool = Effect.gen(function*() {
    const start = now()
    let count = 0
    yield* Effect.scoped(Effect.gen(function*() {
      const pool = yield* VideoPool.use((_) => _.open(input, { loaderThreads: concurrency, maxSize: capacity }))
      yield* drain(pool.take, () => count++)
    }))
    if (count !== n) throw new Error(`pool delivered ${count}`)
    return now() - start
  }).pipe(Effect.provide(poolLayer(decode)))

  // warm up both, then alternate runs and keep the best of each
  yield* viaStream
  yield* viaPool
  const streamTimes: Array<number> = []
  const poolTimes: Array<number> = []
  for (let i = 0; i < 5; i++) {
    streamTimes.push(yield* viaStream)
    poolTimes.push(yield* viaPool)
  }
  const stream = Math.min(...streamTimes)
  const pool = Math.min(...poolTimes)
  console.log(`overhead: ${n} samples, instant decoder, concurrency ${concurrency}, buffer ${capacity} (best of 5)`)
  console.log(`  Stream.mapEffect(unordered)+buffer: ${stream.toFixed(0)} ms (${(stream * 1000 / n).toFixed(2)} us/item)`)
  console.log(`  VideoPool:                          ${pool.toFixed(0)} ms (${(pool * 1000 / n).toFixed(2)} us/item)`)
  console.log(`  ratio stream/pool: ${(stream / pool).toFixed(2)} (target >= 1.00)`)
  return stream / pool
})

// ---------------------------------------------------------------------------------------------
// overlap
// ---------------------------------------------------------------------------------------------
const burn = (ms: number) => {
  const end = now() + ms
  let x = 0
  while (now() < end) x++
  return x
}

const overlap = Effect.gen(function*() {
  const n = 200
  const decodeMs = 5
  const consumeMs = 2
  const ratios: Array<number> = []
  console.log(`overlap: ${n} samples, decoder waits ~${decodeMs} ms off-thread, consumer burns ~${consumeMs} ms CPU`)
  for (const loaders of [1, 2, 4]) {
    let decodeTotal = 0
    let consumeTotal = 0
    const decode = (video: Video) =>
      Effect.suspend(() => {
        const start = now()
        return Effect.sleep(decodeMs).pipe(Effect.map(() => {
          decodeTotal += now() - start
          return tensor(video.path)
        }))
      })
    const start = now()
    yield* Effect.scoped(Effect.gen(function*() {
      const pool = yield* VideoPool.use((_) => _.open(samples(n), { loaderThreads: loaders, maxSize: 2 * loaders }))
      yield* drain(pool.take, () => {
        const t = now()
        burn(consumeMs)
        consumeTotal += now() - t
      })
    })).pipe(Effect.provide(poolLayer(decode)))
    const wall = now() - start
    const d = decodeTotal / n
    const c = consumeTotal / n
    const ideal = Math.max(n * d / loaders, n * c) + d
    ratios.push(wall / ideal)
    console.log(
      `  loaders ${loaders}: wall ${wall.toFixed(0)} ms, D ${d.toFixed(2)} ms, C ${c.toFixed(2)} ms, ` +
        `ideal ${ideal.toFixed(0)} ms, wall/ideal ${(wall / ideal).toFixed(3)} (target <= 1.05)`
    )
  }
  return ratios
})

const main = Effect.gen(function*() {
  console.log("@vidpool/pool benchmarks")
  const overheadRatio = yield* overhead
  const overlapRatios = yield* overlap
  const ok = overheadRatio >= 1 && overlapRatios.every((r) => r <= 1.05)
  console.log(ok ? "all pool targets met" : "some pool target NOT met")
})

Effect.runPromise(main)
