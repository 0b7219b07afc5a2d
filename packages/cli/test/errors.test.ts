import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { binPath, hasStackTrace, lines, makeClip, packageDir, removeDir, spawnVidpool, tempDir, vidpool } from "./helpers.ts"

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
    assert.strictEqual(line, `vidpool: Ambiguous metric "s": it could be common.ssim, vidpool.ssim_luma, quality.sharpness, vbench.subject_consistency, physics_iq.spatiotemporal_iou, physics_iq.spatial_iou; give the full name`)
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

/** Runs `vidpool ...args` with stdout going to `stdout` (a file descriptor) instead of a pipe. */
const vidpoolTo = (stdout: number, args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: packageDir,
      env: { ...process.env, VIDPOOL_PROGRESS: "" },
      stdio: ["ignore", stdout, "pipe"]
    })
    let stderr = ""
    child.stderr!.on("data", (d) => { stderr += d })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout: "", stderr }))
  })

describe.concurrent("vidpool: an output that cannot be written", () => {
  let dir: string
  let clip: string
  /** A 64 KiB file system, filled to its last byte. */
  let full: string
  /** A file system mounted read-only. */
  let readOnly: string
  beforeAll(async () => {
    dir = tempDir()
    clip = await makeClip(path.join(dir, "clip.mp4"))
    full = path.join(dir, "full")
    readOnly = path.join(dir, "read-only")
    for (const [folder, options] of [[full, "size=64k"], [readOnly, "ro,size=64k"]]) {
      fs.mkdirSync(folder)
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", folder], { stdio: "pipe" })
      } catch (error) {
        throw new Error(`these tests mount small tmpfs file systems, which needs root (as in CI): ${String(error)}`)
      }
    }
    try {
      fs.writeFileSync(path.join(full, "filler"), Buffer.alloc(128 * 1024))
    } catch (error) {
      assert.strictEqual((error as NodeJS.ErrnoException).code, "ENOSPC")
    }
  })
  afterAll(() => {
    for (const folder of [full, readOnly]) {
      if (folder !== undefined) execFileSync("umount", [folder])
    }
    removeDir(dir)
  })

  for (const args of [["eval", "CLIP", "-q"], ["probe", "CLIP"], ["metrics"], ["--help"]]) {
    it(`vidpool ${args.join(" ")} with stdout on a full device: one line naming the cause and the remedy, exit code 1`, async () => {
      const devFull = fs.openSync("/dev/full", "w")
      try {
        const line = expectOneLine(await vidpoolTo(devFull, args.map((a) => a === "CLIP" ? clip : a)), 1)
        assert.strictEqual(
          line,
          "vidpool: cannot write to stdout: no space left on device (ENOSPC); free some space on the disk it goes to, or redirect it to another one"
        )
      } finally {
        fs.closeSync(devFull)
      }
    })
  }

  it("ends quietly, with exit code 0, when stdout's reader went away (vidpool eval ... | head)", async () => {
    const child = spawnVidpool(["eval", clip, "-q"])
    // The read end closed before vidpool writes its table: its write fails with EPIPE.
    child.stdout.destroy()
    let stderr = ""
    child.stderr.on("data", (d) => { stderr += d })
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
    assert.strictEqual(code, 0)
    assert.strictEqual(stderr, "")
  })

  it("--out on a full disk: one line naming the file, the cause and the remedy, exit code 1, no file left", async () => {
    const out = path.join(full, "scores.json")
    const line = expectOneLine(await vidpool(["eval", clip, "-q", "--metrics", "sharpness", "--out", out]), 1)
    assert.strictEqual(
      line,
      `vidpool: ${out}: cannot write it: no space left on device (ENOSPC); free some space on that disk, or give --out a file on another one`
    )
    assert.deepStrictEqual(fs.readdirSync(full).filter((name) => name.includes("scores.json")), [])
  })

  it("vidpool demo with TMPDIR on a read-only file system: one line naming the folder, the cause and the remedy", async () => {
    const line = expectOneLine(await vidpool(["demo", "-q"], { env: { TMPDIR: readOnly } }), 1)
    assert.strictEqual(
      line,
      `vidpool: cannot make a folder for the demo corpus in ${readOnly}: read-only file system (EROFS); ` +
        "set TMPDIR to a writable folder on a disk with space"
    )
  })

  it("vidpool demo with TMPDIR on a full disk: one line with ffmpeg's reason and the remedy, and no folder left", async () => {
    const line = expectOneLine(await vidpool(["demo", "-q"], { env: { TMPDIR: full } }), 1)
    assert.match(line, new RegExp(`^vidpool: ffmpeg could not make the demo corpus in ${full}/vidpool-demo-\\w+ \\(exit code \\d+\\): `))
    assert.include(line, "No space left on device")
    assert.match(line, /; set TMPDIR to a writable folder on a disk with space$/)
    assert.deepStrictEqual(fs.readdirSync(full).filter((name) => name.startsWith("vidpool-demo-")), [])
  })

  it("--out on a read-only file system: refused before the run, naming the cause and the remedy", async () => {
    const out = path.join(readOnly, "scores.json")
    const line = expectOneLine(await vidpool(["eval", clip, "--out", out]), 2)
    assert.strictEqual(
      line,
      `vidpool: ${out}: cannot write the output here: read-only file system (EROFS); give --out a file on a writable disk`
    )
  })
})
