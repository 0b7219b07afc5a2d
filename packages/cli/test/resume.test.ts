import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Resume from "../src/internal/Resume.ts"
import * as RunSettings from "../src/internal/RunSettings.ts"
import { ffmpegPath, lines, makeClip, removeDir, spawnVidpool, tempDir, vidpool } from "./helpers.ts"

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

/**
 * Resolves once `file` holds at least `count` sample lines: looked at on each change the file
 * system reports in its folder (the file may not exist yet); fails after `timeoutMs`.
 */
const untilSampleLines = (file: string, count: number, timeoutMs: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file))
    const timer = setTimeout(() => done(new Error(`${file} did not reach ${count} results within ${timeoutMs} ms`)), timeoutMs)
    const done = (error?: Error) => {
      watcher.close()
      clearTimeout(timer)
      if (error === undefined) resolve()
      else reject(error)
    }
    const check = () => {
      if (fs.existsSync(file) && sampleLines(file).length >= count) done()
    }
    watcher.on("change", check)
    check()
  })

describe("vidpool eval --out x.jsonl: nothing lost when a run is killed", () => {
  let dir: string
  let clips: string
  /** An ffmpeg that decodes like the real one, but holds c06.mp4 until `gate` is opened and closed by a writer. */
  let standIn: string
  let gate: string
  const metrics = ["--metrics", "sharpness,motion.frame_difference", "--workers", "1", "--loaders", "1"]
  beforeAll(async () => {
    dir = tempDir()
    clips = path.join(dir, "clips")
    fs.mkdirSync(clips)
    gate = path.join(dir, "gate")
    execFileSync("mkfifo", [gate])
    standIn = path.join(dir, "ffmpeg")
    fs.writeFileSync(standIn, `#!/bin/sh\ncase "$*" in *c06.mp4*) exec 3<'${gate}'; read -r _ <&3; exec 3<&-;; esac\nexec '${ffmpegPath}' "$@"\n`)
    fs.chmodSync(standIn, 0o755)
    for (let i = 0; i < 12; i++) {
      await makeClip(path.join(clips, `c${String(i).padStart(2, "0")}.mp4`), { width: 160, height: 120, frames: 40, source: i % 2 === 0 ? "testsrc2" : "noise" })
    }
    fs.writeFileSync(path.join(clips, "c99.mp4"), "not a video\n")
  })
  afterAll(() => removeDir(dir))

  it("killed by SIGKILL halfway, a run resumed with --resume writes what an uninterrupted run writes", async () => {
    const full = path.join(dir, "full.jsonl")
    const whole = await vidpool(["eval", clips, ...metrics, "--decoder", "ffmpeg", "--out", full, "-q"])
    assert.strictEqual(whole.code, 0, whole.stderr)
    const out = path.join(dir, "killed.jsonl")
    const child = spawnVidpool(["eval", clips, ...metrics, "--decoder", "ffmpeg", "--out", out, "-q"], { env: { FFMPEG_PATH: standIn } })
    const exited = new Promise((resolve) => child.on("exit", resolve))
    // Opening the gate for writing returns once the decode of c06.mp4 waits on it: with one
    // loader, nothing after it is decoded, so the run can write the six results before it and no
    // more. Each is appended as it finishes: kill once the six are there.
    const writer = await fs.promises.open(gate, "w")
    try {
      await untilSampleLines(out, 6, 60_000)
      child.kill("SIGKILL")
      await exited
    } finally {
      await writer.close()
    }
    const before = sampleLines(out).length
    assert.strictEqual(before, 6)
    assert.isTrue(fs.readdirSync(dir).some((f) => f.startsWith(".killed.jsonl.") && f.endsWith(".tmp")), "the killed run left its temporary file")
    const resumed = await vidpool(["eval", clips, ...metrics, "--decoder", "ffmpeg", "--out", out, "--resume"])
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
    assert.include(changed.stderr, `${out}:2: sample 0 was ${path.join(clips, "c00.mp4")}, the inputs now give ${path.join(clips, "c01.mp4")} there`)
    const scored = await vidpool(["eval", clips, "--metrics", "sharpness", "--out", out, "--resume"])
    assert.strictEqual(scored.code, 2)
    assert.include(
      scored.stderr,
      `was made with the metrics motion.frame_difference, quality.sharpness, this run has the metric quality.sharpness`
    )
    const notJsonl = await vidpool(["eval", clips, "--metrics", "sharpness", "--out", path.join(dir, "x.json"), "--resume"])
    assert.strictEqual(notJsonl.code, 2)
    assert.include(notJsonl.stderr, "--resume and --retry-errors need --out with a .jsonl file")
  }, 120_000)
})

describe("vidpool eval --resume: nothing mixed with results of other settings", () => {
  let dir: string
  let clips: string
  let base: string
  let header: Record<string, any>
  const args = ["--metrics", "sharpness", "--decoder", "libav", "--size", "32", "-q"]
  beforeAll(async () => {
    dir = tempDir()
    clips = path.join(dir, "clips")
    fs.mkdirSync(clips)
    for (let i = 0; i < 4; i++) await makeClip(path.join(clips, `c${i}.mp4`), { source: i % 2 === 0 ? "testsrc2" : "mandelbrot" })
    base = path.join(dir, "base.jsonl")
    const made = await vidpool(["eval", clips, ...args, "--out", base])
    assert.strictEqual(made.code, 0, made.stderr)
    header = JSON.parse(fs.readFileSync(base, "utf8").split("\n")[0])
  }, 60_000)
  afterAll(() => removeDir(dir))

  /** The file a run killed after 2 samples leaves, its settings line edited by `edit`. */
  const killedRun = (name: string, edit: (settings: Record<string, any>) => Record<string, any> = (h) => h) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, [JSON.stringify(edit(structuredClone(header))), ...sampleLines(base).slice(0, 2)].join("\n") + "\n")
    return file
  }

  /** A resume of `file` with `flags` is refused, one line, exit 2, the file untouched. */
  const expectRefused = async (file: string, flags: ReadonlyArray<string>, made: string, has: string) => {
    const before = fs.readFileSync(file)
    const result = await vidpool(["eval", clips, ...flags, "--out", file, "--resume"])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), [
      `vidpool: --resume: ${file} was made with ${made}, this run has ${has}; run again with the same settings or a new --out`
    ])
    assert.deepStrictEqual(fs.readFileSync(file), before)
  }

  it("stores the run's settings as the first line of its JSON Lines output", () => {
    assert.deepStrictEqual(header, {
      type: "settings",
      decode: { width: 32, height: 32, resize: "exact" },
      decoder: "libav",
      ffmpeg: header.ffmpeg,
      metrics: { "quality.sharpness": "1" },
      models: {}
    })
    assert.isString(header.ffmpeg)
  })

  const flagCases: ReadonlyArray<readonly [string, ReadonlyArray<string>, string, string]> = [
    ["--size", ["--metrics", "sharpness", "--decoder", "libav"], "--size 32x32", "the native size"],
    ["--fps", [...args, "--fps", "5"], "the native frame rate", "--fps 5"],
    ["--frames", [...args, "--frames", "3"], "every frame", "--frames 3"],
    ["--repeat-frames", [...args, "--repeat-frames"], "no --repeat-frames", "--repeat-frames"]
  ]
  for (const [flag, flags, made, has] of flagCases) {
    it(`refuses a resume with another ${flag}, naming it`, async () => {
      await expectRefused(killedRun(`flag${flag}.jsonl`), flags, made, has)
    })
  }

  it("refuses a resume with another decoder, and compares the decoder --decoder auto resolves to", async () => {
    const file = killedRun("decoder.jsonl")
    const ffmpeg = await vidpool(["eval", clips, "--size", "32", "--metrics", "sharpness", "--decoder", "ffmpeg", "-q", "--out", path.join(dir, "by-ffmpeg.jsonl")])
    assert.strictEqual(ffmpeg.code, 0, ffmpeg.stderr)
    const other = JSON.parse(fs.readFileSync(path.join(dir, "by-ffmpeg.jsonl"), "utf8").split("\n")[0]).ffmpeg
    await expectRefused(
      file,
      ["--metrics", "sharpness", "--decoder", "ffmpeg", "--size", "32"],
      `the libav decoder and FFmpeg ${header.ffmpeg}`,
      `the ffmpeg decoder and FFmpeg ${other}`
    )
    // auto resolves to the in-process decoder here, as the stored run had it: the resume goes on.
    const auto = await vidpool(["eval", clips, "--metrics", "sharpness", "--decoder", "auto", "--size", "32", "--out", file, "--resume"])
    assert.strictEqual(auto.code, 0, auto.stderr)
    assert.include(auto.stderr, `resuming: 2 of 4 samples are already in ${file}`)
    assert.deepStrictEqual(sampleLines(file), sampleLines(base))
  }, 60_000)

  const storedCases: ReadonlyArray<readonly [string, (h: Record<string, any>) => Record<string, any>, () => string, () => string]> = [
    ["gray frames", (h) => ({ ...h, decode: { ...h.decode, pixelFormat: "gray" } }), () => "gray frames", () => "colour frames"],
    [
      "a start and an end",
      (h) => ({ ...h, decode: { ...h.decode, start: 0.5, end: 2 } }),
      () => "a start at 0.5 s and an end at 2 s",
      () => "each clip from its start and each clip to its end"
    ],
    ["another FFmpeg", (h) => ({ ...h, ffmpeg: "4.4-old" }), () => "FFmpeg 4.4-old", () => `FFmpeg ${header.ffmpeg}`],
    [
      "another version of a metric",
      (h) => ({ ...h, metrics: { "quality.sharpness": "0" } }),
      () => "quality.sharpness version 0",
      () => "quality.sharpness version 1"
    ],
    [
      "a model file",
      (h) => ({ ...h, models: { "i3d.onnx": "sha256:ab12" } }),
      () => "the model i3d.onnx (sha256:ab12)",
      () => "no model i3d.onnx"
    ],
    ["a setting this version does not know", (h) => ({ ...h, kernels: "gpu" }), () => "kernels gpu", () => "no kernels"]
  ]
  for (const [what, edit, made, has] of storedCases) {
    it(`refuses to resume results made with ${what}, naming it`, async () => {
      await expectRefused(killedRun(`${what.replace(/ /g, "-")}.jsonl`, edit), args, made(), has())
    })
  }

  it("refuses to resume a file with no stored settings (written by an earlier vidpool): they cannot be checked", async () => {
    const file = path.join(dir, "earlier.jsonl")
    fs.writeFileSync(file, sampleLines(base).slice(0, 2).join("\n") + "\n")
    const before = fs.readFileSync(file)
    const result = await vidpool(["eval", clips, ...args, "--out", file, "--resume"])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), [
      `vidpool: --resume: ${file} holds no record of the settings its results were made with (it was written by ` +
      `vidpool 0.2 or earlier), so they cannot be checked against this run's; run again without --resume, or with a new --out`
    ])
    assert.deepStrictEqual(fs.readFileSync(file), before)
  })
})

describe("RunSettings", () => {
  const settings = RunSettings.make({
    decode: { numFrames: 8, timeout: 5000, maxBytes: 1024 },
    decoder: { name: "ffmpeg", version: "7.1", path: "/usr/bin/ffmpeg" },
    metrics: ["common.psnr"],
    catalogue: [{ name: "common.psnr", kind: "sample", needs: ["video", "reference"], description: "", version: "3" }]
  })

  it("keeps the decode options that change a score, and the metrics' versions", () => {
    assert.deepStrictEqual(settings, {
      decode: { numFrames: 8 },
      decoder: "ffmpeg",
      ffmpeg: "7.1",
      metrics: { "common.psnr": "3" },
      models: {}
    })
    assert.deepStrictEqual(RunSettings.differences(JSON.parse(RunSettings.line(settings)), settings), [])
  })

  it("names a cluster's decoder as the runners resolve it", () => {
    const cluster = RunSettings.make({ decode: {}, decoder: { cluster: "auto" }, metrics: [], catalogue: [] })
    assert.deepStrictEqual(RunSettings.differences({ ...cluster, decoder: "libav", ffmpeg: "7.1" }, cluster), [
      { was: "the libav decoder", now: "--decoder auto on the cluster's runners" },
      { was: "FFmpeg 7.1", now: "the runners' FFmpeg" }
    ])
  })

  it("names every setting of a stored record that is not an object", () => {
    assert.deepInclude(RunSettings.differences(null, settings), { was: "every frame", now: "--frames 8" })
    assert.deepInclude(RunSettings.differences("x", settings), { was: "no recorded decoder", now: "the ffmpeg decoder" })
  })
})
