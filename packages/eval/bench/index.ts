/**
 * @vidpool/eval benchmark (`pnpm bench` in packages/eval).
 *
 * 1. End to end: a corpus of CLIPS clips of 3 s (320x240, 25 fps, h264) with their references, made
 *    here with ffmpeg, scored with vidpool.psnr_255 + vidpool.ssim_luma:
 *    - the sequential loop (decode a pair, then score it on the main thread), which also measures
 *      decode CPU (this process + ffmpeg children) and metric CPU, each alone;
 *    - the Evaluator with workers 1 and 2.
 *    The CPU-bound ideal is (decode CPU + metric CPU) / 2 cores.
 *    Every measurement is taken BENCH_ROUNDS times (default 2) and the best is kept.
 * 2. Kernels: SSIM, PSNR, frame differences and sharpness in megapixels per second on one thread,
 *    each against its JavaScript kernel and against simple baselines run in the same process (a
 *    direct 11x11-window SSIM, scikit-image's SSIM, and one read pass over the same bytes).
 *    The end-to-end baseline of the kernels runs the Evaluator with VIDPOOL_KERNELS=js.
 */
import { Context, Effect, Layer } from "effect"
import { Ffmpeg, FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import { TensorBuffers, Video, VideoDecoder, VideoPool, VideoTensor } from "@vidpool/pool"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { BuiltinMetrics, type EvalResults, Evaluator, Frames, MetricRegistry, Psnr, Sharpness, Ssim, Temporal } from "../src/index.ts"

const CLIPS = Number(process.env.BENCH_CLIPS ?? 48)
/** Each measurement is repeated this many times and the best kept, against other load on the machine. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const WIDTH = 320
const HEIGHT = 240
const FRAMES = 75 // 3 s at 25 fps
const CORES = 2

const ms = (n: number) => `${(n / 1000).toFixed(2)} s`
const ratio = (n: number) => `${n.toFixed(2)}x`

/** CPU time of this process and of its reaped children (ffmpeg), in milliseconds. */
const cpuNow = (): { readonly self: number; readonly children: number } => {
  const usage = process.cpuUsage()
  const stat = readFileSync("/proc/self/stat", "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const ticks = 100 // USER_HZ on Linux
  return {
    self: (usage.user + usage.system) / 1000,
    children: ((Number(fields[13]) + Number(fields[14])) * 1000) / ticks
  }
}
const cpuSince = (start: { readonly self: number; readonly children: number }) => {
  const now = cpuNow()
  return now.self - start.self + now.children - start.children
}

const makeCorpus = (ffmpegPath: string, dir: string) =>
  Effect.promise(async () => {
    const pairs: Array<{ readonly video: string; readonly reference: string }> = []
    const make = async (i: number) => {
      const reference = join(dir, `ref-${i}.mp4`)
      const video = join(dir, `gen-${i}.mp4`)
      await FfmpegFixtures.makeClip(ffmpegPath, reference, {
        source: i % 2 === 0 ? "testsrc2" : "mandelbrot",
        width: WIDTH,
        height: HEIGHT,
        frames: FRAMES,
        // vary the content: each clip starts at another point of the pattern
        extraFilters: [`hue=h=${(i * 37) % 360}`]
      })
      const kind = i % 3
      await FfmpegFixtures.degrade(
        ffmpegPath,
        reference,
        video,
        kind === 0 ? { noise: 10 + (i % 20) } : kind === 1 ? { blur: 1 + (i % 3) } : { crf: 35 + (i % 10) }
      )
      pairs[i] = { video, reference }
    }
    for (let i = 0; i < CLIPS; i += CORES) {
      await Promise.all(Array.from({ length: Math.min(CORES, CLIPS - i) }, (_, k) => make(i + k)))
    }
    return pairs
  })

/** Decode a pair, then score it on this thread; decode and scoring timed apart. */
const sequential = (pairs: ReadonlyArray<{ readonly video: string; readonly reference: string }>) =>
  Effect.gen(function*() {
    const decoder = yield* VideoDecoder
    let decodeCpu = 0
    let decodeWall = 0
    let metricCpu = 0
    let checksum = 0
    const started = performance.now()
    for (const pair of pairs) {
      const t0 = performance.now()
      const c0 = cpuNow()
      const video = yield* decoder.decode(Video.file(pair.video))
      const reference = yield* decoder.decode(Video.file(pair.reference))
      decodeCpu += cpuSince(c0)
      decodeWall += performance.now() - t0
      const c1 = cpuNow()
      checksum += BuiltinMetrics.psnr255.compute({ video, reference }).score!
      checksum += BuiltinMetrics.ssimLuma.compute({ video, reference }).score!
      metricCpu += cpuSince(c1)
    }
    return { wall: performance.now() - started, decodeCpu, decodeWall, metricCpu, checksum }
  })

/**
 * scikit-image's SSIM on the same luma frames (float32), in Debian's Python (python3-skimage,
 * installed when missing): its rate per CPU second and the largest per-frame difference from
 * vidpool's scores; or why it could not run.
 */
const skimage = (a: VideoTensor, b: VideoTensor, frames: number) => {
  const python = "/usr/bin/python3"
  const has = () => {
    try {
      execFileSync(python, ["-c", "import skimage.metrics"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  }
  if (!has()) {
    try {
      console.log("installing Debian's python3-skimage for the SSIM baseline")
      execFileSync("apt-get", ["install", "-y", "-qq", "python3-skimage"], { stdio: "ignore" })
    } catch (error) {
      return { missing: `apt-get install python3-skimage failed (${(error as Error).message})` } as const
    }
    if (!has()) return { missing: "python3-skimage is installed but `import skimage.metrics` fails" } as const
  }
  const dir = mkdtempSync(join(tmpdir(), "vidpool-ssim-"))
  try {
    const lumaOf = (t: VideoTensor) => {
      const out = new Float32Array(frames * HEIGHT * WIDTH)
      const plane = new Float64Array(HEIGHT * WIDTH)
      for (let f = 0; f < frames; f++) {
        Frames.lumaFrame(t, f, plane)
        out.set(plane, f * HEIGHT * WIDTH)
      }
      return out
    }
    const la = lumaOf(a)
    const lb = lumaOf(b)
    writeFileSync(join(dir, "a.f32"), la)
    writeFileSync(join(dir, "b.f32"), lb)
    const stdout = execFileSync(python, [
      join(import.meta.dirname, "skimage_ssim.py"), join(dir, "a.f32"), join(dir, "b.f32"), String(WIDTH), String(HEIGHT), String(frames)
    ], { encoding: "utf8" })
    const result = JSON.parse(stdout.trim().split("\n").pop()!) as { mpx_per_s: number; scores: Array<number> }
    const ours = Ssim.ssimFrames(a, b)
    let diff = 0
    for (let f = 0; f < frames; f++) diff = Math.max(diff, Math.abs(ours[f] - result.scores[f]))
    return { rate: result.mpx_per_s, diff } as const
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const kernels = () => {
  const frames = 20
  const shape = [frames, HEIGHT, WIDTH, 3] as const
  const make = (seed: number) => {
    const data = new Uint8Array(frames * HEIGHT * WIDTH * 3)
    let s = seed
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      data[i] = s >>> 24
    }
    return VideoTensor.makeUnsafe({ data, shape, layout: "THWC", dtype: "uint8", fps: 25, source: { path: "bench" } })
  }
  const a = make(1)
  const b = make(2)
  const megapixels = (frames * HEIGHT * WIDTH) / 1e6
  // Rates per second of CPU time of this process (one busy thread), so that other load on the
  // machine does not distort them.
  const cpuSeconds = (f: () => void) => {
    const c0 = process.cpuUsage()
    f()
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / 1e6
  }
  const rate = (f: () => void, rounds: number) => {
    f() // warm up
    return (megapixels * rounds) / cpuSeconds(() => {
      for (let r = 0; r < rounds; r++) f()
    })
  }
  let sink = 0
  const ssim = rate(() => (sink += Ssim.ssimFrames(a, b)[0]), 5)
  // The JavaScript kernel (the one before the WebAssembly kernel): the baseline of the SSIM speed-up.
  const ssimJs = rate(() => (sink += Ssim.ssimFramesJs(a, b)[0]), 5)
  const psnr = rate(() => (sink += Psnr.psnrFrames(a, b)[0]), 20)
  const psnrJs = rate(() => (sink += Psnr.mseFramesJs(a, b)[0]), 20)
  const temporal = rate(() => (sink += Temporal.frameDifferences(a)[0]), 20)
  const temporalJs = rate(() => (sink += Temporal.frameDifferencesJs(a)[0]), 20)
  const sharpness = rate(() => (sink += Sharpness.sharpnessFrames(a)[0]), 10)
  const sharpnessJs = rate(() => (sink += Sharpness.sharpnessFramesJs(a)[0]), 10)
  // Baselines: SSIM with the 11x11 window applied directly (no separable passes), one frame;
  // and one plain read pass over both tensors (what PSNR cannot beat).
  const direct = (() => {
    const w = new Float64Array(121)
    let sum = 0
    for (let i = 0; i < 11; i++) {
      for (let j = 0; j < 11; j++) sum += w[i * 11 + j] = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / 4.5)
    }
    for (let k = 0; k < 121; k++) w[k] /= sum
    const x = new Float64Array(WIDTH * HEIGHT)
    const y = new Float64Array(WIDTH * HEIGHT)
    const c1 = 6.5025
    const c2 = 58.5225
    let total = 0
    const seconds = cpuSeconds(() => {
      for (let f = 0; f < 2; f++) {
        for (let p = 0; p < WIDTH * HEIGHT; p++) {
          const i = f * WIDTH * HEIGHT * 3 + p * 3
          x[p] = 0.299 * a.data[i] + 0.587 * a.data[i + 1] + 0.114 * a.data[i + 2]
          y[p] = 0.299 * b.data[i] + 0.587 * b.data[i + 1] + 0.114 * b.data[i + 2]
        }
        for (let r = 0; r + 11 <= HEIGHT; r++) {
          for (let c = 0; c + 11 <= WIDTH; c++) {
            let mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0
            for (let i = 0; i < 11; i++) {
              for (let j = 0; j < 11; j++) {
                const g = w[i * 11 + j]
                const u = x[(r + i) * WIDTH + c + j]
                const v = y[(r + i) * WIDTH + c + j]
                mx += g * u
                my += g * v
                sxx += g * u * u
                syy += g * v * v
                sxy += g * u * v
              }
            }
            total += ((2 * mx * my + c1) * (2 * (sxy - mx * my) + c2)) /
              ((mx * mx + my * my + c1) * (sxx - mx * mx + syy - my * my + c2))
          }
        }
      }
    })
    sink += total
    return (2 * WIDTH * HEIGHT) / 1e6 / seconds
  })()
  const read = rate(() => {
    let s = 0
    for (let i = 0; i < a.data.length; i++) s += a.data[i] + b.data[i]
    sink += s
  }, 20)
  // One read pass over one tensor: what the one-video kernels (temporal, sharpness) are held to.
  const readOne = rate(() => {
    let s = 0
    for (let i = 0; i < a.data.length; i++) s += a.data[i]
    sink += s
  }, 20)
  return {
    ssim, ssimJs, psnr, psnrJs, temporal, temporalJs, sharpness, sharpnessJs, direct, read, readOne, sink,
    skimage: skimage(a, b, frames)
  }
}

const program = Effect.gen(function*() {
  const ffmpeg = yield* Ffmpeg
  console.log(`@vidpool/eval benchmark: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model}), ffmpeg ${ffmpeg.version}`)
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (other processes on the machine distort wall times)`)
  const dir = mkdtempSync(join(tmpdir(), "vidpool-eval-bench-"))
  try {
    const t0 = performance.now()
    const pairs = yield* makeCorpus(ffmpeg.path, dir)
    console.log(`corpus: ${CLIPS} clips + ${CLIPS} references, ${FRAMES} frames of ${WIDTH}x${HEIGHT} h264, made in ${ms(performance.now() - t0)}`)

    let seq = yield* sequential(pairs)
    for (let round = 1; round < ROUNDS; round++) {
      const again = yield* sequential(pairs)
      seq = {
        wall: Math.min(seq.wall, again.wall),
        decodeCpu: Math.min(seq.decodeCpu, again.decodeCpu),
        decodeWall: Math.min(seq.decodeWall, again.decodeWall),
        metricCpu: Math.min(seq.metricCpu, again.metricCpu),
        checksum: again.checksum
      }
    }
    const ideal = (seq.decodeCpu + seq.metricCpu) / CORES
    console.log(`\nsequential decode-then-score loop (baseline), best of ${ROUNDS}: ${ms(seq.wall)}`)
    console.log(`  decode alone: ${ms(seq.decodeWall)} wall, ${ms(seq.decodeCpu)} CPU (ffmpeg + this process)`)
    console.log(`  metrics alone (psnr + ssim, one thread): ${ms(seq.metricCpu)} CPU`)
    console.log(`  CPU-bound ideal on ${CORES} cores: (${ms(seq.decodeCpu)} + ${ms(seq.metricCpu)}) / ${CORES} = ${ms(ideal)}`)

    const samples = pairs.map((p) => ({ video: Video.file(p.video), reference: Video.file(p.reference) }))
    const evaluator = yield* Evaluator
    // Start the worker threads before timing (they are kept by the layer between calls).
    yield* evaluator.evaluate(samples.slice(0, 2), { metrics: ["vidpool.psnr_255"], workers: 2 })
    const rows: Array<string> = []
    let wallOf2 = 0
    for (const workers of [1, 2]) {
      let best: { wall: number; cpu: number; results: EvalResults } | undefined
      for (let round = 0; round < ROUNDS; round++) {
        const started = performance.now()
        const cpu0 = cpuNow()
        const results = yield* evaluator.evaluate(samples, {
          metrics: ["vidpool.psnr_255", "vidpool.ssim_luma"],
          workers,
          loaderThreads: workers
        })
        const wall = performance.now() - started
        const cpu = cpuSince(cpu0) // every thread of this process, and ffmpeg
        if (best === undefined || wall < best.wall) best = { wall, cpu, results }
      }
      const { cpu, results, wall } = best!
      if (workers === 2) wallOf2 = wall
      const t = results.timing
      const check = results.samples.reduce((a, s) => a + s.metrics["vidpool.psnr_255"].score! + s.metrics["vidpool.ssim_luma"].score!, 0)
      if (Math.abs(check - seq.checksum) > 1e-6 * Math.abs(seq.checksum)) {
        throw new Error(`scores differ from the sequential loop: ${check} vs ${seq.checksum}`)
      }
      rows.push(
        `Evaluator workers=${workers}, best of ${ROUNDS}: ${ms(wall)} = ${ratio(wall / ideal)} the ideal, ` +
          `${ratio(seq.wall / wall)} faster than sequential ` +
          `(decode ${ms(t.decodeMs)}, compute ${ms(t.computeMs)}, consumers waited ${ms(t.waitMs)})\n` +
          `  CPU used: ${ms(cpu)} = ${ratio(cpu / (seq.decodeCpu + seq.metricCpu))} the decode + metric CPU; ` +
          `cores kept busy: ${(cpu / wall).toFixed(2)} of ${CORES}`
      )
    }
    /** Best wall time of the workers=2 evaluation on a fresh build of `live` (its own metric workers). */
    const bestWallOn = (live: typeof EvaluatorLive | typeof EvaluatorNoRecycling) =>
      Effect.scoped(Effect.gen(function*() {
        const fresh = Context.get(yield* Layer.build(Layer.fresh(live)), Evaluator)
        yield* fresh.evaluate(samples.slice(0, 2), { metrics: ["vidpool.psnr_255"], workers: 2 })
        let best = Infinity
        for (let round = 0; round < ROUNDS; round++) {
          const started = performance.now()
          yield* fresh.evaluate(samples, { metrics: ["vidpool.psnr_255", "vidpool.ssim_luma"], workers: 2, loaderThreads: 2 })
          best = Math.min(best, performance.now() - started)
        }
        return best
      }))
    // The same evaluation with the JavaScript kernels in fresh metric workers (VIDPOOL_KERNELS=js,
    // read by each worker as it loads): the end-to-end baseline.
    const jsWall = yield* Effect.scoped(Effect.gen(function*() {
      process.env.VIDPOOL_KERNELS = "js"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.VIDPOOL_KERNELS))
      return yield* bestWallOn(EvaluatorLive)
    }))
    // The same with the decoded memory given back to a free list the decoder does not take from:
    // each decode allocates afresh.
    const freshWall = yield* bestWallOn(EvaluatorNoRecycling)
    console.log("")
    for (const row of rows) console.log(row)
    console.log("targets: within 1.2x of the ideal; at least 1.6x faster than sequential")
    const wasmWall = wallOf2
    console.log(
      `Evaluator workers=2 with the JavaScript kernels (VIDPOOL_KERNELS=js), best of ${ROUNDS}: ${ms(jsWall)}; ` +
        `with the ${Ssim.kernel} kernels ${ms(wasmWall)}: ${ratio(jsWall / wasmWall)} faster (target >= 2x: ${jsWall / wasmWall >= 2 ? "met" : "MISSED"})`
    )
    console.log(
      `Evaluator workers=2 without recycling (leases give back to a free list that keeps nothing), best of ${ROUNDS}: ${ms(freshWall)}; ` +
        `with it ${ms(wasmWall)}: ${ratio(freshWall / wasmWall)} the throughput of the run without`
    )
    console.log(`load average after the end-to-end runs: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)

    const k = kernels()
    console.log(`\nkernels, one thread, ${WIDTH}x${HEIGHT} rgb24 frames:`)
    console.log(`  SSIM (luma, separable 11x11 Gaussian): ${k.ssim.toFixed(1)} Mpx/s = ${ratio(k.ssim / k.direct)} a direct-window SSIM (${k.direct.toFixed(2)} Mpx/s)`)
    const speedup = k.ssim / k.ssimJs
    console.log(
      `  SSIM (${Ssim.kernel} kernel) / the JavaScript kernel (${k.ssimJs.toFixed(1)} Mpx/s): ${speedup.toFixed(2)}x ` +
        `(target >= 4x: ${speedup >= 4 ? "met" : "MISSED"}; ${speedup >= 8 ? "8x reached" : `${(8 / speedup).toFixed(2)}x short of 8x`})`
    )
    if ("missing" in k.skimage) {
      console.log(`  scikit-image SSIM: not measured: ${k.skimage.missing}`)
    } else {
      console.log(
        `  SSIM (${Ssim.kernel} kernel) / scikit-image's structural_similarity (gaussian, sigma 1.5, float32, ${k.skimage.rate.toFixed(1)} Mpx/s): ` +
          `${(k.ssim / k.skimage.rate).toFixed(2)}x; largest per-frame score difference ${k.skimage.diff.toExponential(2)}`
      )
    }
    const met = (ok: boolean) => (ok ? "met" : "MISSED")
    console.log(
      `  PSNR (all channels): ${k.psnr.toFixed(1)} Mpx/s = ${ratio(k.psnr / k.read)} the speed of one plain read pass over both ` +
        `(${k.read.toFixed(1)} Mpx/s; target >= 1x: ${met(k.psnr >= k.read)}); JavaScript kernel ${k.psnrJs.toFixed(1)} Mpx/s`
    )
    console.log(
      `  frame differences (temporal metrics): ${k.temporal.toFixed(1)} Mpx/s: takes ${ratio(k.readOne / k.temporal)} the time of one plain ` +
        `read pass over the video (${k.readOne.toFixed(1)} Mpx/s; target <= 1.5x: ${met(k.readOne / k.temporal <= 1.5)}); ` +
        `JavaScript kernel ${k.temporalJs.toFixed(1)} Mpx/s`
    )
    console.log(
      `  sharpness (luma + Laplacian variance): ${k.sharpness.toFixed(1)} Mpx/s: takes ${ratio(k.readOne / k.sharpness)} the time of that read ` +
        `pass (target <= 3x: ${met(k.readOne / k.sharpness <= 3)}); JavaScript kernel ${k.sharpnessJs.toFixed(1)} Mpx/s`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** The Evaluator over FfmpegDecoder: each sample's lease gives its memory back to the decoder's free list. */
const EvaluatorLive = Evaluator.layer.pipe(
  Layer.provide(MetricRegistry.layer),
  Layer.provide(VideoPool.layer),
  Layer.provide(FfmpegDecoder.layer)
)

/**
 * The same with the leases giving memory back to a free list that keeps nothing (not the one the
 * decoder takes from): every decode gets a fresh array (no recycling inside evaluate).
 */
const EvaluatorNoRecycling = Evaluator.layer.pipe(
  Layer.provide(MetricRegistry.layer),
  Layer.provide(VideoPool.layer),
  Layer.provide(Layer.effect(
    VideoDecoder,
    Effect.map(Effect.service(VideoDecoder), (decoder) => VideoDecoder.of({ decode: decoder.decode, buffers: TensorBuffers.makeUnsafe(0) }))
  )),
  Layer.provide(FfmpegDecoder.layer)
)

Effect.runPromise(
  program.pipe(Effect.provide(Layer.mergeAll(EvaluatorLive, FfmpegDecoder.layer, Ffmpeg.layer)))
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
