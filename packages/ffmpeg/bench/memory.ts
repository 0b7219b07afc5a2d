// One memory run in its own process (peak RSS is per process): `tsx bench/memory.ts <clips>`.
// Prints one JSON line: base RSS before the pool, peak RSS (getrusage), and the bound.
import { Effect, Layer, Option } from "effect"
import { Video, VideoPool } from "@vidpool/pool"
import { FfmpegDecoder } from "../src/index.ts"
import { clipBytes, corpusPaths } from "./corpus.ts"

const clips = Number(process.argv[2] ?? 100)
const maxSize = 4
const loaderThreads = 2
const consumerMillis = 40

const program = Effect.gen(function*() {
  const samples = Array.from({ length: clips }, (_, i) => ({ video: Video.file(corpusPaths[i % corpusPaths.length]) }))
  // Warm up the code paths, then measure from here.
  const pools = yield* VideoPool
  yield* Effect.scoped(Effect.gen(function*() {
    const pool = yield* pools.open(samples.slice(0, 2))
    while (Option.isSome(yield* pool.take));
  }))
  const base = process.memoryUsage().rss
  let checksum = 0
  yield* Effect.scoped(Effect.gen(function*() {
    const pool = yield* pools.open(samples, { maxSize, loaderThreads })
    while (true) {
      const item = yield* pool.take
      if (Option.isNone(item)) break
      checksum += item.value[1].video.data[12345]
      yield* Effect.sleep(consumerMillis) // a slow consumer: the queue stays full
    }
  }))
  const peak = process.resourceUsage().maxRSS * 1024
  const bound = base + (maxSize + loaderThreads + 1) * clipBytes * 1.25
  console.log(JSON.stringify({ clips, base, peak, bound, checksum }))
})

program.pipe(
  Effect.provide(VideoPool.layer.pipe(Layer.provide(FfmpegDecoder.layer))),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
