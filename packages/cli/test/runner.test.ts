// `vidpool runner` meeting what goes wrong around it, as real processes over the tests' PostgreSQL
// database: an address it cannot listen at is one line naming it, the cause and the remedy; a
// database outage under a running run (the database reached through a proxy this file stops and
// starts again, as a stopped PostgreSQL looks to its clients) is two lines in the runner's log,
// never a stack trace per retry, and the run finishes with every sample.
import { type ChildProcess, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Database } from "@vidpool/cluster"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../../../test/database/Postmaster.ts"
import { requireDatabase, testDb } from "../../../test/database/testDb.ts"
import { dropClusterTables, exited, ffmpegPath, hasStackTrace, lines, makeClip, removeDir, spawnVidpool, tempDir, untilData, vidpool } from "./helpers.ts"

/** A cluster of this file's own in the shared database. */
const name = `runner_${process.pid}_${Date.now() % 100000}`

/**
 * Resolves once `done()` holds, looked at each time `logged` writes to stderr; fails with `what()`
 * after `timeoutMs`. Registered after start()'s own listener, so `logged.stderr` already holds the new data.
 */
const waitFor = (logged: Logged, done: () => boolean, timeoutMs: number, what: () => string): Promise<void> =>
  untilData(logged.child.stderr!, done, timeoutMs, what)

/** `promise`, or a failure saying `what` after `timeoutMs`. */
const within = <A>(promise: Promise<A>, timeoutMs: number, what: () => string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), timeoutMs)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/**
 * A TCP proxy on 127.0.0.1 to the database: `stop` closes it and cuts every connection through it
 * (new ones are refused, as by a stopped PostgreSQL); `start` listens again on the same port.
 */
const makeProxy = async (target: URL) => {
  const port = await freePort()
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.on("error", () => socket.destroy())
    socket.on("close", () => sockets.delete(socket))
  }
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 5432) })
    track(client)
    track(upstream)
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
    client.pipe(upstream).pipe(client)
  })
  const start = () => new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const stop = () => new Promise<void>((resolve) => {
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  })
  await start()
  const url = new URL(target.toString())
  url.hostname = "127.0.0.1"
  url.port = String(port)
  return { url: url.toString(), start, stop }
}

interface Logged {
  readonly child: ChildProcess
  stdout: string
  stderr: string
}

const children = new Set<ChildProcess>()

const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Logged => {
  const child = spawnVidpool(args, { env })
  children.add(child)
  child.once("exit", () => children.delete(child))
  const logged: Logged = { child, stdout: "", stderr: "" }
  child.stdout!.on("data", (d) => { logged.stdout += d })
  child.stderr!.on("data", (d) => { logged.stderr += d })
  return logged
}

describe("vidpool runner", () => {
  let dir: string
  let clips: string
  /** An ffmpeg that decodes like the real one, but holds `held.mp4` (the first time) until `gate` is closed by its writer. */
  let ffmpeg: string
  let gate: string

  beforeAll(async () => {
    await requireDatabase()
    dir = tempDir("vidpool-runner-test-")
    clips = path.join(dir, "clips")
    fs.mkdirSync(clips)
    await makeClip(path.join(clips, "a.mp4"))
    for (const other of ["b.mp4", "held.mp4", "c.mp4"]) fs.copyFileSync(path.join(clips, "a.mp4"), path.join(clips, other))
    gate = path.join(dir, "gate")
    execFileSync("mkfifo", [gate])
    ffmpeg = path.join(dir, "ffmpeg")
    // Only its first decode of held.mp4 waits: the outage may stop that batch, which is then run again.
    const held = path.join(dir, "held-once")
    fs.writeFileSync(
      ffmpeg,
      `#!/bin/sh\ncase "$*" in *held.mp4*) [ -e '${held}' ] || { : > '${held}'; cat '${gate}' >/dev/null; } ;; esac\nexec '${ffmpegPath}' "$@"\n`,
      { mode: 0o755 }
    )
  }, 60_000)

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL")
    await Promise.all([...children].map(exited))
    removeDir(dir)
    // This file's cluster tables go too.
    await dropClusterTables(testDb, name)
  }, 60_000)

  it("names a --listen address in use, the cause and the remedy, in one line (exit code 2)", async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const { port } = taken.address() as net.AddressInfo
    try {
      const result = await vidpool(["runner", "--db", testDb, "--cluster-name", name, "--listen", `127.0.0.1:${port}`])
      expect(result.code, result.stderr).toBe(2)
      expect(result.stdout).toBe("")
      expect(lines(result.stderr)).toEqual([
        `vidpool: --listen 127.0.0.1:${port}: cannot listen there: the address is already in use (EADDRINUSE): another program, ` +
        `or another runner, listens on that port; give --listen a free port`
      ])
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  }, 60_000)

  it("names a --listen address that is not this machine's, the cause and the remedy, in one line (exit code 2)", async () => {
    // TEST-NET-1 (RFC 5737): never an address of this machine.
    const result = await vidpool(["runner", "--db", testDb, "--cluster-name", name, "--listen", "192.0.2.1:7100"])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stdout).toBe("")
    expect(lines(result.stderr)).toEqual([
      "vidpool: --listen 192.0.2.1:7100: cannot listen there: cannot assign requested address (EADDRNOTAVAIL): it is not an " +
      "address of this machine; give --listen one of its addresses, or 0.0.0.0:PORT with --advertise HOST:PORT, the address the others reach it at"
    ])
  }, 60_000)

  it("writes a database outage under a running run as two lines, and the run finishes with every sample", async () => {
    const proxy = await makeProxy(new URL(testDb))
    const port = await freePort()
    const runner = start(["runner", "--db", proxy.url, "--cluster-name", name, "--listen", `127.0.0.1:${port}`], { FFMPEG_PATH: ffmpeg })
    await waitFor(runner, () => runner.stderr.includes("serving on"), 60_000, () => `the runner did not start: ${runner.stderr}`)
    const out = path.join(dir, "outage.jsonl")
    const run = start([
      "eval", clips, "--metrics", "sharpness", "--decoder", "ffmpeg", "--out", out,
      "--cluster", "--db", proxy.url, "--cluster-name", name, "--batch-size", "1"
    ])
    // Opening the gate for writing returns once the runner's ffmpeg for held.mp4 waits on it: a batch is in flight.
    const writer = await within(fs.promises.open(gate, "w"), 60_000, () => `held.mp4 did not reach the runner's ffmpeg: ${runner.stderr}\n${run.stderr}`)
    try {
      await proxy.stop()
      await waitFor(runner, () => runner.stderr.includes("cannot be reached"), 60_000, () => `the runner did not say so: ${runner.stderr}`)
      // The outage lasts 10 s more, in which effect/cluster retries every second: the real clock is
      // the case tested (an outage that outlasts several retries), not a latch; the runner's own
      // reports, waited for above and below, order the steps.
      await new Promise((resolve) => setTimeout(resolve, 10_000))
      await proxy.start()
    } finally {
      await writer.close()
    }
    await waitFor(runner, () => runner.stderr.includes("is back (unreachable"), 90_000, () => `the runner did not say the database is back: ${runner.stderr}`)
    expect(await within(exited(run.child), 90_000, () => `the run did not end: ${run.stderr}\n${runner.stderr}`), run.stderr).toBe(0)
    const samples = fs.readFileSync(out, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)).filter((l) => l.type === "sample")
    expect(samples.map((s) => s.video).sort()).toEqual(["a.mp4", "b.mp4", "c.mp4", "held.mp4"].map((f) => path.join(clips, f)))
    expect(samples.every((s) => s.error === undefined)).toBe(true)

    const said = lines(runner.stderr).filter((line) => !/ batch \d+: /.test(line))
    expect(said).toEqual([
      `runner 127.0.0.1:${port}: serving on 127.0.0.1:${port}, cluster ${name} in ${Database.safeUrl(proxy.url)}`,
      expect.stringMatching(
        new RegExp(`^runner 127\\.0\\.0\\.1:${port}: the database \\S+ cannot be reached \\(.+\\); retrying every 1s until it is back: ` +
          `start it again or restore the network to it, and the runs go on$`)
      ),
      expect.stringMatching(new RegExp(`^runner 127\\.0\\.0\\.1:${port}: the database \\S+ is back \\(unreachable for \\d+ s\\)$`))
    ])
    expect(runner.stdout).toBe("")
    expect(hasStackTrace(runner.stderr)).toBe(false)
    // The coordinator's own log: at most the same two lines, and nothing on stdout.
    expect(run.stdout).toBe("")
    expect(hasStackTrace(run.stderr)).toBe(false)
    expect(lines(run.stderr).filter((line) => line.includes("cannot be reached")).length).toBeLessThanOrEqual(1)
    runner.child.kill("SIGTERM")
    await exited(runner.child)
    await proxy.stop()
  }, 300_000)
})
