import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describeReason, NotRegularFile } from "@vidpool/pool"
import { ffmpegPath, hasStackTrace, lines, makeClip, packageDir, removeDir, tempDir, vidpool } from "./helpers.ts"

// Root reads any file whatever its mode: the run that must meet an unreadable file runs as nobody.
const root = process.getuid?.() === 0
const asUser = root ? { uid: 65534 } : {}

/**
 * For a run as nobody: the folders above the package (a clone in a private temporary folder, say)
 * made traversable for the test's duration; gives back a function that restores their modes.
 */
const traversable = (): (() => void) => {
  const changed: Array<readonly [string, number]> = []
  if (root) {
    for (let dir = packageDir; ; dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode & 0o7777
      if ((mode & 0o001) === 0) {
        fs.chmodSync(dir, mode | 0o001)
        changed.push([dir, mode])
      }
      if (path.dirname(dir) === dir) break
    }
  }
  return () => {
    for (const [dir, mode] of changed) fs.chmodSync(dir, mode)
  }
}

interface JsonSample {
  readonly index: number
  readonly video: string
  readonly scores: Record<string, number | null>
  readonly details?: Record<string, { readonly frames?: number }>
  readonly error?: { readonly message: string; readonly reason?: string }
}
/** ffmpeg processes still running whose command line names `file` (the other tests here decode in process). */
const readersOf = (file: string): Array<string> =>
  fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).flatMap((pid) => {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
      const command = argv.join(" ")
      return path.basename(argv[0] ?? "").startsWith("ffmpeg") && command.includes(file) ? [`${pid}: ${command}`] : []
    } catch {
      return []
    }
  })
const samplesOf = (stdout: string): Array<JsonSample> => (JSON.parse(stdout) as { samples: Array<JsonSample> }).samples

describe.concurrent("vidpool eval: awkward inputs", () => {
  let dir: string
  let clip: string
  let unreadable: string
  let frames: string
  let fake: string
  let restore = () => {}
  beforeAll(async () => {
    restore = traversable()
    dir = tempDir()
    fs.chmodSync(dir, 0o755)
    clip = await makeClip(path.join(dir, "clip.mp4"))
    unreadable = await makeClip(path.join(dir, "locked.mp4"))
    fs.chmodSync(unreadable, 0o000)
    frames = path.join(dir, "frames")
    fs.mkdirSync(frames)
    execFileSync(ffmpegPath, ["-v", "error", "-y", "-i", clip, "-frames:v", "5", path.join(frames, "f%03d.png")])
    // A folder named like a video, holding nothing a decoder reads.
    fake = path.join(dir, "fake.mp4")
    fs.mkdirSync(fake)
    fs.writeFileSync(path.join(fake, "notes.txt"), "not a picture")
    fs.writeFileSync(
      path.join(dir, "list.jsonl"),
      [{ video: "frames", prompt: "images" }, { video: "clip.mp4" }, { video: "gone.mp4" }].map((l) => JSON.stringify(l)).join("\n") + "\n"
    )
  })
  afterAll(() => {
    restore()
    removeDir(dir)
  })

  it("--on-error record: a missing path, an unreadable file and a folder named like a video are each their sample's error; the rest is scored", async () => {
    const missing = path.join(dir, "nope.mp4")
    const result = await vidpool(
      ["eval", clip, missing, unreadable, fake, "--metrics", "sharpness", "--format", "json", "--on-error", "record", "-q"],
      asUser
    )
    assert.strictEqual(result.code, 0, result.stderr)
    const samples = samplesOf(result.stdout)
    assert.deepStrictEqual(samples.map((s) => s.video), [clip, missing, unreadable, fake])
    assert.isNumber(samples[0].scores["quality.sharpness"])
    assert.isUndefined(samples[0].error)
    assert.deepStrictEqual(samples.slice(1).map((s) => s.error?.reason), ["NotFound", "PermissionDenied", "InvalidData"])
    assert.include(samples[1].error?.message, "no such file or folder")
    assert.include(samples[2].error?.message, "permission denied")
    assert.include(samples[3].error?.message, "no image")
    assert.include(result.stderr, "4 samples")
    assert.include(result.stderr, "3 errors")
  })

  it("--on-error fail: every bad input is named in one line, before anything runs", async () => {
    const missing = path.join(dir, "nope.mp4")
    const result = await vidpool(["eval", clip, missing, unreadable, fake, "--metrics", "sharpness", "--on-error", "fail"], asUser)
    assert.strictEqual(result.code, 2, result.stderr)
    assert.strictEqual(result.stdout, "")
    assert.lengthOf(lines(result.stderr), 1, result.stderr)
    assert.isFalse(hasStackTrace(result.stderr))
    const line = result.stderr.trim()
    assert.include(line, "3 inputs cannot be used")
    assert.include(line, `${missing}: no such file or folder`)
    assert.include(line, `${unreadable}: permission denied`)
    assert.include(line, `${fake}: no videos in this folder`)
  })

  it("a folder of images and no videos is one video, on the command line and in a manifest", async () => {
    const direct = await vidpool(["eval", frames, "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(direct.code, 0, direct.stderr)
    const [one] = samplesOf(direct.stdout)
    assert.isNumber(one.scores["quality.sharpness"])
    assert.strictEqual(one.details?.["quality.sharpness"].frames, 5)
    assert.include(direct.stderr, "1 sample in")
    const listed = await vidpool(["eval", path.join(dir, "list.jsonl"), "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(listed.code, 0, listed.stderr)
    const samples = samplesOf(listed.stdout)
    assert.lengthOf(samples, 3)
    assert.strictEqual(samples[0].scores["quality.sharpness"], one.scores["quality.sharpness"])
    assert.isNumber(samples[1].scores["quality.sharpness"])
    assert.include(samples[2].error?.message, "no such file or folder")
  })

  it("--metrics psnr without references says on stderr why its column is empty", async () => {
    const result = await vidpool(["eval", clip, "--metrics", "psnr", "-q"])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stderr, "common.psnr needs reference, which no sample has")
    assert.include(result.stderr, "--reference")
  })

  it("an option that can never work is a usage error before the run: one line, exit 2", async () => {
    const result = await vidpool(["eval", clip, "--size", "100000x100000"])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.lengthOf(lines(result.stderr), 1, result.stderr)
    assert.include(result.stderr, "width must be at most 16384")
  })

  it("hostile numbers end at once in a recorded TooLarge with the true size, not in memory exhaustion", async () => {
    const result = await vidpool(["eval", clip, "--fps", "1e8", "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(result.code, 0, result.stderr)
    const [sample] = samplesOf(result.stdout)
    // 8 frames at 10 fps resampled to 1e8 fps: 8e7 frames of 64x48x3 bytes.
    assert.include(sample.error?.message, `would take ${8e7 * 64 * 48 * 3} bytes`)
    // The command-line decoder too, with nothing left running that reads the clip.
    const sized = await vidpool(["eval", clip, "--size", "10000x10000", "--decoder", "ffmpeg", "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(sized.code, 0, sized.stderr)
    assert.include(samplesOf(sized.stdout)[0].error?.message, `would take ${8 * 10000 * 10000 * 3} bytes`)
    assert.deepStrictEqual(readersOf(clip), [])
    const frames = await vidpool(["eval", clip, "--frames", "99999999999", "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(frames.code, 0, frames.stderr)
    assert.isNumber(samplesOf(frames.stdout)[0].scores["quality.sharpness"])
  })

  for (const decoder of ["ffmpeg", "libav"] as const) {
    it(`a FIFO, a device and a symbolic link loop get the same words on every path (recorded, --on-error fail, probe) with --decoder ${decoder}, and nothing hangs`, async () => {
      const place = fs.mkdtempSync(path.join(dir, `special-${decoder}-`))
      const fifo = path.join(place, "live.mp4")
      execFileSync("mkfifo", [fifo])
      // A writer that never writes (opened read-write, so without waiting for a reader).
      const writer = fs.openSync(fifo, "r+")
      const loop = path.join(place, "loop.mp4")
      fs.symlinkSync("loop.mp4", loop)
      const bad = [
        [fifo, new NotRegularFile({ kind: "FIFO" })],
        ["/dev/null", new NotRegularFile({ kind: "character device" })],
        [loop, new NotRegularFile({ kind: "symbolic link loop" })]
      ] as const
      try {
        const recorded = await vidpool(
          ["eval", fifo, clip, "/dev/null", loop, "--loaders", "2", "--decoder", decoder, "--metrics", "sharpness", "--format", "json", "-q"]
        )
        assert.strictEqual(recorded.code, 0, recorded.stderr)
        const samples = samplesOf(recorded.stdout)
        assert.isNumber(samples[1].scores["quality.sharpness"])
        const rows = [samples[0], samples[2], samples[3]]
        bad.forEach(([file, reason], i) => {
          assert.strictEqual(rows[i].error?.reason, "NotRegularFile")
          assert.strictEqual(rows[i].error?.message, `Cannot decode ${file} (sample ${rows[i].index}, field "video"): ${describeReason(reason)}`)
        })
        const failed = await vidpool(["eval", clip, ...bad.map(([file]) => file), "--on-error", "fail", "--decoder", decoder])
        assert.strictEqual(failed.code, 2, failed.stderr)
        assert.lengthOf(lines(failed.stderr), 1, failed.stderr)
        for (const [file, reason] of bad) assert.include(failed.stderr, `${file}: ${describeReason(reason)}`)
        const probed = await vidpool(["probe", ...bad.map(([file]) => file), "--decoder", decoder])
        assert.strictEqual(probed.code, 1, probed.stderr)
        assert.deepStrictEqual(lines(probed.stderr), bad.map(([file, reason]) => `vidpool: ${file}: ${describeReason(reason)}`))
        // One bad input alone with --on-error fail: the very line probe prints.
        const alone = await vidpool(["eval", loop, "--on-error", "fail", "--decoder", decoder])
        assert.strictEqual(alone.code, 2, alone.stderr)
        assert.deepStrictEqual(lines(alone.stderr), [`vidpool: ${loop}: ${describeReason(bad[2][1])}`])
        assert.deepStrictEqual(readersOf(fifo), [])
      } finally {
        fs.closeSync(writer)
      }
    })
  }

  it("a folder of videos keeps an entry that is not a regular file as a sample: its reason recorded, or named by --on-error fail", async () => {
    const folder = fs.mkdtempSync(path.join(dir, "clips-"))
    fs.copyFileSync(clip, path.join(folder, "a.mp4"))
    execFileSync("mkfifo", [path.join(folder, "b.mp4")])
    fs.symlinkSync("c.mp4", path.join(folder, "c.mp4"))
    fs.mkdirSync(path.join(folder, "d.mp4")) // a folder named like a video: not a video of this folder
    const fifo = describeReason(new NotRegularFile({ kind: "FIFO" }))
    const loop = describeReason(new NotRegularFile({ kind: "symbolic link loop" }))
    const recorded = await vidpool(["eval", folder, "--metrics", "sharpness", "--format", "json", "-q"])
    assert.strictEqual(recorded.code, 0, recorded.stderr)
    const samples = samplesOf(recorded.stdout)
    assert.deepStrictEqual(samples.map((s) => path.basename(s.video)), ["a.mp4", "b.mp4", "c.mp4"])
    assert.isNumber(samples[0].scores["quality.sharpness"])
    assert.strictEqual(samples[1].error?.message, `Cannot decode ${path.join(folder, "b.mp4")} (sample 1, field "video"): ${fifo}`)
    assert.strictEqual(samples[2].error?.message, `Cannot decode ${path.join(folder, "c.mp4")} (sample 2, field "video"): ${loop}`)
    const failed = await vidpool(["eval", folder, "--metrics", "sharpness", "--on-error", "fail"])
    assert.strictEqual(failed.code, 2, failed.stderr)
    assert.deepStrictEqual(lines(failed.stderr), [
      `vidpool: 2 inputs cannot be used: ${path.join(folder, "b.mp4")}: ${fifo}; ${path.join(folder, "c.mp4")}: ${loop}`
    ])
  })
})
