// `vidpool runner` hands a cluster run's model settings on to the engine that scores its batches,
// as real processes over the tests' PostgreSQL: the model files and their digests (a runner that
// reads other bytes under the coordinator's path refuses with a `ModelError`, `Changed`), the
// execution providers and the reference cache's mode.
//
// Two machines with their own disks, on one: the model path `/proc/self/cwd/dino.onnx` names a
// file in the working folder of the process that reads it, so the coordinator (started in one
// folder) and the runner (started in another) read the same path and each its own bytes.
import type { ChildProcess } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../../../test/database/Postmaster.ts"
import { requireDatabase, testDb } from "../../../test/database/testDb.ts"
import { dropClusterTables, exited, lines, makeClip, removeDir, spawnVidpool, tempDir, vidpool } from "./helpers.ts"

/** A cluster of this file's own in the shared database. */
const name = `runner_models_${process.pid}_${Date.now() % 100000}`
const models = path.join(import.meta.dirname, "..", "..", "eval", "test", "fixtures", "models")
/** The coordinator's model: DINO's tiny test export. */
const dinoA = path.join(models, "dino-tiny.onnx")
/** Another model of the same signature, with other weights. */
const dinoB = path.join(models, "dino-exported.onnx")
/** One path, read by each process in its own working folder. */
const perProcess = "/proc/self/cwd/dino.onnx"

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

describe("vidpool runner: a cluster run's model settings reach the runner's engine", () => {
  let dir: string
  /** The coordinator's working folder: the clips (in/), the references (ref/), its dino.onnx. */
  let coordinatorDir: string
  /** The runner's working folder: its dino.onnx, and its reference cache (cache/). */
  let runnerDir: string
  let runner: ChildProcess | undefined
  let runnerLog = ""
  let runs = 0

  beforeAll(async () => {
    await requireDatabase()
    dir = tempDir("vidpool-runner-models-")
    coordinatorDir = path.join(dir, "coordinator")
    runnerDir = path.join(dir, "runner")
    for (const folder of ["in", "ref"]) fs.mkdirSync(path.join(coordinatorDir, folder), { recursive: true })
    fs.mkdirSync(runnerDir)
    // 12 frames: common.fvd needs clips of at least 10.
    for (let i = 0; i < 3; i++) {
      await makeClip(path.join(coordinatorDir, "ref", `c${i}.mp4`), { frames: 12 })
      await makeClip(path.join(coordinatorDir, "in", `c${i}.mp4`), { frames: 12, filter: `gblur=sigma=${i + 1}` })
    }
    // The references of common.fvd as samples of role "reference", whose features the cache keeps.
    const manifest = [0, 1, 2].flatMap((i) => [{ video: `in/c${i}.mp4` }, { video: `ref/c${i}.mp4`, role: "reference" }])
    fs.writeFileSync(path.join(coordinatorDir, "corpus.jsonl"), manifest.map((line) => JSON.stringify(line)).join("\n") + "\n")
    fs.copyFileSync(dinoA, path.join(coordinatorDir, "dino.onnx"))
    fs.copyFileSync(path.join(models, "i3d-tiny.onnx"), path.join(coordinatorDir, "i3d.onnx"))

    const port = await freePort()
    runner = spawnVidpool(["runner", "--db", testDb, "--cluster-name", name, "--listen", `127.0.0.1:${port}`], {
      cwd: runnerDir,
      env: { VIDPOOL_CACHE_DIR: path.join(runnerDir, "cache") }
    })
    const started = runner
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the runner did not start: ${runnerLog}`)), 30_000)
      started.stderr!.on("data", (d) => {
        runnerLog += d
        if (runnerLog.includes("serving on")) {
          clearTimeout(timer)
          resolve()
        }
      })
      started.once("exit", (code) => reject(new Error(`the runner exited with ${code}: ${runnerLog}`)))
    })
  }, 120_000)

  afterAll(async () => {
    // The runner leaves the cluster on SIGTERM; killed if it has not exited within 10 s.
    if (runner !== undefined) {
      runner.kill("SIGTERM")
      let timer: NodeJS.Timeout | undefined
      await Promise.race([exited(runner), new Promise((resolve) => timer = setTimeout(resolve, 10_000))])
      clearTimeout(timer)
      if (runner.exitCode === null && runner.signalCode === null) runner.kill("SIGKILL")
      await exited(runner)
    }
    removeDir(dir)
    await dropClusterTables(testDb, name)
  })

  /** `vidpool eval ...args` in the coordinator's folder, on one machine or (`cluster`) over the runner. */
  const evaluate = (args: ReadonlyArray<string>, cluster: boolean) =>
    vidpool(
      ["eval", ...args, "--format", "csv", "--quiet", ...(cluster ? ["--cluster", "--db", testDb, "--cluster-name", name, "--run-id", `models-${Date.now()}-${runs++}`] : [])],
      { cwd: coordinatorDir, env: { VIDPOOL_CACHE_DIR: path.join(coordinatorDir, "cache") } }
    )

  const subjectConsistency = ["in", "--metrics", "vbench.subject_consistency"]

  it("scores with the coordinator's model when the runner reads the same bytes: the one-machine CSV", async () => {
    fs.copyFileSync(dinoA, path.join(runnerDir, "dino.onnx"))
    const local = await evaluate([...subjectConsistency, "--model", "dino=dino.onnx"], false)
    const sharded = await evaluate([...subjectConsistency, "--model", `dino=${perProcess}`], true)
    expect(local.code, local.stderr).toBe(0)
    expect(sharded.code, sharded.stderr).toBe(0)
    const rows = lines(local.stdout).slice(1)
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row).toMatch(/^\d,in\/c\d\.mp4,0\.\d+,$/)
    expect(sharded.stdout).toEqual(local.stdout)
  }, 120_000)

  it("refuses when the runner reads other bytes under the path: ModelError Changed, exit 2, one line naming the file and both digests", async () => {
    fs.copyFileSync(dinoB, path.join(runnerDir, "dino.onnx"))
    // The runner's bytes are a model that loads and scores, differently: a runner that did not
    // check them would score with it.
    const [withA, withB] = await Promise.all([
      evaluate([...subjectConsistency, "--model", "dino=dino.onnx"], false),
      evaluate([...subjectConsistency, "--model", `dino=${dinoB}`], false)
    ])
    expect(withA.code, withA.stderr).toBe(0)
    expect(withB.code, withB.stderr).toBe(0)
    expect(withB.stdout).not.toEqual(withA.stdout)

    const sharded = await evaluate([...subjectConsistency, "--model", `dino=${perProcess}`], true)
    expect(sharded.code, sharded.stderr).toBe(2)
    expect(sharded.stdout).toBe("")
    // The run's id, then the refusal, on one line.
    const [announced, line, ...rest] = lines(sharded.stderr)
    expect(announced).toMatch(/^cluster run models-\S+ \(to finish it/)
    expect(rest).toEqual([])
    // What the runner read (B) against what the coordinator's run was started with (A).
    expect(line).toBe(
      `vidpool: Model dino (${perProcess}) for vbench.subject_consistency: its content (SHA-256 ${sha256(dinoB).slice(0, 16)}...) ` +
        `is not the file the run was started with (SHA-256 ${sha256(dinoA).slice(0, 16)}...): put that file back at this path ` +
        `(on every runner, for a cluster run), then start the run again (a cluster run under a new --run-id: its refused ` +
        `batches are stored with their error)`
    )
  }, 120_000)

  it("runs the model with the run's execution providers (--model-providers)", async () => {
    fs.copyFileSync(dinoA, path.join(runnerDir, "dino.onnx"))
    // CUDA does not load on the test machine: the runner's engine, asked for it, refuses the model.
    const sharded = await evaluate([...subjectConsistency, "--model", `dino=${perProcess}`, "--model-providers", "cuda"], true)
    expect(sharded.code, sharded.stderr).toBe(2)
    const [announced, line, ...rest] = lines(sharded.stderr)
    expect(announced).toMatch(/^cluster run models-\S+ \(to finish it/)
    expect(rest).toEqual([])
    expect(line).toMatch(new RegExp(`^vidpool: Model dino \\(${perProcess}\\) for vbench\\.subject_consistency: the execution provider cuda does not load here`))
  }, 120_000)

  it("keeps no reference features with --reference-cache off, and keeps them without it", async () => {
    const features = path.join(runnerDir, "cache", "features")
    const fvd = ["corpus.jsonl", "--metrics", "common.fvd", "--model", "i3d=i3d.onnx"]
    const off = await evaluate([...fvd, "--reference-cache", "off"], true)
    expect(off.code, off.stderr).toBe(0)
    expect(off.stderr).toMatch(/corpus common\.fvd: \d+\.\d+/)
    expect(fs.existsSync(features)).toBe(false)
    const kept = await evaluate(fvd, true)
    expect(kept.code, kept.stderr).toBe(0)
    expect(fs.readdirSync(features).length).toBeGreaterThan(0)
    // Nothing was cached where the coordinator runs: the runner scored the references.
    expect(fs.existsSync(path.join(coordinatorDir, "cache"))).toBe(false)
  }, 120_000)
})
