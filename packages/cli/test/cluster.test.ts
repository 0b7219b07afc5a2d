// `vidpool runner` and `vidpool eval --cluster` as real processes over the PostgreSQL database of
// the tests: a cluster run writes what a one-machine run writes; a runner killed with SIGKILL
// mid-run loses no sample and rejoins when restarted at its address; a coordinator killed and
// started again with the same run id finishes from storage without evaluating a batch twice.
import type { ChildProcess } from "node:child_process"
import { EventEmitter } from "node:events"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../../../test/database/Postmaster.ts"
import { requireDatabase, testDb } from "../../../test/database/testDb.ts"
import { dropClusterTables, exited, untilData, makeClip, removeDir, spawnVidpool, tempDir, vidpool } from "./helpers.ts"

/** The tests' database: the run's own PostgreSQL server, or the one VIDPOOL_TEST_DB names. */
const db = testDb
/** A cluster of this test file's own in the shared database: tests of other files run clusters at the same time. */
const name = `cli_${process.pid}_${Date.now() % 100000}`

interface RunnerProcess {
  readonly port: number
  readonly child: ChildProcess
  /** Its stderr so far. */
  log: string
}

const children = new Set<ChildProcess>()
/** Emits "data" each time a runner's log grows. */
const logGrew = new EventEmitter()

const startRunner = async (port: number): Promise<RunnerProcess> => {
  const child = spawnVidpool(["runner", "--db", db, "--cluster-name", name, "--listen", `127.0.0.1:${port}`])
  children.add(child)
  const runner: RunnerProcess = { port, child, log: "" }
  child.stderr!.on("data", (d) => {
    runner.log += d
    logGrew.emit("data")
  })
  child.once("exit", () => children.delete(child))
  await waitFor(() => runner.log.includes("serving on"), 20_000, () => `runner ${port} did not start: ${runner.log}`)
  return runner
}

/** Resolves once `done()` holds, looked at each time a runner's log grows; fails with `what()` after `timeoutMs`. */
const waitFor = (done: () => boolean, timeoutMs: number, what: () => string): Promise<void> =>
  untilData(logGrew, done, timeoutMs, what)

const kill = async (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  await exited(child)
}

/** The batches of `runId` a runner's log says it evaluated. */
const batchesOf = (log: string, runId: string): Array<number> =>
  [...log.matchAll(new RegExp(`run ${runId} batch (\\d+):`, "g"))].map((m) => Number(m[1]))

interface Output {
  readonly samples: Array<Record<string, unknown>>
  readonly run: Record<string, any>
}

const readJsonl = (file: string): Output => {
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l))
  return { samples: lines.filter((l) => l.type === "sample"), run: lines.find((l) => l.type === "run") }
}

/** Every index once, and each sample line equal to the one-machine run's. */
const expectSameSamples = (got: Output, expected: Output, total: number) => {
  const indices = got.samples.map((s) => s.index as number).sort((a, b) => a - b)
  expect(indices).toEqual(Array.from({ length: total }, (_, i) => i))
  const byIndex = new Map(expected.samples.map((s) => [s.index, s]))
  for (const sample of got.samples) expect(sample).toEqual(byIndex.get(sample.index))
}

/**
 * The corpus metric of a cluster run against the one-machine run's: equal within 1e-6 relative.
 * The set metric's partials are merged batch by batch rather than sample by sample, and float sums
 * depend on their order (the Fréchet distance amplifies that through its covariance square root).
 */
const expectSameCorpus = (got: Output, expected: Output) => {
  const name = "common.frechet_distance"
  const a = got.run.corpus[name].score as number
  const b = expected.run.corpus[name].score as number
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.abs(b))
  expect(got.run.corpus[name].details).toEqual(expected.run.corpus[name].details)
}

describe("vidpool eval --cluster", () => {
  let dir: string
  let gen: string
  let refs: string
  let oneMachine: Output
  const total = 60
  const runners: Array<RunnerProcess> = []
  const common = ["--metrics", "psnr,ssim,common.frechet_distance", "--quiet"]

  beforeAll(async () => {
    await requireDatabase()
    dir = tempDir("vidpool-cluster-test-")
    gen = path.join(dir, "gen")
    refs = path.join(dir, "refs")
    fs.mkdirSync(gen)
    fs.mkdirSync(refs)
    // 60 pairs from 6 distinct clips (copies under other names): each sample is a real decode.
    const sources = ["testsrc2", "mandelbrot"] as const
    for (let k = 0; k < 6; k++) {
      const source = sources[k % 2]
      await makeClip(path.join(refs, `base${k}.mp4`), { source, width: 96, height: 64, frames: 12 })
      await makeClip(path.join(gen, `base${k}.mp4`), { source, width: 96, height: 64, frames: 12, filter: `gblur=sigma=${1 + k}` })
    }
    for (let i = 0; i < total; i++) {
      const name = `clip${String(i).padStart(2, "0")}.mp4`
      fs.copyFileSync(path.join(gen, `base${i % 6}.mp4`), path.join(gen, name))
      fs.copyFileSync(path.join(refs, `base${i % 6}.mp4`), path.join(refs, name))
    }
    for (let k = 0; k < 6; k++) {
      fs.rmSync(path.join(gen, `base${k}.mp4`))
      fs.rmSync(path.join(refs, `base${k}.mp4`))
    }
    const out = path.join(dir, "one.jsonl")
    const one = await vidpool(["eval", gen, "--reference", refs, ...common, "--out", out])
    expect(one.code, one.stderr).toBe(0)
    oneMachine = readJsonl(out)
    expect(oneMachine.samples).toHaveLength(total)
    for (let i = 0; i < 3; i++) runners.push(await startRunner(await freePort()))
    // One run first: the runners' Evaluators start, and the shards settle on the three of them.
    const warm = await vidpool(["eval", gen, "--reference", refs, ...common, "--cluster", "--db", db, "--cluster-name", name, "--run-id", `warm-${Date.now()}`])
    expect(warm.code, warm.stderr).toBe(0)
  }, 240_000)

  afterAll(async () => {
    // Runners leave the cluster on SIGTERM (their shards are released at once): each exit is
    // awaited, for 10 s at most; what has not exited by then is killed.
    const left = [...children]
    for (const child of left) child.kill("SIGTERM")
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(left.map(exited)), new Promise((resolve) => timer = setTimeout(resolve, 10_000))])
    clearTimeout(timer)
    await Promise.all(left.map(kill))
    removeDir(dir)
    // This file's cluster tables go too.
    await dropClusterTables(db, name)
  })

  const clusterEval = (runId: string, out: string, extra: ReadonlyArray<string> = []) =>
    spawnVidpool(["eval", gen, "--reference", refs, ...common, "--out", out, "--cluster", "--db", db, "--cluster-name", name, "--run-id", runId, "--batch-size", "2", ...extra])

  /** A cluster run of `child`, which must end with exit code 0: its output. */
  const finished = async (child: ChildProcess, out: string): Promise<Output> => {
    children.add(child)
    let stderr = ""
    child.stderr!.on("data", (d) => { stderr += d })
    expect(await exited(child), stderr).toBe(0)
    const got = readJsonl(out)
    expectSameSamples(got, oneMachine, total)
    expectSameCorpus(got, oneMachine)
    return got
  }

  it("writes what a one-machine run writes, in the same formats", async () => {
    const runId = `same-${Date.now()}`
    const out = path.join(dir, "same.jsonl")
    const got = await finished(clusterEval(runId, out), out)
    expect(got.run.summary).toEqual(oneMachine.run.summary)
    // The batches went to more than one runner, each batch to one.
    const done = runners.flatMap((r) => batchesOf(r.log, runId))
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: total / 2 }, (_, b) => b))
    expect(runners.filter((r) => batchesOf(r.log, runId).length > 0).length).toBeGreaterThan(1)
    // A CSV of the same run is the one-machine CSV (the stored replies answer it: same run id).
    const csv = await vidpool(["eval", gen, "--reference", refs, ...common, "--format", "csv", "--cluster", "--db", db, "--cluster-name", name, "--run-id", runId, "--batch-size", "2"])
    const localCsv = await vidpool(["eval", gen, "--reference", refs, ...common, "--format", "csv"])
    expect(csv.code, csv.stderr).toBe(0)
    expect(csv.stdout).toEqual(localCsv.stdout)
    expect(runners.flatMap((r) => batchesOf(r.log, runId))).toHaveLength(total / 2)
  }, 180_000)

  it("writes what a one-machine run writes byte for byte with relative paths and an error row, as a table and as CSV", async () => {
    // Relative to the commands' folder, as a user types them: three clips and a file that is not
    // a video, each with a reference of the same name.
    fs.mkdirSync(path.join(dir, "mixed"))
    fs.mkdirSync(path.join(dir, "mixed-refs"))
    for (const clip of ["clip00.mp4", "clip01.mp4", "clip02.mp4"]) {
      fs.copyFileSync(path.join(gen, clip), path.join(dir, "mixed", clip))
      fs.copyFileSync(path.join(refs, clip), path.join(dir, "mixed-refs", clip))
    }
    fs.writeFileSync(path.join(dir, "mixed", "clip01b.mp4"), "this is not a video\n".repeat(40))
    fs.copyFileSync(path.join(refs, "clip01.mp4"), path.join(dir, "mixed-refs", "clip01b.mp4"))
    const args = ["eval", "mixed", "--reference", "mixed-refs", "--metrics", "psnr,ssim", "--quiet"]
    const cluster = ["--cluster", "--db", db, "--cluster-name", name, "--batch-size", "2"]
    for (const format of ["table", "csv"]) {
      const [local, sharded] = await Promise.all([
        vidpool([...args, "--format", format], { cwd: dir }),
        vidpool([...args, "--format", format, ...cluster, "--run-id", `relative-${format}-${Date.now()}`], { cwd: dir })
      ])
      // The failed sample is recorded in its row (--on-error record), and the run goes on.
      expect(local.code, local.stderr).toBe(0)
      expect(sharded.code, sharded.stderr).toBe(0)
      expect(local.stdout).toContain("Cannot decode mixed/clip01b.mp4 (sample 2,")
      expect(local.stdout).not.toContain(dir)
      expect(sharded.stdout).toEqual(local.stdout)
    }
  }, 180_000)

  it("gives the runners the model files (--model, relative): a model metric's CSV is the one-machine CSV", async () => {
    fs.mkdirSync(path.join(dir, "model-in"))
    for (const clip of ["clip00.mp4", "clip01.mp4", "clip02.mp4"]) fs.copyFileSync(path.join(gen, clip), path.join(dir, "model-in", clip))
    fs.copyFileSync(path.join(import.meta.dirname, "..", "..", "eval", "test", "fixtures", "models", "dino-tiny.onnx"), path.join(dir, "dino.onnx"))
    const args = ["eval", "model-in", "--metrics", "vbench.subject_consistency", "--model", "dino=dino.onnx", "--format", "csv", "--quiet"]
    const [local, sharded] = await Promise.all([
      vidpool(args, { cwd: dir }),
      vidpool([...args, "--cluster", "--db", db, "--cluster-name", name, "--batch-size", "1", "--run-id", `models-${Date.now()}`], { cwd: dir })
    ])
    expect(local.code, local.stderr).toBe(0)
    expect(sharded.code, sharded.stderr).toBe(0)
    // Three rows with a score each (not an error about a model the runner was not given).
    const rows = local.stdout.trim().split("\n").slice(1)
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row).toMatch(/,0\.\d+/)
    expect(sharded.stdout).toEqual(local.stdout)
  }, 120_000)

  it("loses no sample when a runner is killed mid-run, and the runner rejoins when restarted", async () => {
    const runId = `kill-runner-${Date.now()}`
    const out = path.join(dir, "kill-runner.jsonl")
    const child = clusterEval(runId, out)
    const run = finished(child, out)
    const victim = runners[1]
    // Killed once it has finished a batch of this run, while the run goes on.
    await waitFor(() => batchesOf(victim.log, runId).length >= 1, 30_000, () => `the runner got no batch: ${victim.log}`)
    await kill(victim.child)
    const finishedByVictim = batchesOf(victim.log, runId)
    expect(child.exitCode).toBeNull()
    await run
    // Its work moved: the others evaluated every batch it had not finished.
    const survivors = runners.filter((r) => r !== victim).flatMap((r) => batchesOf(r.log, runId))
    const covered = new Set([...finishedByVictim, ...survivors])
    expect([...covered].sort((a, b) => a - b)).toEqual(Array.from({ length: total / 2 }, (_, b) => b))

    // Restarted at the same address, it takes batches again: runs started after it rejoined (the
    // others see it within a few refresh intervals) send it some of their batches.
    const restarted = await startRunner(victim.port)
    runners[1] = restarted
    const rejoinedBy = Date.now() + 15_000
    let runs = 0
    while (true) {
      const again = `rejoin-${Date.now()}`
      const out = path.join(dir, `rejoin-${runs++}.jsonl`)
      await finished(clusterEval(again, out), out)
      if (batchesOf(restarted.log, again).length > 0) break
      if (Date.now() > rejoinedBy) throw new Error(`the restarted runner got no batch in ${runs} runs: ${restarted.log}`)
    }
  }, 180_000)

  it("finishes a killed coordinator's run from storage, evaluating no batch twice", async () => {
    const runId = `kill-coordinator-${Date.now()}`
    const out = path.join(dir, "kill-coordinator.jsonl")
    const first = clusterEval(runId, out)
    children.add(first)
    const doneSoFar = () => runners.flatMap((r) => batchesOf(r.log, runId)).length
    await waitFor(() => doneSoFar() >= 3, 30_000, () => "no batch of the run was evaluated")
    await kill(first)
    const before = doneSoFar()
    expect(before).toBeLessThan(total / 2)

    await finished(clusterEval(runId, out), out)
    // Every batch was evaluated exactly once over both coordinators.
    const done = runners.flatMap((r) => batchesOf(r.log, runId)).sort((a, b) => a - b)
    expect(done).toEqual(Array.from({ length: total / 2 }, (_, b) => b))
  }, 180_000)

  it("finishes a run stopped with Ctrl-C when started again with its run id; relative paths reach the runners", async () => {
    const runId = `sigint-${Date.now()}`
    const out = path.join(dir, "sigint.jsonl")
    // Relative inputs, from the test folder: the runners' working folder is another one.
    const args = ["eval", "gen", "--reference", "refs", ...common, "--out", out, "--cluster", "--db", db, "--cluster-name", name, "--run-id", runId, "--batch-size", "2"]
    const first = spawnVidpool(args, { cwd: dir })
    children.add(first)
    const doneSoFar = () => runners.flatMap((r) => batchesOf(r.log, runId)).length
    await waitFor(() => doneSoFar() >= 2, 30_000, () => "no batch of the run was evaluated")
    first.kill("SIGINT")
    expect(await exited(first)).toBe(130)
    expect(doneSoFar()).toBeLessThan(total / 2)
    const second = spawnVidpool(args, { cwd: dir })
    children.add(second)
    let stderr = ""
    second.stderr!.on("data", (d) => { stderr += d })
    expect(await exited(second), stderr).toBe(0)
    // The rows name the inputs as given (relative); their scores are the one-machine run's.
    const got = readJsonl(out)
    expect(got.samples.map((s) => s.index).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: total }, (_, i) => i))
    const byIndex = new Map(oneMachine.samples.map((s) => [s.index, s]))
    for (const sample of got.samples) {
      expect(sample.error).toBeUndefined()
      expect(sample.video).toBe(path.join("gen", path.basename(byIndex.get(sample.index)!.video as string)))
      expect(sample.scores).toEqual(byIndex.get(sample.index)!.scores)
    }
    expectSameCorpus(got, oneMachine)
    // The stopped run's batches were not interrupted: each was evaluated once over both runs.
    const done = runners.flatMap((r) => batchesOf(r.log, runId)).sort((a, b) => a - b)
    expect(done).toEqual(Array.from({ length: total / 2 }, (_, b) => b))
  }, 180_000)

  it("a bad or unreachable --db is one line and exit 2", async () => {
    for (const url of ["postgres://vidpool:vidpool@127.0.0.1:1/vidpool_test", "not a url", "mysql://x@y/z"]) {
      const result = await vidpool(["eval", gen, "--cluster", "--db", url])
      expect(result.code, result.stderr).toBe(2)
      const lines = result.stderr.split("\n").filter((l) => l.length > 0)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^vidpool: cannot use the database /)
      const runner = await vidpool(["runner", "--db", url, "--listen", "127.0.0.1:1"])
      expect(runner.code).toBe(2)
      expect(runner.stderr.split("\n").filter((l) => l.length > 0)).toHaveLength(1)
    }
    const noDb = await vidpool(["eval", gen, "--cluster"], { env: { VIDPOOL_DB: "" } })
    expect(noDb.code).toBe(2)
    expect(noDb.stderr).toMatch(/--cluster needs --db/)
  })
})
