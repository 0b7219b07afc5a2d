import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Resume from "../src/Resume.ts"
import { lines, makeClip, removeDir, spawnVidpool, tempDir, vidpool } from "./helpers.ts"

const sampleLines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes(`"type":"sample"`))
const runLine = (file: string) => JSON.parse(fs.readFileSync(file, "utf8").trim().split("\n").at(-1)!)

describe("Resume.renumber", () => {
  it("renumbers the sample an error names, not words of its path", () => {
    assert.strictEqual(
      Resume.renumber(`Cannot decode /x/sample 1.mp4 (sample 1, field "video"): no such file or folder`, 1, 7),
      `Cannot decode /x/sample 1.mp4 (sample 7, field "video"): no such file or folder`
    )
    assert.strictEqual(Resume.renumber(`metric m failed on sample 2: boom`, 2, 5), `metric m failed on sample 5: boom`)
  })
})

describe("vidpool eval --out x.jsonl: nothing lost when a run is killed", () => {
  let dir: string
  let clips: string
  const metrics = ["--metrics", "sharpness,motion.frame_difference", "--workers", "1", "--loaders", "1"]
  beforeAll(async () => {
    dir = tempDir()
    clips = path.join(dir, "clips")
    fs.mkdirSync(clips)
    for (let i = 0; i < 12; i++) {
      await makeClip(path.join(clips, `c${String(i).padStart(2, "0")}.mp4`), { width: 160, height: 120, frames: 40, source: i % 2 === 0 ? "testsrc2" : "noise" })
    }
    fs.writeFileSync(path.join(clips, "c99.mp4"), "not a video\n")
  })
  afterAll(() => removeDir(dir))

  it("killed by SIGKILL halfway, a run resumed with --resume writes what an uninterrupted run writes", async () => {
    const full = path.join(dir, "full.jsonl")
    const whole = await vidpool(["eval", clips, ...metrics, "--out", full, "-q"])
    assert.strictEqual(whole.code, 0, whole.stderr)
    const out = path.join(dir, "killed.jsonl")
    const child = spawnVidpool(["eval", clips, ...metrics, "--out", out, "-q"])
    const exited = new Promise((resolve) => child.on("exit", resolve))
    // Each result is appended as it finishes: kill once some are there, before the end.
    for (let k = 0; k < 600 && (!fs.existsSync(out) || sampleLines(out).length < 4); k++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    child.kill("SIGKILL")
    await exited
    const before = sampleLines(out).length
    assert.isAtLeast(before, 4)
    assert.isBelow(before, 13, "killed before the end")
    assert.isTrue(fs.readdirSync(dir).some((f) => f.startsWith(".killed.jsonl.") && f.endsWith(".tmp")), "the killed run left its temporary file")
    const resumed = await vidpool(["eval", clips, ...metrics, "--out", out, "--resume"])
    assert.strictEqual(resumed.code, 0, resumed.stderr)
    assert.include(resumed.stderr, `resuming: ${before} of 13 samples are already in ${out}`)
    assert.include(resumed.stderr, `progress: ${13 - before}/${13 - before}`)
    assert.deepStrictEqual(sampleLines(out), sampleLines(full))
    const run = runLine(out)
    const expected = runLine(full)
    assert.deepStrictEqual({ ...run, timing: undefined }, { ...expected, timing: undefined })
    // A later run on the same --out removed the stale temporary file.
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  }, 120_000)

  it("--retry-errors evaluates again the samples recorded as errors, and only those", async () => {
    const out = path.join(dir, "retry.jsonl")
    assert.strictEqual((await vidpool(["eval", clips, ...metrics, "--out", out, "-q"])).code, 0)
    // A last line cut short by a kill is dropped, not glued to the next line appended.
    fs.appendFileSync(out, `{"type":"sample","index":3,"vid`)
    const again = await vidpool(["eval", clips, ...metrics, "--out", out, "--retry-errors"])
    assert.strictEqual(again.code, 0, again.stderr)
    assert.include(again.stderr, "resuming: 12 of 13 samples")
    assert.include(again.stderr, "progress: 1/1")
    assert.lengthOf(sampleLines(out), 13)
    const nothing = await vidpool(["eval", clips, ...metrics, "--out", out, "--resume"])
    assert.include(nothing.stderr, "resuming: 13 of 13 samples")
  }, 120_000)

  it("a fresh run that fails before any result leaves the previous results file as it was", async () => {
    const out = path.join(dir, "previous.jsonl")
    fs.writeFileSync(out, `{"type":"sample","index":0}\n`)
    const failed = await vidpool(["eval", path.join(clips, "c99.mp4"), ...metrics, "--out", out, "--on-error", "fail", "-q"])
    assert.strictEqual(failed.code, 1, failed.stderr)
    assert.strictEqual(fs.readFileSync(out, "utf8"), `{"type":"sample","index":0}\n`)
  }, 60_000)

  it("refuses to resume from the results of other inputs or other metrics, naming the line", async () => {
    const out = path.join(dir, "other.jsonl")
    assert.strictEqual((await vidpool(["eval", clips, ...metrics, "--out", out, "-q"])).code, 0)
    const manifest = path.join(dir, "changed.jsonl")
    fs.writeFileSync(manifest, [path.join(clips, "c01.mp4"), path.join(clips, "c00.mp4")].map((video) => JSON.stringify({ video })).join("\n"))
    const changed = await vidpool(["eval", manifest, ...metrics, "--out", out, "--resume"])
    assert.strictEqual(changed.code, 2, changed.stderr)
    assert.lengthOf(lines(changed.stderr), 1)
    assert.include(changed.stderr, `${out}:1: sample 0 was ${path.join(clips, "c00.mp4")}, the inputs now give ${path.join(clips, "c01.mp4")} there`)
    const scored = await vidpool(["eval", clips, "--metrics", "sharpness", "--out", out, "--resume"])
    assert.strictEqual(scored.code, 2)
    assert.include(scored.stderr, "was scored with")
    const notJsonl = await vidpool(["eval", clips, "--metrics", "sharpness", "--out", path.join(dir, "x.json"), "--resume"])
    assert.strictEqual(notJsonl.code, 2)
    assert.include(notJsonl.stderr, "--resume and --retry-errors need --out with a .jsonl file")
  }, 120_000)
})
