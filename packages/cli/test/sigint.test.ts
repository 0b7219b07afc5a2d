import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { descendants, ffmpegPath, isRunning, makeClip, removeDir, spawnVidpool, tempDir } from "./helpers.ts"

describe("vidpool eval: Ctrl-C", () => {
  let dir: string
  let standIn: string
  let latch: string
  beforeAll(async () => {
    dir = tempDir()
    await makeClip(path.join(dir, "a.mp4"))
    fs.copyFileSync(path.join(dir, "a.mp4"), path.join(dir, "stuck.mp4"))
    // A stand-in for ffmpeg (named ffmpeg): it runs the real one, but for stuck.mp4 it first waits
    // on the FIFO `latch` until the test lets it go, so the run cannot finish and a decoder process
    // is certainly running when the test interrupts.
    fs.mkdirSync(path.join(dir, "bin"))
    standIn = path.join(dir, "bin", "ffmpeg")
    latch = path.join(dir, "bin", "latch")
    execFileSync("mkfifo", [latch])
    fs.writeFileSync(
      standIn,
      `#!/bin/sh\ncase "$*" in *stuck.mp4*) exec 3<'${latch}'; read -r _ <&3; exec 3<&-;; esac\nexec '${ffmpegPath}' "$@"\n`
    )
    fs.chmodSync(standIn, 0o755)
  })
  afterAll(() => removeDir(dir))

  /** Starts a run over a clip and the held one, waits until the held one's decoder runs and the clip is scored. */
  const startStuckRun = async (extra: ReadonlyArray<string>) => {
    const child = spawnVidpool(
      ["eval", path.join(dir, "a.mp4"), path.join(dir, "stuck.mp4"), "--metrics", "sharpness", "--decoder", "ffmpeg", ...extra],
      { env: { FFMPEG_PATH: standIn } }
    )
    const output = { stdout: "", stderr: "" }
    child.stdout.on("data", (d) => { output.stdout += d })
    const firstDone = new Promise<void>((resolve) => {
      child.stderr.on("data", (d) => {
        output.stderr += d
        if (output.stderr.includes("progress: 1/2")) resolve()
      })
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }))
    })
    // Opening the latch for writing returns once the decoder's process waits on it.
    const writer = await fs.promises.open(latch, "w")
    await firstDone
    return { child, output, exited, writer }
  }

  it("on SIGINT, stops every ffmpeg child, writes the results so far marked incomplete, and exits 130", async () => {
    const out = path.join(dir, "partial.json")
    const { child, exited, output, writer } = await startStuckRun(["--out", out])
    try {
      const running = descendants(child.pid!).filter((p) => p.comm === "ffmpeg")
      assert.isAtLeast(running.length, 1, "an ffmpeg child is decoding the held clip")
      child.kill("SIGINT")
      const { code, signal } = await exited
      assert.strictEqual(code, 130)
      assert.isNull(signal)
      for (const p of running) assert.isFalse(isRunning(p.pid), `ffmpeg ${p.pid} was left running`)
    } finally {
      await writer.close()
    }
    assert.strictEqual(output.stdout, "")
    assert.include(output.stderr, `vidpool: interrupted after 1 of 2 samples; the results so far are in ${out} (marked incomplete)`)
    const report = JSON.parse(fs.readFileSync(out, "utf8"))
    assert.strictEqual(report.complete, false)
    assert.strictEqual(report.total, 2)
    assert.strictEqual(report.evaluated, 1)
    assert.strictEqual(report.samples[0].video, path.join(dir, "a.mp4"))
    assert.isAbove(report.samples[0].scores["quality.sharpness"], 0)
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  })

  it("on SIGTERM without --out, prints no partial results and exits 130 with no ffmpeg left", async () => {
    const { child, exited, output, writer } = await startStuckRun([])
    try {
      const running = descendants(child.pid!).filter((p) => p.comm === "ffmpeg")
      assert.isAtLeast(running.length, 1)
      child.kill("SIGTERM")
      assert.strictEqual((await exited).code, 130)
      for (const p of running) assert.isFalse(isRunning(p.pid), `ffmpeg ${p.pid} was left running`)
    } finally {
      await writer.close()
    }
    assert.strictEqual(output.stdout, "")
    assert.include(output.stderr, "vidpool: interrupted after 1 of 2 samples\n")
  })

  it("two Ctrl-C 20 ms apart end the process with no temporary file left, and no half-written output", async () => {
    const out = path.join(dir, "twice.json")
    const { child, exited, writer } = await startStuckRun(["--out", out])
    try {
      child.kill("SIGINT")
      // A real 20 ms between the two is the case tested (a second Ctrl-C while the first one's
      // shutdown is under way), not a latch: whichever point the shutdown has reached, the
      // assertions below hold.
      await new Promise((resolve) => setTimeout(resolve, 20))
      child.kill("SIGINT")
      assert.strictEqual((await exited).code, 130)
    } finally {
      await writer.close()
    }
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
    // Either the partial results were written whole before the second Ctrl-C, or nothing was.
    if (fs.existsSync(out)) assert.strictEqual(JSON.parse(fs.readFileSync(out, "utf8")).complete, false)
  })
  /** The results so far in `out`, marked incomplete, and no temporary file left. */
  const expectIncomplete = (out: string) => {
    const report = JSON.parse(fs.readFileSync(out, "utf8"))
    assert.strictEqual(report.complete, false)
    assert.strictEqual(report.total, 2)
    assert.strictEqual(report.evaluated, 1)
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  }

  it("on SIGHUP (the session went away), stops as on SIGTERM: no ffmpeg left, the results so far marked incomplete, exit code 130", async () => {
    const out = path.join(dir, "hup.json")
    const { child, exited, output, writer } = await startStuckRun(["--out", out])
    try {
      const running = descendants(child.pid!).filter((p) => p.comm === "ffmpeg")
      assert.isAtLeast(running.length, 1)
      child.kill("SIGHUP")
      assert.deepStrictEqual(await exited, { code: 130, signal: null })
      for (const p of running) assert.isFalse(isRunning(p.pid), `ffmpeg ${p.pid} was left running`)
    } finally {
      await writer.close()
    }
    assert.include(output.stderr, `vidpool: interrupted after 1 of 2 samples; the results so far are in ${out} (marked incomplete)\n`)
    expectIncomplete(out)
  })

  it("on SIGHUP with its terminal gone too (stderr closed), still writes the results so far and exits 130", async () => {
    const out = path.join(dir, "gone.json")
    const { child, exited, writer } = await startStuckRun(["--out", out])
    try {
      // The ssh session dropped: nothing reads stderr any more, and the process gets SIGHUP.
      child.stderr.destroy()
      child.kill("SIGHUP")
      assert.deepStrictEqual(await exited, { code: 130, signal: null })
    } finally {
      await writer.close()
    }
    expectIncomplete(out)
  })
})
