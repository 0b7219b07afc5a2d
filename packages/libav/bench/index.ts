/**
 * @vidpool/libav benchmark (`pnpm bench` in packages/libav): the in-process decoder against the
 * seed's Python design and the ffmpeg command, every baseline measured in this run. The corpus:
 * 48 clips, 320x240, 25 fps, 75 frames, H.264 crf 23 (testsrc2, mandelbrot and noise sources), the
 * ffmpeg package's benchmark corpus. Each configuration runs in its own process (its peak RSS is
 * its own), ROUNDS rounds alternating the configurations; medians are compared.
 *   - python: ../ffmpeg/bench/seed_pool.py, the seed's VideoPool design (loader threads, a bounded
 *     queue.Queue, (index, array) items, the consumer loop) with PyAV decoding to rgb24 numpy,
 *     2 loaders, max_size 4 (Debian's python3-av and python3-numpy: installed here when missing);
 *   - ffmpeg CLI: the same static ffmpeg the command-line decoder uses, rgb24 to /dev/null, 2 at a
 *     time;
 *   - vidpool: VideoPool (maxSize 4) over LibavDecoder with 2 loaders (the consumer recycles each
 *     tensor, and, apart, only reads it) and with 1 loader on 1 FFmpeg thread (the pool's scaling,
 *     not FFmpeg's), and over FfmpegDecoder with 2 (bench/run.mjs under plain node);
 *   - with a metric on the consumer: the Python design computing VBench temporal flickering in
 *     numpy, against the Evaluator with vbench.temporal_flickering and 1 worker;
 *   - how long an interrupted decode takes to stop, and main-thread CPU per clip.
 */
import { execFile, execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { loadavg } from "node:os"
import * as NodePath from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"
import { Ffmpeg } from "@vidpool/ffmpeg"
import { corpusDir, makeCorpus } from "../../ffmpeg/bench/corpus.ts"
import { ensurePython, seedPool } from "../../ffmpeg/bench/python.ts"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const here = import.meta.dirname
const run = promisify(execFile)

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const f2 = (x: number) => x.toFixed(2)

interface Outcome {
  readonly clips_per_s: number
  readonly max_rss_mb: number
  readonly main_cpu_ms_per_clip?: number
  readonly scores?: ReadonlyArray<number>
}

const json = async (command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Outcome> => {
  const { stdout } = await run(command, args, { cwd: here, maxBuffer: 1 << 26, env: { ...process.env, ...env } })
  return JSON.parse(stdout.trim().split("\n").pop()!) as Outcome
}

/** The ffmpeg command decoding every clip to /dev/null, `parallel` at a time: clips/s. */
const ffmpegCli = async (ffmpeg: string, clips: ReadonlyArray<string>, parallel: number) => {
  const start = performance.now()
  let next = 0
  const lane = async () => {
    while (next < clips.length) {
      const clip = clips[next++]
      await new Promise<void>((resolve, reject) => {
        const child = spawn(ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", "/dev/null"], { stdio: "ignore" })
        child.on("error", reject)
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))))
      })
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return clips.length / ((performance.now() - start) / 1000)
}

const main = Effect.gen(function*() {
  const ffmpeg = yield* Ffmpeg
  const clips = yield* Effect.promise(() => makeCorpus(ffmpeg.path))
  const longClip = NodePath.join(corpusDir, "long-60s.mp4")
  if (!existsSync(longClip)) {
    execFileSync(ffmpeg.path, ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25",
      "-frames:v", "1500", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", longClip])
  }
  const noPython = ensurePython()
  const node = (mode: string, loaders: number, env: Record<string, string> = {}) => () =>
    json(process.execPath, [NodePath.join(here, "run.mjs"), mode, String(loaders), ...clips], env)
  const py = (metric: "none" | "flicker") => () => seedPool(2, 4, metric, clips)
  const systems: Record<string, () => Promise<Outcome>> = {
    ...(noPython === undefined ? { python: py("none"), pythonFlicker: py("flicker") } : {}),
    cli: async () => ({ clips_per_s: await ffmpegCli(ffmpeg.path, clips, 2), max_rss_mb: 0 }),
    libav2: node("libav-recycle", 2),
    libav2reads: node("libav", 2),
    libav1: node("libav-recycle", 1, { BENCH_FFMPEG_THREADS: "1" }),
    ffmpeg2: node("ffmpeg", 2),
    libavFlicker: node("libav-flicker", 2)
  }
  const results: Record<string, Array<Outcome>> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, system] of Object.entries(systems)) {
      const outcome = yield* Effect.promise(system)
      ;(results[name] ??= []).push(outcome)
    }
  }
  const rate = (name: string) => median(results[name].map((r) => r.clips_per_s))
  const rss = (name: string) => median(results[name].map((r) => r.max_rss_mb))
  const stops = (yield* Effect.promise(() => run(process.execPath, [NodePath.join(here, "run.mjs"), "interrupt", "1", ...Array(10).fill(longClip)], { cwd: here })))
  const stopMs = (JSON.parse(stops.stdout.trim()) as { stops_ms: Array<number> }).stops_ms

  const lines: Array<string> = []
  const say = (line: string) => {
    lines.push(line)
    console.log(line)
  }
  say(`@vidpool/libav bench: ${clips.length} clips 320x240x75 H.264, medians of ${ROUNDS} rounds, node ${process.version}`)
  say(`clips/s (peak RSS):`)
  if (noPython === undefined) say(`  the seed's design in Python (PyAV, 2 loaders, max_size 4)   ${f2(rate("python"))}  (${rss("python").toFixed(0)} MB)`)
  else say(`  the seed's design in Python: not measured: ${noPython}`)
  say(`  the ffmpeg command, 2 at a time, rgb24 to /dev/null          ${f2(rate("cli"))}`)
  say(`  vidpool VideoPool + LibavDecoder, 2 loaders, maxSize 4       ${f2(rate("libav2"))}  (${rss("libav2").toFixed(0)} MB)`)
  say(`    the same, the consumer only reads (no recycle)             ${f2(rate("libav2reads"))}  (${rss("libav2reads").toFixed(0)} MB)`)
  say(`  vidpool VideoPool + LibavDecoder, 1 loader, 1 FFmpeg thread  ${f2(rate("libav1"))}`)
  say(`  vidpool VideoPool + FfmpegDecoder, 2 loaders, maxSize 4      ${f2(rate("ffmpeg2"))}  (${rss("ffmpeg2").toFixed(0)} MB)`)
  const mark = (ok: boolean) => (ok ? "met" : "MISSED")
  if (noPython === undefined) {
    const r = rate("libav2") / rate("python")
    say(`LibavDecoder 2 loaders / Python design: ${f2(r)}x (target >= 1.25x: ${mark(r >= 1.25)}; ${r >= 1.5 ? "at or above" : `${f2(1.5 - r)} short of`} 1.5x)`)
    say(`peak RSS, LibavDecoder / Python design: ${f2(rss("libav2") / rss("python"))} (target < 1: ${mark(rss("libav2") < rss("python"))})`)
  }
  const cliRatio = rate("libav2") / rate("cli")
  say(`LibavDecoder 2 loaders / the ffmpeg command 2 at a time: ${f2(cliRatio)}x (target >= 0.95x: ${mark(cliRatio >= 0.95)})`)
  const scale = rate("libav2") / rate("libav1")
  say(`LibavDecoder 2 loaders / 1 loader: ${f2(scale)}x (target >= 1.7x: ${mark(scale >= 1.7)})`)
  say(`FfmpegDecoder 2 loaders / the ffmpeg command: ${f2(rate("ffmpeg2") / rate("cli"))}x (its README: 0.72 by default)`)
  const mainCpu = median(results.libav2.map((r) => r.main_cpu_ms_per_clip ?? NaN))
  const readsCpu = median(results.libav2reads.map((r) => r.main_cpu_ms_per_clip ?? NaN))
  say(`main-thread CPU per clip, LibavDecoder: ${mainCpu.toFixed(2)} ms (target <= 1 ms: ${mark(mainCpu <= 1)}; /proc ticks of 10 ms over ${clips.length} clips); ${readsCpu.toFixed(2)} ms when the consumer does not recycle`)
  if (noPython === undefined) say(`LibavDecoder 2 loaders, consumer only reads / Python design: ${f2(rate("libav2reads") / rate("python"))}x`)
  say(`an interrupted decode stops within: median ${median(stopMs).toFixed(1)} ms, max ${Math.max(...stopMs).toFixed(1)} ms of ${stopMs.length} (target 100 ms: ${mark(Math.max(...stopMs) <= 100)})`)
  if (noPython === undefined) {
    const r = rate("libavFlicker") / rate("pythonFlicker")
    say(`with VBench temporal flickering on the consumer: Evaluator (1 worker) ${f2(rate("libavFlicker"))} clips/s, Python design (numpy) ${f2(rate("pythonFlicker"))}: ${f2(r)}x (target >= 1.25x, from the metric-kernels issue: ${mark(r >= 1.25)})`)
    const a = results.libavFlicker[0].scores ?? []
    const b = results.pythonFlicker[0].scores ?? []
    const diff = Math.max(...a.map((x, i) => Math.abs(x - b[i])))
    say(`  flickering scores, vidpool vs numpy: max difference ${diff.toExponential(2)} (two FFmpeg versions decode the H.264)`)
  }
  say(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
}).pipe(Effect.provide(Ffmpeg.layer))

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
