// Test kit: makes clips with the ffmpeg binary that ships with the install, runs the `vidpool`
// command as a user does (a separate Node process through bin/vidpool.js), and reads /proc to see
// which processes a run left behind.
import { type ChildProcess, execFile, spawn } from "node:child_process"
import type { EventEmitter } from "node:events"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Database } from "@vidpool/cluster"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

const here = path.dirname(fileURLToPath(import.meta.url))
export const packageDir = path.resolve(here, "..")
export const binPath = path.join(packageDir, "bin", "vidpool.js")

// The ffmpeg package depends on @ffmpeg-installer/ffmpeg; resolve it from there.
const requireFromFfmpeg = createRequire(path.resolve(packageDir, "..", "ffmpeg", "package.json"))
export const ffmpegPath: string = (requireFromFfmpeg("@ffmpeg-installer/ffmpeg") as { path: string }).path

const run = promisify(execFile)

export interface ClipOptions {
  readonly source?: "testsrc2" | "mandelbrot" | "noise"
  readonly width?: number
  readonly height?: number
  readonly frames?: number
  readonly fps?: number
  /** An ffmpeg filter chain applied to the source (a degradation). */
  readonly filter?: string
  /** x264 constant rate factor; 45+ is heavy compression. */
  readonly crf?: number
}

/** Encodes a short H.264 clip from one of ffmpeg's built-in sources. */
export const makeClip = async (file: string, options: ClipOptions = {}): Promise<string> => {
  const { crf = 18, fps = 10, frames = 8, height = 48, source = "testsrc2", width = 64 } = options
  const input = source === "noise"
    ? `color=c=gray:s=${width}x${height}:r=${fps},noise=alls=80:allf=t`
    : `${source}=s=${width}x${height}:r=${fps}`
  await run(ffmpegPath, [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", input,
    ...(options.filter !== undefined ? ["-vf", options.filter] : []),
    "-frames:v", String(frames),
    "-c:v", "libx264", "-preset", "ultrafast", "-crf", String(crf), "-pix_fmt", "yuv420p",
    file
  ])
  return file
}

/** A fresh temporary folder. */
export const tempDir = (prefix = "vidpool-cli-test-"): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: Record<string, string>
  /** Run as this user and group (for permission checks, which root would pass). */
  readonly uid?: number
}

/** Runs `vidpool ...args` to completion. Progress is forced to plain lines unless `env` says otherwise. */
export const vidpool = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawnVidpool(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => { stdout += d })
    child.stderr.on("data", (d) => { stderr += d })
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

/** Starts `vidpool ...args` and returns the child process. */
export const spawnVidpool = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  spawn(process.execPath, [binPath, ...args], {
    cwd: options.cwd ?? packageDir,
    env: { ...process.env, VIDPOOL_PROGRESS: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {})
  })

/** The process ids whose parent is `pid`, read from /proc. */
const childrenOf = (pid: number): Array<number> => {
  const out: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

/** Every live descendant of `pid`, with its command name. */
export const descendants = (pid: number): Array<{ pid: number; comm: string }> => {
  const out: Array<{ pid: number; comm: string }> = []
  const stack = [pid]
  while (stack.length > 0) {
    for (const child of childrenOf(stack.pop()!)) {
      try {
        out.push({ pid: child, comm: fs.readFileSync(`/proc/${child}/comm`, "utf8").trim() })
      } catch {
        continue
      }
      stack.push(child)
    }
  }
  return out
}

/** Whether a process is still running (present in /proc and not a zombie). */
export const isRunning = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}

/** Asserts-friendly view of stderr: its non-empty lines. */
export const lines = (text: string): Array<string> => text.split("\n").filter((l) => l.trim().length > 0)

/** True when text looks like a stack trace. */
export const hasStackTrace = (text: string): boolean => /^\s+at\s/m.test(text) || /\.ts:\d+:\d+/.test(text)

/**
 * A small corpus: `refs/a.mp4` (testsrc2) and `refs/b.mp4` (mandelbrot), their damaged copies
 * `gen/a.mp4` (noise) and `gen/b.mp4` (blur), and `bad/broken.mp4` (not a video).
 */
export const makeCorpus = async (dir: string) => {
  const refs = path.join(dir, "refs")
  const gen = path.join(dir, "gen")
  const bad = path.join(dir, "bad")
  for (const folder of [refs, gen, bad]) fs.mkdirSync(folder, { recursive: true })
  await Promise.all([
    makeClip(path.join(refs, "a.mp4"), { source: "testsrc2" }),
    makeClip(path.join(refs, "b.mp4"), { source: "mandelbrot" }),
    makeClip(path.join(gen, "a.mp4"), { source: "testsrc2", filter: "noise=alls=40:allf=t", crf: 30 }),
    makeClip(path.join(gen, "b.mp4"), { source: "mandelbrot", filter: "gblur=sigma=3", crf: 30 })
  ])
  fs.writeFileSync(path.join(bad, "broken.mp4"), "this is not a video\n".repeat(50))
  return { dir, refs, gen, bad, broken: path.join(bad, "broken.mp4") }
}

/** Removes a temporary folder made by a test. */
export const removeDir = (dir: string | undefined): void => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
}

/** Drops the tables of the cluster `name` (effect/cluster's, prefixed `vidpool_<name>_`) from the database at `url`. */
export const dropClusterTables = (url: string, name: string): Promise<void> =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ tablename: string }>`
      SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, ${`vidpool_${name}_`})`
    for (const { tablename } of tables) yield* sql.unsafe(`DROP TABLE IF EXISTS "${tablename}" CASCADE`)
  }).pipe(Effect.provide(Database.layer(url))))

/** The exit code of `child` once it has exited (at once if it already has). */
export const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once("exit", (code) => resolve(code))
  })

/**
 * Resolves once `done()` holds, looked at now and each time `source` emits "data" (a runner's
 * stderr, a log that grew); fails with `what()` after `timeoutMs`, a deadline, not a latch.
 */
export const untilData = (source: EventEmitter, done: () => boolean, timeoutMs: number, what: () => string): Promise<void> =>
  new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      source.off("data", check)
      clearTimeout(timer)
      if (error === undefined) resolve()
      else reject(error)
    }
    const check = () => {
      if (done()) finish()
    }
    const timer = setTimeout(() => finish(new Error(what())), timeoutMs)
    source.on("data", check)
    check()
  })
