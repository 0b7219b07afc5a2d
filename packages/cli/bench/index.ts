/**
 * @vidpool/cli benchmark (`pnpm bench` in packages/cli): what starting the compiled command and
 * its worker threads costs, and what the command costs over the library. Everything measured runs
 * in child processes under plain `node`, as a user runs it (this orchestrator only spawns them):
 *   - start-up: `vidpool --version` against `node -e 0`, both spawned by a small plain-node parent
 *     (bench/startup.mjs; target: at most 5x);
 *   - a metric worker thread's start against a bare `worker_threads` Worker running an empty
 *     module (bench/workerStart.mjs; target: at most 4x);
 *   - `vidpool eval` of one 1 s clip (320x240, 25 fps, against its reference, PSNR + SSIM), the
 *     whole process, against the same evaluation in an already running process
 *     (bench/inProcess.mjs: with the layer built for the call, and with a layer built once);
 *   - the same on a corpus of CLIPS clip pairs (160x120, 50 frames), 2 workers and 2 loaders.
 * Rounds alternate the two sides of each ratio; medians are compared.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const CLIPS = Number(process.env.BENCH_CLIPS ?? 16)
const here = import.meta.dirname
const bin = resolve(here, "..", "bin", "vidpool.js")
const run = promisify(execFile)
const node = (args: ReadonlyArray<string>) => run(process.execPath, args, { cwd: here, maxBuffer: 1 << 24 })
const ffmpeg: string = (createRequire(resolve(here, "..", "..", "ffmpeg", "package.json"))("@ffmpeg-installer/ffmpeg") as { path: string }).path

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const ms = (x: number) => `${x.toFixed(1)} ms`
const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await f()
  return performance.now() - start
}
const clip = async (file: string, size: string, frames: number, fps: number, source: string, filter: string) => {
  await run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `${source}=s=${size}:r=${fps}`,
    "-vf", filter, "-frames:v", String(frames), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", file])
  return file
}

const inProcess = async (dir: string, plan: object) => {
  const file = join(dir, `plan-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(plan))
  const { stdout } = await node([join(here, "inProcess.mjs"), file])
  return JSON.parse(stdout) as { cold: number; warm: Array<number> }
}

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "vidpool-cli-bench-"))
  try {
    const lines: Array<string> = []
    const say = (line: string) => {
      lines.push(line)
      console.log(line)
    }
    say(`@vidpool/cli bench: medians of ${ROUNDS} alternating rounds, plain node ${process.version}`)

    // Start-up.
    const starts = JSON.parse((await node([join(here, "startup.mjs"), String(ROUNDS)])).stdout) as { node: Array<number>; vidpool: Array<number> }
    const [bare, version] = [median(starts.node), median(starts.vidpool)]
    say(`start-up: vidpool --version ${ms(version)}, node -e 0 ${ms(bare)}: ${(version / bare).toFixed(2)}x (target <= 5x)`)

    // Worker threads.
    const { stdout } = await node([join(here, "workerStart.mjs"), String(ROUNDS)])
    const workers = JSON.parse(stdout) as { bare: Array<number>; metric: Array<number> }
    const [wb, wm] = [median(workers.bare), median(workers.metric)]
    say(`worker start: metric worker ${ms(wm)}, bare Worker with an empty module ${ms(wb)}: ${(wm / wb).toFixed(2)}x (target <= 4x)`)

    // One 1 s clip.
    const ref = await clip(join(dir, "ref.mp4"), "320x240", 25, 25, "testsrc2", "null")
    const gen = await clip(join(dir, "gen.mp4"), "320x240", 25, 25, "testsrc2", "noise=alls=20:allf=t")
    const metrics = ["vidpool.psnr_255", "vidpool.ssim_luma"]
    const one = { samples: [{ video: gen, reference: ref }], metrics, workers: 1, loaders: 1, rounds: ROUNDS }
    const manifest = join(dir, "one.jsonl")
    writeFileSync(manifest, JSON.stringify({ video: gen, reference: ref }) + "\n")
    const command = (args: ReadonlyArray<string>) => () => node([bin, "eval", ...args, "--metrics", "psnr,ssim", "--out", join(dir, "out.json"), "-q"])
    const spawned: Array<number> = []
    for (let i = 0; i < Math.max(3, Math.ceil(ROUNDS / 3)); i++) spawned.push(await timed(command([manifest, "--workers", "1", "--loaders", "1"])))
    const library = await inProcess(dir, one)
    const whole = median(spawned)
    const warm = median(library.warm)
    say(`one 1 s clip (320x240x25, PSNR + SSIM): vidpool eval, whole process ${ms(whole)}; in a running process ${ms(warm)} ` +
      `with its layer built once, ${ms(library.cold)} building it for the call: ${(whole / warm).toFixed(2)}x and ${(whole / library.cold).toFixed(2)}x`)

    // A corpus.
    const refs = join(dir, "refs")
    const gens = join(dir, "gens")
    mkdirSync(refs)
    mkdirSync(gens)
    const names = Array.from({ length: CLIPS }, (_, i) => `clip-${String(i).padStart(2, "0")}.mp4`)
    await Promise.all(names.map(async (name, i) => {
      const source = i % 2 === 0 ? "testsrc2" : "mandelbrot"
      await clip(join(refs, name), "160x120", 50, 25, source, `hue=h=${(i * 37) % 360}`)
      await clip(join(gens, name), "160x120", 50, 25, source, `hue=h=${(i * 37) % 360},noise=alls=20:allf=t`)
    }))
    const corpus = { samples: names.map((n) => ({ video: join(gens, n), reference: join(refs, n) })), metrics, workers: 2, loaders: 2, rounds: 3 }
    const corpusSpawned: Array<number> = []
    for (let i = 0; i < 3; i++) corpusSpawned.push(await timed(command([gens, "--reference", refs, "--workers", "2", "--loaders", "2"])))
    const corpusLibrary = await inProcess(dir, corpus)
    const cs = median(corpusSpawned)
    const cw = median(corpusLibrary.warm)
    say(`${CLIPS} clip pairs (160x120x50, PSNR + SSIM, 2 workers, 2 loaders): vidpool eval ${ms(cs)}; in a running process ${ms(cw)} ` +
      `with its layer built once, ${ms(corpusLibrary.cold)} building it for the call: ${(cs / cw).toFixed(2)}x and ${(cs / corpusLibrary.cold).toFixed(2)}x`)
    say(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
