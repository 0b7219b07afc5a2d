/**
 * @vidpool/cluster benchmark (`pnpm bench` in packages/cluster): what sharding a `vidpool eval`
 * over a cluster costs, with the compiled command (packages/cli/dist/vidpool.mjs) in child
 * processes under plain `node`, as a user runs it; this orchestrator only spawns them and reads
 * the cluster's PostgreSQL storage.
 *
 * 1. Coordination overhead per sample, on a corpus of SAMPLES clip pairs (160x120, 24 frames,
 *    h264, made here with ffmpeg), metrics vidpool.psnr_255 + vidpool.ssim_luma + common.frechet_distance:
 *    the whole `vidpool eval` process on one machine against the whole `vidpool eval --cluster`
 *    process (the coordinator) with one runner (`vidpool runner`) started, and warmed up by a
 *    cluster run of its own, before the timings; for each batch size of BATCH_SIZES (default
 *    8 = no --batch-size, and 16). Rounds alternate the sides (their order rotated each round);
 *    medians are compared (target: the cluster at most 1.1x one machine). Every cluster run's
 *    sample lines are checked against the one-machine run of its round. The cluster runs are
 *    taken apart with storage's Snowflake ids (when each batch was stored, when its reply was)
 *    and the replies' timings (how long the runner evaluated each batch); `vidpool --version`,
 *    timed in the same rounds, is the process start alone. BENCH_CLI runs another build of the
 *    command (a copy with other settings, say) instead of packages/cli/dist/vidpool.mjs.
 * 2. Bytes per sample: on the wire (the `Wire` text of each request's samples and each reply's
 *    results + partials, read back from storage, and the whole encoded messages), in storage
 *    (the payload columns and whole rows PostgreSQL holds for one measured run), and the decoded
 *    tensors that never travel.
 *
 * Storage: the cluster BENCH_CLUSTER_NAME (default `bench`: tables `vidpool_bench_*`, shard locks
 * of its own, so tests of the same database do not interfere) of the database VIDPOOL_BENCH_DB,
 * else VIDPOOL_TEST_DB, else a throwaway PostgreSQL server of the bench's own (the tests' one,
 * test/database at the root; stopped at the end, or by its owner process if the bench dies
 * first). Another runner of that cluster would take shards of the bench's runs: the bench waits
 * up to BENCH_WAIT_S seconds for there to be none, and says which runner served every batch.
 * The bench's rows are deleted at the end (unless BENCH_KEEP_STORAGE is set); every child
 * process is ended, on failure too.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:net"
import { cpus, loadavg, tmpdir } from "node:os"
import { join, relative, resolve } from "node:path"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { Snowflake } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Ffmpeg } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"
import * as TestDatabase from "../../../test/database/TestDatabase.ts"

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 48)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** Batch sizes of the cluster runs; 8 is the default, run without --batch-size. */
const BATCH_SIZES = (process.env.BENCH_BATCH_SIZES ?? "8,16").split(",").map(Number)
const DEFAULT_BATCH_SIZE = 8
const WAIT_S = Number(process.env.BENCH_WAIT_S ?? 60)
const WIDTH = 160
const HEIGHT = 120
const FRAMES = 24
const FPS = 24
const CORES = 2
const METRICS = "vidpool.psnr_255,vidpool.ssim_luma,common.frechet_distance"
const TARGET = 1.1
const GIVEN_DB = process.env.VIDPOOL_BENCH_DB || process.env.VIDPOOL_TEST_DB || undefined
/** The bench's own server when no database is given. */
const ownDb = GIVEN_DB === undefined ? await TestDatabase.start() : undefined
const DB = GIVEN_DB ?? ownDb!.url
/** The bench's own cluster of that database (--cluster-name): its tables are `vidpool_NAME_*`, its shard locks its own. */
const CLUSTER = process.env.BENCH_CLUSTER_NAME ?? "bench"
const table = (name: "messages" | "replies" | "runners") => `vidpool_${CLUSTER}_${name}`

const here = import.meta.dirname
const root = resolve(here, "..", "..", "..")
/** The command under test: the built bundle, or BENCH_CLI (a variant of it, to try other settings). */
const cli = resolve(process.env.BENCH_CLI ?? join(root, "packages", "cli", "dist", "vidpool.mjs"))

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const msOf = (ms: number) => `${ms.toFixed(1)} ms`
const bytes = (n: number) => `${Math.round(n).toLocaleString("en-US")} B`
const safeUrl = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")

// ---------------------------------------------------------------------------------------------
// Child processes: each is the leader of its own process group (its ffmpeg children with it),
// so that ending it ends everything it started.

const children = new Set<ChildProcess>()
const started: Array<number> = []

const launch = (args: ReadonlyArray<string>): ChildProcess => {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  if (child.pid !== undefined) started.push(child.pid)
  children.add(child)
  child.on("exit", () => children.delete(child))
  return child
}

const signalGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** Ends a child: SIGTERM (a runner leaves the cluster), SIGKILL after `graceMs`. */
const stop = (child: ChildProcess, graceMs: number) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      signalGroup(child, "SIGKILL") // anything it left in its group
      return done()
    }
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs)
    child.once("exit", () => {
      clearTimeout(timer)
      signalGroup(child, "SIGKILL")
      done()
    })
    signalGroup(child, "SIGTERM")
  })

const killAllNow = () => {
  for (const child of children) signalGroup(child, "SIGKILL")
}
process.on("exit", killAllNow)
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAllNow()
    process.exit(130)
  })
}

/** The processes still alive in the groups of the children started (none, after the end). */
const leftovers = (): Array<string> => {
  const groups = new Set(started)
  const out: Array<string> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (groups.has(Number(fields[2])) && fields[0] !== "Z") out.push(`${entry} (${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))})`)
    } catch {
      // ended while reading
    }
  }
  return out
}

interface Timed {
  readonly wallMs: number
  readonly startedAt: number
  readonly endedAt: number
  readonly stderr: string
}

/** Runs `vidpool ARGS` to its end; its wall time is from spawn to exit. */
const timedRun = (args: ReadonlyArray<string>, timeoutMs = 120_000) =>
  new Promise<Timed>((done, fail) => {
    const startedAt = Date.now()
    const t0 = performance.now()
    const child = launch(args)
    let stderr = ""
    let wallMs = 0
    let endedAt = 0
    child.stdout!.resume()
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), timeoutMs)
    child.on("exit", () => {
      wallMs = performance.now() - t0
      endedAt = Date.now()
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return done({ wallMs, startedAt, endedAt, stderr })
      fail(new Error(`vidpool ${args.join(" ")} ended with ${signal ?? `exit code ${code}`}:\n${stderr}`))
    })
  })

/** A port nothing listens on now. */
const freePort = () =>
  new Promise<number>((done, fail) => {
    const server = createServer()
    server.once("error", fail)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? done(address.port) : fail(new Error("no port"))))
    })
  })

const runnerArgs = (port: number) => ["runner", "--db", DB, "--cluster-name", CLUSTER, "--listen", `127.0.0.1:${port}`]

/** Starts `vidpool runner` and waits for its "serving on" line; its later lines are kept. */
const startRunner = (port: number) =>
  new Promise<{ child: ChildProcess; lines: Array<string>; readyMs: number }>((done, fail) => {
    const t0 = performance.now()
    const child = launch(runnerArgs(port))
    const lines: Array<string> = []
    let pending = ""
    let ready = false
    const timer = setTimeout(() => fail(new Error(`the runner did not say it was serving within 30 s:\n${lines.join("\n")}`)), 30_000)
    child.stdout!.resume()
    child.stderr!.on("data", (chunk: Buffer) => {
      pending += chunk.toString()
      const parts = pending.split("\n")
      pending = parts.pop()!
      for (const line of parts) {
        lines.push(line)
        if (!ready && line.includes("serving on")) {
          ready = true
          clearTimeout(timer)
          done({ child, lines, readyMs: performance.now() - t0 })
        }
      }
    })
    child.on("exit", (code, signal) => {
      if (ready) return
      clearTimeout(timer)
      fail(new Error(`the runner ended with ${signal ?? `exit code ${code}`}:\n${lines.join("\n")}${pending}`))
    })
  })

// ---------------------------------------------------------------------------------------------
// Storage.

const pg = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(DB), maxConnections: 2, applicationName: "vidpool-cluster-bench" }))
const query = <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  pg.runPromise(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<A>(text, params)
  }))

/** The rows of a run: its batches' messages (entity ids `RUN/BATCH`), and the replies to them. */
const ofRun = `left(entity_id, length($1) + 1) = $1 || '/'`

/** Runners of the database other than `mine` that sent a heartbeat in the last 10 s. */
const otherRunners = async (mine: string | undefined) => {
  const rows = await query<{ address: string }>(
    `SELECT address FROM ${table("runners")} WHERE last_heartbeat > now()::timestamp - interval '10 seconds' ORDER BY address`
  ).catch(() => [])
  return rows.map((r) => r.address).filter((a) => a !== mine)
}

interface RunStorage {
  readonly batches: number
  readonly runners: ReadonlySet<string>
  /** Bytes of the `Wire` text: requests' samples; replies' results + partials. */
  readonly samplesText: number
  readonly resultsText: number
  /** octet_length of the payload columns (the whole encoded request / reply). */
  readonly messagePayload: number
  readonly replyPayload: number
  /** pg_column_size: as stored (compressed when large). */
  readonly messageStored: number
  readonly replyStored: number
  readonly messageRows: number
  readonly replyRows: number
  readonly messageCount: number
  readonly replyCount: number
  /** Unix ms: the first batch stored; the last reply stored. */
  readonly firstStored: number
  readonly lastReplied: number
  /** From the first batch stored to the runner starting it (its reply's time less its evaluation). */
  readonly pickupMs: number
  /** The runner's evaluation of each batch (its reply's timing), summed. */
  readonly evaluatingMs: number
  /** Between a reply stored and the runner starting the next batch, summed. */
  readonly betweenMs: number
}

const runStorage = async (runId: string): Promise<RunStorage> => {
  const messages = await query<{ id: string; kind: number; payload: string | null; octets: number | null; stored: number | null; row: number }>(
    `SELECT id::text AS id, kind, payload, octet_length(payload) AS octets, pg_column_size(payload) AS stored, pg_column_size(m.*) AS row
     FROM ${table("messages")} m WHERE ${ofRun}`,
    [runId]
  )
  const replies = await query<{ id: string; request: string; payload: string; octets: number; stored: number; row: number }>(
    `SELECT r.id::text AS id, r.request_id::text AS request, r.payload, octet_length(r.payload) AS octets,
            pg_column_size(r.payload) AS stored, pg_column_size(r.*) AS row
     FROM ${table("replies")} r WHERE r.request_id IN (SELECT request_id FROM ${table("messages")} WHERE ${ofRun})`,
    [runId]
  )
  const sum = (xs: ReadonlyArray<number | null>) => xs.reduce<number>((a, x) => a + Number(x ?? 0), 0)
  const requests = messages.filter((m) => m.kind === 0 && m.payload !== null)
  const stamp = (id: string) => Snowflake.timestamp(Snowflake.Snowflake(id))
  const batches = requests.map((m) => {
    const payload = JSON.parse(m.payload!) as { batch: number; samples: string }
    return { id: m.id, batch: payload.batch, stored: stamp(m.id), samplesBytes: Buffer.byteLength(payload.samples) }
  }).sort((a, b) => a.batch - b.batch)
  const answers = replies.map((r) => {
    const exit = JSON.parse(r.payload) as { _tag: string; value?: { runner: string; results: string; partials: string; timing: { wallMs: number } } }
    if (exit._tag !== "Success" || exit.value === undefined) throw new Error(`run ${runId}: a batch failed: ${r.payload.slice(0, 500)}`)
    return {
      request: r.request,
      stored: stamp(r.id),
      runner: exit.value.runner,
      resultsBytes: Buffer.byteLength(exit.value.results) + Buffer.byteLength(exit.value.partials),
      wallMs: exit.value.timing.wallMs
    }
  }).sort((a, b) => a.stored - b.stored)
  if (batches.length === 0) throw new Error(`run ${runId}: no batch in storage (${messages.length} message rows, ${replies.length} reply rows)`)
  if (answers.length !== batches.length) throw new Error(`run ${runId}: ${batches.length} batches stored but ${answers.length} replies`)
  let betweenMs = 0
  for (let i = 1; i < answers.length; i++) betweenMs += Math.max(0, answers[i].stored - answers[i].wallMs - answers[i - 1].stored)
  const firstStored = Math.min(...batches.map((b) => b.stored))
  return {
    batches: batches.length,
    runners: new Set(answers.map((a) => a.runner)),
    samplesText: sum(batches.map((b) => b.samplesBytes)),
    resultsText: sum(answers.map((a) => a.resultsBytes)),
    messagePayload: sum(messages.map((m) => m.octets)),
    replyPayload: sum(replies.map((r) => r.octets)),
    messageStored: sum(messages.map((m) => m.stored)),
    replyStored: sum(replies.map((r) => r.stored)),
    messageRows: sum(messages.map((m) => m.row)),
    replyRows: sum(replies.map((r) => r.row)),
    messageCount: messages.length,
    replyCount: replies.length,
    firstStored,
    lastReplied: Math.max(...answers.map((a) => a.stored)),
    pickupMs: answers[0].stored - answers[0].wallMs - firstStored,
    evaluatingMs: sum(answers.map((a) => a.wallMs)),
    betweenMs
  }
}

// ---------------------------------------------------------------------------------------------
// Results.

interface Jsonl {
  readonly samples: ReadonlyArray<string>
  readonly run: Record<string, unknown>
  readonly frames: number
}

/** The sample lines (timing fields dropped, as canonical text) and the run line of a .jsonl. */
const readJsonl = (file: string): Jsonl => {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>)
  const samples = lines.filter((l) => l.type === "sample").map((l) => {
    const { timing: _, ...rest } = l
    return JSON.stringify(rest)
  })
  const run = lines.find((l) => l.type === "run")
  if (run === undefined) throw new Error(`${file} has no run line`)
  let frames = 0
  for (const l of lines) {
    if (l.type !== "sample") continue
    const details = l.details as Record<string, { frames?: number }> | undefined
    frames += details?.["vidpool.psnr_255"]?.frames ?? 0
  }
  return { samples, run, frames }
}

const sameSamples = (a: Jsonl, b: Jsonl) => a.samples.length === b.samples.length && a.samples.every((line, i) => line === b.samples[i])
/**
 * Where two run lines differ, their `timing` aside: the paths of the values that differ, and the
 * largest relative difference of the numbers among them (Infinity when a value that is not a
 * number differs).
 */
const runDifferences = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const paths = new Set<string>()
  let largest = 0
  const walk = (x: unknown, y: unknown, path: string) => {
    if (typeof x === "number" && typeof y === "number") {
      if (x !== y) {
        paths.add(path)
        largest = Math.max(largest, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y)))
      }
    } else if (typeof x === "object" && x !== null && typeof y === "object" && y !== null) {
      const xs = x as Record<string, unknown>
      const ys = y as Record<string, unknown>
      for (const key of new Set([...Object.keys(xs), ...Object.keys(ys)])) walk(xs[key], ys[key], `${path}.${key}`)
    } else if (JSON.stringify(x) !== JSON.stringify(y)) {
      paths.add(path)
      largest = Infinity
    }
  }
  const { timing: _a, ...ra } = a
  const { timing: _b, ...rb } = b
  walk(ra, rb, "run")
  return { paths, largest }
}

// ---------------------------------------------------------------------------------------------

const makeCorpus = async (ffmpeg: string, dir: string) => {
  const gen = join(dir, "gen")
  const ref = join(dir, "ref")
  mkdirSync(gen)
  mkdirSync(ref)
  const make = async (i: number) => {
    const name = `clip-${String(i).padStart(2, "0")}.mp4`
    await FfmpegFixtures.makeClip(ffmpeg, join(ref, name), {
      source: i % 2 === 0 ? "testsrc2" : "mandelbrot",
      width: WIDTH,
      height: HEIGHT,
      fps: FPS,
      frames: FRAMES,
      extraFilters: [`hue=h=${(i * 37) % 360}`]
    })
    await FfmpegFixtures.degrade(ffmpeg, join(ref, name), join(gen, name), i % 2 === 0 ? { blur: 1 + (i % 3) } : { noise: 8 + (i % 16) })
  }
  for (let i = 0; i < SAMPLES; i += CORES) {
    await Promise.all(Array.from({ length: Math.min(CORES, SAMPLES - i) }, (_, k) => make(i + k)))
  }
  return { gen, ref }
}

/** The newest source file of the packages the command is bundled from, when newer than the bundle. */
const staleness = () => {
  const built = statSync(cli).mtimeMs
  let newest: { file: string; mtime: number } | undefined
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith(".ts")) {
        const mtime = statSync(path).mtimeMs
        if (mtime > built && (newest === undefined || mtime > newest.mtime)) newest = { file: path, mtime }
      }
    }
  }
  for (const pkg of readdirSync(join(root, "packages"))) {
    const src = join(root, "packages", pkg, "src")
    if (existsSync(src)) walk(src)
  }
  return newest
}

const main = async () => {
  const say = (line: string) => console.log(line)
  const now = new Date()
  say(`@vidpool/cluster bench, ${now.toISOString().replace("T", " ").slice(0, 19)} UTC: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model})`)
  say(`command: ${process.env.npm_lifecycle_event === "bench" ? `pnpm bench (${process.env.npm_lifecycle_script})` : [process.argv0, ...process.argv.slice(1)].join(" ")} in ${process.cwd()}`)
  say(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (other processes on the machine distort wall times)`)
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm build\` at the root first`)
  const stale = staleness()
  say(`command under test: ${relative(root, cli)}, built ${new Date(statSync(cli).mtimeMs).toISOString()}` +
    (stale === undefined ? "" : ` (OLDER than ${relative(root, stale.file)}: run \`pnpm build\` at the root for the current sources)`))

  const ffmpeg = await Effect.runPromise(Effect.gen(function*() {
    return yield* Ffmpeg
  }).pipe(Effect.provide(Ffmpeg.layer)))
  const dir = mkdtempSync(join(tmpdir(), "vidpool-cluster-bench-"))
  const stamp = `bench-${now.toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`
  let runner: ChildProcess | undefined
  try {
    await query(`SELECT 1`).catch((error) => {
      throw new Error(`cannot use the database ${safeUrl(DB)} (start that server, or unset VIDPOOL_BENCH_DB and VIDPOOL_TEST_DB for a server of the bench's own): ${String(error)}`)
    })
    const t0 = performance.now()
    const corpus = await makeCorpus(ffmpeg.path, dir)
    say(`corpus: ${SAMPLES} clips + ${SAMPLES} references (${WIDTH}x${HEIGHT}, ${FRAMES} frames at ${FPS} fps, h264; testsrc2 / mandelbrot, ` +
      `the clips blurred or noised), made with ffmpeg ${ffmpeg.version} in ${s(performance.now() - t0)}, metrics ${METRICS}`)

    // No other runner: it would take shards of the bench's runs (and the bench's runner would take a test's).
    const waitStart = performance.now()
    let others = await otherRunners(undefined)
    while (others.length > 0 && performance.now() - waitStart < WAIT_S * 1000) {
      await new Promise((r) => setTimeout(r, 2000))
      others = await otherRunners(undefined)
    }
    if (others.length > 0) say(`WARNING: other runners of the database are alive (${others.join(", ")}) after waiting ${WAIT_S} s: they take shards of the bench's runs`)
    else if (performance.now() - waitStart > 1000) say(`waited ${s(performance.now() - waitStart)} for the other runners of the database to end`)

    const port = await freePort()
    const r = await startRunner(port)
    runner = r.child
    const mine = `127.0.0.1:${port}`
    const base = [corpus.gen, "--reference", corpus.ref, "--metrics", METRICS, "--quiet"]
    const aOut = (tag: string) => join(dir, `a-${tag}.jsonl`)
    const bOut = (tag: string) => join(dir, `b-${tag}.jsonl`)
    const oneArgs = (out: string) => ["eval", ...base, "--out", out]
    const clusterArgs = (runId: string, batchSize: number, out: string) => [
      "eval", ...base, "--cluster", "--db", DB, "--cluster-name", CLUSTER, "--run-id", runId,
      ...(batchSize === DEFAULT_BATCH_SIZE ? [] : ["--batch-size", String(batchSize)]), "--out", out
    ]
    const show = (args: ReadonlyArray<string>) =>
      ["node", relative(root, cli), ...args].map((a) => a.replace(dir, "$DIR").replace(DB, safeUrl(DB))).join(" ")
    say(`storage: cluster ${CLUSTER} (tables ${table("messages")}, ...) of ${safeUrl(DB)}; run ids ${stamp}-*; the bench's runner: ${show(runnerArgs(port))} (ready in ${s(r.readyMs)})`)
    say(`one-machine: ${show(oneArgs("$DIR/a.jsonl"))}`)
    for (const size of BATCH_SIZES) say(`cluster, batch size ${size}: ${show(clusterArgs("ID", size, "$DIR/b.jsonl"))}`)
    say(`($DIR = ${dir}; commands run from ${root})`)

    // Warm-up, untimed: the one-machine command once (file cache, node's compile cache; every
    // one-machine run starts its own decoder and metric workers, as a user's does); a cluster
    // run per batch size, so that the runner's engine, its Evaluator and worker threads exist.
    const tw = performance.now()
    await timedRun(oneArgs(aOut("warm")))
    for (const size of BATCH_SIZES) await timedRun(clusterArgs(`${stamp}-warm-${size}`, size, bOut(`warm-${size}`)))
    say(`warm-up (untimed, ${s(performance.now() - tw)}): one one-machine run; one cluster run per batch size (run ids ${stamp}-warm-N)`)
    say(`timed: each whole \`vidpool eval\` process, spawn to exit; ${ROUNDS} rounds, one run of each side a round, their order rotated each round`)

    const sides = ["start", "one", ...BATCH_SIZES.map(String)]
    const walls = new Map<string, Array<number>>(sides.map((k) => [k, []]))
    const inner = new Map<string, Array<number>>(sides.map((k) => [k, []]))
    const parts = new Map<number, Array<{ startup: number; pickup: number; evaluating: number; between: number; tail: number }>>(BATCH_SIZES.map((b) => [b, []]))
    const lastRun = new Map<number, string>()
    const served = new Set<string>()
    let compared = 0
    let equal = 0
    let runEqual = 0
    const runPaths = new Set<string>()
    let runLargest = 0
    let frames = 0
    let othersSeen = others.length > 0
    const roundRows: Array<string> = []
    for (let round = 0; round < ROUNDS; round++) {
      const order = sides.map((_, i) => sides[(i + round) % sides.length])
      const outcome = new Map<string, { timed: Timed; out: Jsonl; runId?: string }>()
      for (const side of order) {
        if (side === "start") {
          outcome.set(side, { timed: await timedRun(["--version"]), out: { samples: [], run: {}, frames: 0 } })
        } else if (side === "one") {
          const file = aOut(String(round))
          const timed = await timedRun(oneArgs(file))
          outcome.set(side, { timed, out: readJsonl(file) })
        } else {
          const size = Number(side)
          const runId = `${stamp}-r${round}-b${size}`
          const file = bOut(`${round}-${size}`)
          const timed = await timedRun(clusterArgs(runId, size, file))
          outcome.set(side, { timed, out: readJsonl(file), runId })
          if ((await otherRunners(mine)).length > 0) othersSeen = true
        }
      }
      const a = outcome.get("one")!
      frames = a.out.frames
      for (const side of sides) {
        const { out, runId, timed } = outcome.get(side)!
        walls.get(side)!.push(timed.wallMs)
        inner.get(side)!.push(Number((out.run.timing as { wallMs?: number } | undefined)?.wallMs ?? NaN))
        if (runId === undefined) continue
        compared++
        if (sameSamples(a.out, out)) equal++
        const diff = runDifferences(a.out.run, out.run)
        if (diff.paths.size === 0) runEqual++
        for (const path of diff.paths) runPaths.add(path)
        runLargest = Math.max(runLargest, diff.largest)
        const st = await runStorage(runId)
        for (const runner of st.runners) served.add(runner)
        parts.get(Number(side))!.push({
          startup: st.firstStored - timed.startedAt,
          pickup: st.pickupMs,
          evaluating: st.evaluatingMs,
          between: st.betweenMs,
          tail: timed.endedAt - st.lastReplied
        })
        lastRun.set(Number(side), runId)
      }
      roundRows.push(`  round ${round + 1}: ${sides.map((side) => `${side === "start" ? "--version" : side === "one" ? "one-machine" : `cluster/${side}`} ${s(outcome.get(side)!.timed.wallMs)}`).join(", ")}`)
    }

    const oneWall = median(walls.get("one")!)
    const oneInner = median(inner.get("one")!)
    say(`\n1. coordination overhead, medians of ${ROUNDS} rounds (${SAMPLES} samples):`)
    say(`  one-machine: ${s(oneWall)} = ${msOf(oneWall / SAMPLES)}/sample ` +
      `(its evaluation ${s(oneInner)}, as its run line's timing says; the rest, ${s(oneWall - oneInner)}, is process start, decoder and worker start-up, output, exit)`)
    say(`  process start alone, \`vidpool --version\`: ${s(median(walls.get("start")!))} (node, the bundle loaded, exit)`)
    for (const size of BATCH_SIZES) {
      const wall = median(walls.get(String(size))!)
      const ratio = wall / oneWall
      const p = parts.get(size)!
      const m = (f: (x: (typeof p)[number]) => number) => s(median(p.map(f)))
      say(`  cluster, batch size ${size}${size === DEFAULT_BATCH_SIZE ? " (default)" : ""}, ${Math.ceil(SAMPLES / size)} batches: ${s(wall)} = ${msOf(wall / SAMPLES)}/sample: ` +
        `${ratio.toFixed(2)}x one-machine (target <= ${TARGET}x: ${ratio <= TARGET ? "MET" : "MISSED"}); ` +
        `${wall >= oneWall ? "+" : "-"}${msOf(Math.abs(wall - oneWall) / SAMPLES)}/sample`)
      // The runner was started and warmed before the timing: with its start counted in, the
      // comparison is one cold process against a coordinator plus a runner started for the run.
      say(`    with the runner's own start (${s(r.readyMs)}) added to the cluster's time: ${((wall + r.readyMs) / oneWall).toFixed(2)}x one-machine ` +
        `(its Evaluator and worker threads warm, as after its first batch)`)
      say(`    taken apart (medians; storage's Snowflake ids, the replies' timings): start-up to the first batch stored ${m((x) => x.startup)}; ` +
        `to the runner starting it ${m((x) => x.pickup)}; the runner evaluating the batches ${m((x) => x.evaluating)} (summed; one-machine's evaluation ${s(oneInner)}); ` +
        `between a reply stored and the next batch started ${m((x) => x.between)} (summed); last reply stored to exit ${m((x) => x.tail)}`)
    }
    for (const row of roundRows) say(row)
    say(`  results: the sample lines of b.jsonl equal a.jsonl's (parsed, timing fields dropped; sample lines have none) in ${equal} of ${compared} cluster runs: ${equal === compared ? "yes" : "NO"}; ` +
      `the run lines without their timing (summary, corpus common.frechet_distance) in ${runEqual} of ${compared}` +
      (runPaths.size === 0 ? "" : ` (the others differ at ${[...runPaths].join(", ")}, by at most ${runLargest.toExponential(1)} relative)`))
    say(`  batches served by: ${[...served].sort().join(", ")} (${served.size === 1 && served.has(mine) ? "the bench's runner alone" : "NOT only the bench's runner"})` +
      (othersSeen ? "; WARNING: other runners of the database were alive during the runs" : ""))

    say(`\n2. bytes per sample (the last measured run of each batch size):`)
    const tensor = frames * HEIGHT * WIDTH * 3 * 2 / SAMPLES
    for (const size of BATCH_SIZES) {
      const runId = lastRun.get(size)!
      const st = await runStorage(runId)
      const wire = (st.samplesText + st.resultsText) / SAMPLES
      say(`  batch size ${size}, run ${runId} (${st.batches} batches; ${st.messageCount} message rows, ${st.replyCount} reply rows):`)
      say(`    wire, the Wire text the coordinator counts: requests' samples ${bytes(st.samplesText / SAMPLES)}, replies' results + partials ${bytes(st.resultsText / SAMPLES)}: ${bytes(wire)}`)
      say(`    whole encoded messages (the payload columns; the socket carries the same fields, msgpack-framed): requests ${bytes(st.messagePayload / SAMPLES)}, replies ${bytes(st.replyPayload / SAMPLES)}`)
      say(`    storage: payload columns as stored (pg_column_size, compressed when large) ${bytes(st.messageStored / SAMPLES)} + ${bytes(st.replyStored / SAMPLES)} = ${bytes((st.messageStored + st.replyStored) / SAMPLES)}; ` +
        `whole rows ${bytes(st.messageRows / SAMPLES)} + ${bytes(st.replyRows / SAMPLES)} = ${bytes((st.messageRows + st.replyRows) / SAMPLES)} (indexes not counted)`)
      say(`    decoded tensors, never sent (each runner decodes from the paths): ${bytes(tensor)} = ${Math.round(tensor / wire).toLocaleString("en-US")}x the wire bytes`)
    }
    say(`  (tensors: ${(frames / SAMPLES).toFixed(0)} frames (the results' details) x ${HEIGHT} x ${WIDTH} x 3, video + reference)`)
  } finally {
    const ends: Array<Promise<void>> = []
    if (runner !== undefined) ends.push(stop(runner, 15_000))
    for (const child of children) if (child !== runner) ends.push(stop(child, 2_000))
    await Promise.all(ends)
    if (process.env.BENCH_KEEP_STORAGE === undefined) {
      await query(
        `WITH m AS (DELETE FROM ${table("messages")} WHERE left(entity_id, length($1)) = $1 RETURNING request_id)
         DELETE FROM ${table("replies")} WHERE request_id IN (SELECT request_id FROM m)`,
        [`${stamp}-`]
      ).catch((error) => console.log(`could not delete the bench's rows from storage: ${String(error)}`))
    }
    await pg.dispose()
    await ownDb?.stop()
    rmSync(dir, { recursive: true, force: true })
    const left = leftovers()
    console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
    console.log(`child processes: ${started.length} started, ${left.length === 0 ? "none left" : `LEFT: ${left.join(", ")}`}` +
      (process.env.BENCH_KEEP_STORAGE === undefined ? `; the bench's rows deleted from storage` : `; storage kept (BENCH_KEEP_STORAGE)`))
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
