import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { hasStackTrace, lines, makeClip, removeDir, tempDir, vidpool } from "./helpers.ts"

// Every bad input ends the command with one line on stderr naming the problem, nothing on
// stdout, a non-zero exit code, and no stack trace.
const expectOneLine = (result: { code: number | null; stdout: string; stderr: string }, code: number) => {
  assert.strictEqual(result.code, code, `exit code (stderr: ${result.stderr})`)
  assert.strictEqual(result.stdout, "")
  assert.lengthOf(lines(result.stderr), 1, `one line on stderr, got: ${result.stderr}`)
  assert.isFalse(hasStackTrace(result.stderr))
  return result.stderr.trim()
}

// Independent processes: run them side by side.
describe.concurrent("vidpool eval: bad input", () => {
  let dir: string
  let clip: string
  beforeAll(async () => {
    dir = tempDir()
    clip = await makeClip(path.join(dir, "clip.mp4"))
    fs.mkdirSync(path.join(dir, "empty"))
    fs.writeFileSync(path.join(dir, "empty", "notes.txt"), "not a video")
    fs.mkdirSync(path.join(dir, "refs"))
  })
  afterAll(() => removeDir(dir))

  it("with --on-error fail, names a path that does not exist", async () => {
    const missing = path.join(dir, "nope.mp4")
    const line = expectOneLine(await vidpool(["eval", clip, missing, "--on-error", "fail"]), 2)
    assert.strictEqual(line, `vidpool: ${missing}: no such file or folder`)
  })

  it("names a folder with no videos and the extensions it looked for", async () => {
    const line = expectOneLine(await vidpool(["eval", path.join(dir, "empty")]), 2)
    assert.include(line, `${path.join(dir, "empty")}: no videos in this folder`)
    assert.include(line, ".mp4")
  })

  it("names an unknown metric and lists the known ones", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--metrics", "psnr,nope"]), 2)
    assert.include(line, `Unknown metric "nope"`)
    assert.include(line, "psnr")
    assert.include(line, "ssim")
  })

  it("names a short name that fits several metrics and the metrics it could be", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--metrics", "s"]), 2)
    assert.strictEqual(line, `vidpool: Ambiguous metric "s": it could be common.ssim, quality.sharpness, vbench.subject_consistency; give the full name`)
  })

  it("gives the line number of a manifest line that is not JSON", async () => {
    const manifest = path.join(dir, "broken.jsonl")
    fs.writeFileSync(manifest, `{"video": "clip.mp4"}\n\n{"video": "clip.mp4",\n`)
    const line = expectOneLine(await vidpool(["eval", manifest]), 2)
    assert.match(line, new RegExp(`^vidpool: ${manifest}:3: not valid JSON`))
  })

  it("gives the line number of a manifest line without a video path", async () => {
    const manifest = path.join(dir, "novideo.jsonl")
    fs.writeFileSync(manifest, `{"video": "clip.mp4"}\n{"prompt": "a cat"}\n`)
    const line = expectOneLine(await vidpool(["eval", manifest]), 2)
    assert.strictEqual(line, `vidpool: ${manifest}:2: "video" must be a path (a non-empty string)`)
  })

  it("with --on-error fail, gives the line number of a manifest entry whose file is missing, resolved from the manifest's folder", async () => {
    const manifest = path.join(dir, "missing.jsonl")
    fs.writeFileSync(manifest, `{"video": "clip.mp4"}\n{"video": "gone.mp4", "prompt": "x"}\n`)
    const line = expectOneLine(await vidpool(["eval", manifest, "--on-error", "fail"]), 2)
    assert.strictEqual(line, `vidpool: ${manifest}:2: video ${path.join(dir, "gone.mp4")}: no such file or folder`)
  })

  it("names a video that has no reference of the same name in --reference", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--reference", path.join(dir, "refs")]), 2)
    assert.include(line, `${clip}: no reference for it: ${path.join(dir, "refs", "clip.mp4")} does not exist`)
  })

  it("names an unknown flag value and the accepted ones", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--format", "xml"]), 2)
    assert.include(line, `Invalid value for flag --format: "xml"`)
    assert.include(line, `"table" | "json" | "jsonl" | "csv"`)
  })

  it("refuses a worker count below 1", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--workers", "0"]), 2)
    assert.strictEqual(line, "vidpool: --workers must be an integer from 1 to 4096, got 0")
  })

  it("names a malformed setting in the environment", async () => {
    const line = expectOneLine(await vidpool(["eval", clip], { env: { VIDPOOL_WORKERS: "many" } }), 2)
    assert.strictEqual(
      line,
      `vidpool: the environment variable VIDPOOL_WORKERS (--workers) must be an integer from 1 to 4096, got "many"`
    )
  })

  it("names every VIDPOOL_* variable set to a bad value in one clear line", async () => {
    const bad: Record<string, string> = {
      VIDPOOL_ON_ERROR: "sometimes",
      VIDPOOL_DECODER: "gpu",
      VIDPOOL_WORKERS: "0",
      VIDPOOL_LOADER_THREADS: "1.5",
      VIDPOOL_PREFETCH_FACTOR: "99999",
      VIDPOOL_DECODE_THREADS: "x",
      VIDPOOL_FFMPEG_THREADS: "-1",
      VIDPOOL_PROGRESS: "loud",
      VIDPOOL_DEBUG: "yes",
      VIDPOOL_KERNELS: "gpu",
      VIDPOOL_SCRATCH_DIR: " "
    }
    for (const [name, value] of Object.entries(bad)) {
      const line = expectOneLine(await vidpool(["eval", clip], { env: { [name]: value } }), 2)
      assert.match(line, new RegExp(`^vidpool: the environment variable ${name} \\(.+\\) must be .+, got ${JSON.stringify(value)}$`))
      assert.notInclude(line, "SchemaError")
      assert.notInclude(line, "config")
    }
  })

  it("says where it looked when there is no ffmpeg", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--decoder", "ffmpeg"], { env: { FFMPEG_PATH: "/no/such/ffmpeg" } }), 1)
    assert.strictEqual(
      line,
      "vidpool: no ffmpeg binary found (looked at: FFMPEG_PATH (/no/such/ffmpeg)); set FFMPEG_PATH to one, " +
        "put ffmpeg on PATH, or install @vidpool/ffmpeg's optional dependencies"
    )
  })

  it("refuses an unknown flag", async () => {
    const line = expectOneLine(await vidpool(["eval", clip, "--colour"]), 2)
    assert.include(line, "Unrecognized flag: --colour")
  })

  it("checks that --out can be written before the run starts", async () => {
    const out = path.join(dir, "no-such-folder", "scores.json")
    const line = expectOneLine(await vidpool(["eval", clip, "--out", out]), 2)
    assert.strictEqual(line, `vidpool: ${out}: cannot write the output here: ${path.dirname(out)}: no such folder`)
  })

  it("refuses an --out that is a folder, and leaves nothing in it", async () => {
    const out = path.join(dir, "refs")
    const line = expectOneLine(await vidpool(["eval", clip, "--out", out]), 2)
    assert.include(line, "it is a folder")
    assert.deepStrictEqual(fs.readdirSync(out), [])
  })

  it("names an unknown command", async () => {
    const line = expectOneLine(await vidpool(["evaluate", clip]), 2)
    assert.include(line, `Unknown subcommand "evaluate"`)
  })
})
