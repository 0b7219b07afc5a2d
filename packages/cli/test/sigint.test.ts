import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { descendants, isRunning, makeClip, removeDir, spawnVidpool, tempDir } from "./helpers.ts"

describe("vidpool eval: Ctrl-C", () => {
  let dir: string
  beforeAll(async () => {
    dir = tempDir()
    await makeClip(path.join(dir, "a.mp4"))
    // A named pipe: ffmpeg blocks reading it until a writer opens it, so the run cannot finish
    // and an ffmpeg child is certainly running when the test interrupts.
    execFileSync("mkfifo", [path.join(dir, "stuck.mp4")])
  })
  afterAll(() => removeDir(dir))

  it("on SIGINT, stops every ffmpeg child, writes the results so far marked incomplete, and exits 130", async () => {
    const out = path.join(dir, "partial.json")
    const child = spawnVidpool(["eval", path.join(dir, "a.mp4"), path.join(dir, "stuck.mp4"), "--metrics", "sharpness", "--out", out])
    let stderr = ""
    let stdout = ""
    child.stdout.on("data", (d) => { stdout += d })
    const firstDone = new Promise<void>((resolve) => {
      child.stderr.on("data", (d) => {
        stderr += d
        if (stderr.includes("progress: 1/2")) resolve()
      })
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }))
    })
    // Opening the pipe for writing returns once ffmpeg has opened it for reading.
    const writer = await fs.promises.open(path.join(dir, "stuck.mp4"), "w")
    try {
      await firstDone
      const running = descendants(child.pid!).filter((p) => p.comm === "ffmpeg")
      assert.isAtLeast(running.length, 1, "an ffmpeg child is decoding the pipe")
      child.kill("SIGINT")
      const { code, signal } = await exited
      assert.strictEqual(code, 130)
      assert.isNull(signal)
      for (const p of running) assert.isFalse(isRunning(p.pid), `ffmpeg ${p.pid} was left running`)
    } finally {
      await writer.close()
    }
    assert.strictEqual(stdout, "")
    assert.include(stderr, `vidpool: interrupted after 1 of 2 samples; the results so far are in ${out} (marked incomplete)`)
    const report = JSON.parse(fs.readFileSync(out, "utf8"))
    assert.strictEqual(report.complete, false)
    assert.strictEqual(report.total, 2)
    assert.strictEqual(report.evaluated, 1)
    assert.strictEqual(report.samples[0].video, path.join(dir, "a.mp4"))
    assert.isAbove(report.samples[0].scores["quality.sharpness"], 0)
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  })
})
