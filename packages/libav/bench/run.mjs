// One benchmark configuration in its own plain-node process (no TypeScript loader), over the
// built packages, so that its peak RSS is its own. argv: MODE LOADERS CLIP...
//   libav | ffmpeg   VideoPool (maxSize 4) over LibavDecoder / FfmpegDecoder; the consumer only
//                    reads each tensor (with "-recycle", it then hands the tensor back)
//   libav-flicker    the Evaluator with vbench.temporal_flickering, 1 worker, maxSize 4
//   interrupt        how long an interrupted libav decode takes to stop (CLIP... are long clips)
// Prints one JSON line: clips, seconds, clips_per_s, main_cpu_ms_per_clip, max_rss_mb.
import { readFileSync } from "node:fs"
import { Effect, Fiber, Layer, Stream } from "effect"
import { Video, VideoDecoder, VideoPool } from "@vidpool/pool"

const [modeArg, loadersArg, ...clips] = process.argv.slice(2)
// "-recycle": the consumer hands each tensor back (TensorBuffers.recycle) once it has read it.
const recycle = modeArg.endsWith("-recycle")
const mode = modeArg.replace(/-recycle$/, "")
const loaders = Number(loadersArg)
// Only the packages a configuration uses are loaded, as in an application that uses just them
// (their code is the main thread's heap, which its garbage collector walks).
const { LibavDecoder } = mode === "ffmpeg" ? {} : await import("@vidpool/libav")
const { FfmpegDecoder } = mode === "ffmpeg" ? await import("@vidpool/ffmpeg") : {}
// The Evaluator depends on this package, so the benchmark reaches it by path, not by name.
const { Evaluator, MetricRegistry } = mode === "libav-flicker" ? await import("../../eval/dist/index.js") : {}

/** CPU time of the main thread in ms, from /proc (10 ms ticks). */
const mainCpu = () => {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number)
  if (process.env.BENCH_CPU_SPLIT) console.error("utime", fields[11] * 10, "stime", fields[12] * 10)
  return (fields[11] + fields[12]) * 10
}

const decoderLayer = mode === "ffmpeg"
  ? FfmpegDecoder.layer
  : LibavDecoder.layerWith({}, {
    decodeThreads: loaders,
    ...(process.env.BENCH_FFMPEG_THREADS ? { ffmpegThreads: Number(process.env.BENCH_FFMPEG_THREADS) } : {}),
    ...(process.env.BENCH_SLAB_BYTES ? { slabBytes: Number(process.env.BENCH_SLAB_BYTES) } : {})
  })

const samples = clips.map((path) => ({ video: Video.file(path) }))

const poolRun = Effect.scoped(Effect.gen(function*() {
  const pool = yield* VideoPool.use((p) => p.open(samples, { loaderThreads: loaders, maxSize: 4 }))
  const { buffers } = yield* VideoDecoder
  let sum = 0
  yield* Stream.runForEach(pool.stream, ([, decoded]) => Effect.sync(() => {
    sum += decoded.video.data[0]
    if (recycle) buffers.giveUnsafe(decoded.video.data)
  }))
  return sum
}))

const flickerRun = Evaluator?.use((ev) =>
  ev.evaluate(samples, { metrics: ["vbench.temporal_flickering"], workers: 1, loaderThreads: loaders, prefetchFactor: 4 })
)

const measure = async (effect, layer) => {
  const runtime = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(layer)
    // Warm up: threads started, code compiled.
    yield* Effect.provideContext(mode === "libav-flicker" ? flickerRun : poolRun, context).pipe(Effect.asVoid)
    const cpu0 = mainCpu()
    const start = performance.now()
    const result = yield* Effect.provideContext(effect, context)
    const seconds = (performance.now() - start) / 1000
    return { seconds, cpu: mainCpu() - cpu0, result }
  })))
  return runtime
}

if (mode === "interrupt") {
  const layer = LibavDecoder.layerWith({}, { decodeThreads: 1 })
  const stops = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(layer)
    const out = []
    for (const path of clips) {
      const fiber = yield* Effect.forkChild(Effect.provideContext(VideoDecoder.use((d) => d.decode(Video.file(path))), context))
      yield* Effect.sleep("50 millis")
      const start = performance.now()
      yield* Fiber.interrupt(fiber)
      out.push(performance.now() - start)
    }
    return out
  })))
  console.log(JSON.stringify({ stops_ms: stops }))
} else {
  const layer = mode === "libav-flicker"
    ? Evaluator.layer.pipe(Layer.provide(MetricRegistry.layer), Layer.provide(VideoPool.layer), Layer.provide(decoderLayer))
    : VideoPool.layer.pipe(Layer.provideMerge(decoderLayer))
  const { cpu, result, seconds } = await measure(mode === "libav-flicker" ? flickerRun : poolRun, layer)
  console.log(JSON.stringify({
    clips: clips.length,
    seconds,
    clips_per_s: clips.length / seconds,
    main_cpu_ms_per_clip: cpu / clips.length,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    scores: mode === "libav-flicker" ? result.samples.map((s) => s.metrics["vbench.temporal_flickering"].score) : undefined
  }))
}
