import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { binPath, ffmpegPath, hasStackTrace, lines, makeCorpus, removeDir, tempDir, vidpool } from "./helpers.ts"

type Corpus = Awaited<ReturnType<typeof makeCorpus>>

/** The corpus's clips' size. */
const W = 64
const H = 48

/** A clip's frames as ffmpeg decodes them to rgb24. */
const rgbFrames = (file: string): Array<Uint8Array> => {
  const raw = execFileSync(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
  return Array.from({ length: raw.length / (W * H * 3) }, (_, f) => new Uint8Array(raw.subarray(f * W * H * 3, (f + 1) * W * H * 3)))
}

/** The mean over frames of the PSNR ffmpeg's psnr filter logs for each frame (rgb24, all channels). */
const ffmpegPsnr = (video: string, reference: string): number => {
  const stats = path.join(tempDir(), "psnr.log")
  execFileSync(ffmpegPath, [
    "-hide_banner", "-loglevel", "error", "-i", video, "-i", reference,
    "-lavfi", `[0:v]format=rgb24[a];[1:v]format=rgb24[b];[a][b]psnr=stats_file=${stats}`, "-f", "null", "-"
  ])
  const frames = fs.readFileSync(stats, "utf8").trim().split("\n").map((line) => Number(/psnr_avg:(\S+)/.exec(line)![1]))
  removeDir(path.dirname(stats))
  return frames.reduce((a, b) => a + b, 0) / frames.length
}

/**
 * SSIM of two rgb24 frames from its definition: BT.601 luma, every 11x11 window that fits, 2-D
 * Gaussian weights (sigma 1.5), C1 = (0.01 x 255)^2, C2 = (0.03 x 255)^2; the mean over windows.
 */
const ssimOf = (x: Uint8Array, y: Uint8Array): number => {
  const luma = (rgb: Uint8Array) => Float64Array.from({ length: W * H }, (_, i) => 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2])
  const [a, b] = [luma(x), luma(y)]
  const weights = Array.from({ length: 121 }, (_, k) => Math.exp(-(((k % 11) - 5) ** 2 + (Math.floor(k / 11) - 5) ** 2) / (2 * 1.5 ** 2)))
  const sum = weights.reduce((p, q) => p + q, 0)
  const [c1, c2] = [(0.01 * 255) ** 2, (0.03 * 255) ** 2]
  let total = 0
  for (let top = 0; top + 11 <= H; top++) {
    for (let left = 0; left + 11 <= W; left++) {
      let [mx, my, sxx, syy, sxy] = [0, 0, 0, 0, 0]
      for (let k = 0; k < 121; k++) {
        const i = (top + Math.floor(k / 11)) * W + left + (k % 11)
        const w = weights[k] / sum
        mx += w * a[i]
        my += w * b[i]
        sxx += w * a[i] * a[i]
        syy += w * b[i] * b[i]
        sxy += w * a[i] * b[i]
      }
      total += ((2 * mx * my + c1) * (2 * (sxy - mx * my) + c2)) / ((mx * mx + my * my + c1) * (sxx - mx * mx + syy - my * my + c2))
    }
  }
  return total / ((H - 10) * (W - 10))
}

/** The mean over frames of their SSIM. */
const meanSsim = (video: Array<Uint8Array>, reference: Array<Uint8Array>): number => {
  assert.strictEqual(video.length, reference.length)
  return video.reduce((acc, frame, f) => acc + ssimOf(frame, reference[f]), 0) / video.length
}

describe("vidpool eval", () => {
  let corpus: Corpus
  beforeAll(async () => {
    corpus = await makeCorpus(tempDir())
  })
  afterAll(() => removeDir(corpus?.dir))

  it("scores a folder against --reference: a table on stdout, progress and summary on stderr", async () => {
    const result = await vidpool(["eval", corpus.gen, "--reference", corpus.refs, "--metrics", "psnr,ssim"])
    assert.strictEqual(result.code, 0, result.stderr)
    const out = lines(result.stdout)
    assert.match(out[0], /^#\s+video \(in .*gen\/\)\s+reference \(in .*refs\/\)\s+psnr\s+ssim$/)
    // folder contents sorted by name, each paired with the reference of the same name
    assert.match(out[1], /^0\s+a\.mp4\s+a\.mp4\s+\d+\.\d+\s+0\.\d{4}$/)
    assert.match(out[2], /^1\s+b\.mp4\s+b\.mp4\s+\d+\.\d+\s+0\.\d{4}$/)
    assert.notInclude(result.stdout, "progress")
    const err = result.stderr
    assert.include(err, "evaluating 2 samples: common.psnr, common.ssim")
    assert.match(err, /progress: 2\/2 {2}[\d.]+ clips\/s {2}done {2}0 errors/)
    assert.match(err, /^common\.psnr\s+2\s+[\d.]+/m)
    assert.match(err, /^common\.ssim\s+2\s+0\.\d+/m)
    assert.match(err, /^2 samples in [\d.]+s \([\d.]+ clips\/s\), 0 errors$/m)
    assert.match(err, /^time: decoding [\d.]+s \(summed over loaders\), computing [\d.]+s, waiting for clips [\d.]+s/m)
  })

  it("runs with the worker and loader counts of VIDPOOL_WORKERS and VIDPOOL_LOADER_THREADS, which the flags override", async () => {
    const args = ["eval", corpus.gen, "--reference", corpus.refs, "--metrics", "psnr", "--format", "csv"]
    const env = { VIDPOOL_WORKERS: "2", VIDPOOL_LOADER_THREADS: "2" }
    const [byEnv, byFlag, byDefault] = await Promise.all([
      vidpool(args, { env }),
      vidpool([...args, "--workers", "1"], { env }),
      vidpool(args)
    ])
    for (const result of [byEnv, byFlag, byDefault]) {
      assert.strictEqual(result.code, 0, result.stderr)
      assert.lengthOf(lines(result.stdout), 3)
    }
    assert.include(byEnv.stderr, "using 2 metric workers and 2 loaders\n")
    assert.include(byFlag.stderr, "using 1 metric worker and 2 loaders\n")
    assert.include(byDefault.stderr, "using 1 metric worker and 1 loader\n")
  })

  it("starts no more metric workers or loaders than there are samples, and says so", async () => {
    const result = await vidpool(["eval", corpus.gen, "--reference", corpus.refs, "--metrics", "psnr", "--workers", "4096", "--loaders", "64"])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stderr, "using 2 metric workers and 2 loaders\n")
    assert.lengthOf(lines(result.stdout), 3)
  })

  it("writes the whole report as JSON to --out, nothing to stdout, and no temporary file", async () => {
    const out = path.join(corpus.dir, "scores.json")
    const result = await vidpool(["eval", corpus.gen, "--reference", corpus.refs, "--out", out])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.strictEqual(result.stdout, "")
    assert.include(result.stderr, `results written to ${out} (json)`)
    const report = JSON.parse(fs.readFileSync(out, "utf8"))
    assert.strictEqual(report.complete, true)
    assert.strictEqual(report.total, 2)
    assert.strictEqual(report.evaluated, 2)
    assert.deepStrictEqual(report.samples.map((s: { video: string; reference: string }) => [s.video, s.reference]), [
      [path.join(corpus.gen, "a.mp4"), path.join(corpus.refs, "a.mp4")],
      [path.join(corpus.gen, "b.mp4"), path.join(corpus.refs, "b.mp4")]
    ])
    // the default metrics: every per-sample metric the samples allow, and the corpus metric
    assert.includeMembers(report.metrics, ["common.psnr", "common.ssim", "vidpool.psnr_255", "vidpool.ssim_luma", "quality.sharpness"])
    assert.deepStrictEqual(report.corpusMetrics, ["common.frechet_distance"])
    assert.isNumber(report.corpus["common.frechet_distance"].score)
    // Each sample's scores are those of its frames as ffmpeg decodes them: PSNR as ffmpeg's psnr
    // filter gives it (its log prints 2 decimals; FastVideo's on [0, 1] and vidpool's on 0-255 are
    // the same number), the luma SSIM from its definition, window by window.
    for (const sample of report.samples) {
      const video = rgbFrames(sample.video)
      const reference = rgbFrames(sample.reference)
      assert.approximately(sample.scores["common.psnr"], ffmpegPsnr(sample.video, sample.reference), 0.01, sample.video)
      assert.approximately(sample.scores["vidpool.psnr_255"], ffmpegPsnr(sample.video, sample.reference), 0.01, sample.video)
      assert.approximately(sample.scores["vidpool.ssim_luma"], meanSsim(video, reference), 1e-9, sample.video)
    }
    assert.notStrictEqual(report.samples[0].scores["common.psnr"], report.samples[1].scores["common.psnr"])
    assert.strictEqual(report.summary["common.psnr"].count, 2)
    assert.isAbove(report.timing.wallMs, 0)
    assert.deepStrictEqual(fs.readdirSync(corpus.dir).filter((f) => f.endsWith(".tmp")), [])
  })

  it("writes CSV with the metrics chosen by short name and prefix; --quiet hides the progress, not the summary", async () => {
    const result = await vidpool(["eval", corpus.gen, "--reference", corpus.refs, "--metrics", "psnr,quality", "--format", "csv", "-q"])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.notInclude(result.stderr, "progress")
    assert.notInclude(result.stderr, "evaluating")
    assert.match(result.stderr, /^common\.psnr\s+2\s+[\d.]+/m)
    assert.match(result.stderr, /^quality\.sharpness\s+2\s+[\d.]+/m)
    assert.match(result.stderr, /^2 samples in [\d.]+s \([\d.]+ clips\/s\), 0 errors$/m)
    assert.match(result.stderr, /^time: decoding /m)
    const [header, ...rows] = lines(result.stdout)
    assert.strictEqual(header, "index,video,reference,common.psnr,quality.sharpness,error")
    assert.lengthOf(rows, 2)
    const cells = rows[0].split(",")
    assert.strictEqual(cells[1], path.join(corpus.gen, "a.mp4"))
    assert.isAbove(Number(cells[3]), 5)
    assert.isAbove(Number(cells[4]), 0)
    assert.strictEqual(cells[5], "")
  })

  it("reads a manifest with paths relative to it and passes its other fields through (JSON Lines), decoding with --frames and --size", async () => {
    const manifest = path.join(corpus.dir, "samples.jsonl")
    fs.writeFileSync(manifest, [
      JSON.stringify({ video: "gen/b.mp4", reference: "refs/b.mp4", prompt: "a fractal zoom" }),
      "",
      JSON.stringify({ video: "gen/a.mp4", prompt: "a test card", seed: 7 })
    ].join("\n") + "\n")
    const result = await vidpool(["eval", manifest, "--metrics", "psnr,sharpness", "--format", "jsonl", "-q", "--frames", "4", "--size", "32x24"], {
      cwd: "/"
    })
    assert.strictEqual(result.code, 0, result.stderr)
    const records = lines(result.stdout).map((line) => JSON.parse(line))
    assert.lengthOf(records, 4)
    const [settings, first, second, run] = records
    // first, what the scores depend on besides the inputs
    assert.strictEqual(settings.type, "settings")
    assert.deepStrictEqual(settings.decode, { numFrames: 4, width: 32, height: 24, resize: "exact" })
    assert.deepStrictEqual(settings.metrics, { "common.psnr": "2", "quality.sharpness": "1" })
    assert.strictEqual(first.type, "sample")
    assert.strictEqual(first.video, path.join(corpus.dir, "gen/b.mp4"))
    assert.strictEqual(first.reference, path.join(corpus.dir, "refs/b.mp4"))
    assert.deepStrictEqual(first.fields, { prompt: "a fractal zoom" })
    assert.isNumber(first.scores["common.psnr"])
    // the clips have 8 frames of 64x48; the decode options asked for 4 of 32x24
    assert.strictEqual(first.details["common.psnr"].frames, 4)
    assert.deepStrictEqual(second.fields, { prompt: "a test card", seed: 7 })
    assert.notProperty(second, "reference")
    // no reference: PSNR is skipped (no score) and says why; sharpness needs none
    assert.isNull(second.scores["common.psnr"])
    assert.isString(second.details["common.psnr"].skipped)
    assert.isAbove(second.scores["quality.sharpness"], 0)
    assert.strictEqual(run.type, "run")
    assert.strictEqual(run.complete, true)
    assert.strictEqual(run.evaluated, 2)
  })

  it("names manifest fields field.KEY in CSV, so that fields called index, error or like a metric never repeat a column; tables escape a newline in a name", async () => {
    const dir = path.join(corpus.dir, "awkward")
    fs.mkdirSync(dir, { recursive: true })
    const odd = "new\nline\tname.mp4"
    fs.copyFileSync(path.join(corpus.gen, "a.mp4"), path.join(dir, odd))
    const manifest = path.join(dir, "samples.jsonl")
    fs.writeFileSync(manifest, [
      JSON.stringify({ video: odd, index: 12, error: "none", "quality.sharpness": 0.5, prompt: "a, b" }),
      JSON.stringify({ video: "missing.mp4", index: 13 })
    ].join("\n") + "\n")
    const [csv, table] = await Promise.all([
      vidpool(["eval", manifest, "--metrics", "sharpness", "--format", "csv", "-q"], { cwd: dir }),
      vidpool(["eval", manifest, "--metrics", "sharpness", "-q"], { cwd: dir })
    ])
    assert.strictEqual(csv.code, 0, csv.stderr)
    const header = csv.stdout.split("\n")[0].split(",")
    assert.deepStrictEqual(header, ["index", "video", "field.index", "field.error", "field.quality.sharpness", "field.prompt", "quality.sharpness", "error"])
    // The name's newline is inside a quoted cell: two samples, three records' worth of lines.
    assert.include(csv.stdout, `\n0,"${path.join(dir, odd)}",12,none,0.5,"a, b",`)
    assert.match(csv.stdout, /\n1,[^,]*missing\.mp4,13,,,,,.*Cannot decode/)

    assert.strictEqual(table.code, 0, table.stderr)
    const rows = lines(table.stdout)
    // A header and one line per sample, the control characters written as escapes.
    assert.lengthOf(rows, 3)
    assert.match(rows[1], /^0\s+new\\nline\\tname\.mp4\s+\d+\.\d+/)
    assert.match(rows[2], /^1\s+missing\.mp4\s+-\s+Cannot decode/)
  })

  it("with --on-error record (the default), reports a broken video in its row and goes on", async () => {
    const out = path.join(corpus.dir, "record.json")
    const result = await vidpool(["eval", path.join(corpus.gen, "a.mp4"), corpus.broken, "--metrics", "sharpness", "--out", out])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.match(result.stderr, /progress: 2\/2 .* 1 error$/m)
    assert.match(result.stderr, /^2 samples in .*, 1 error$/m)
    const report = JSON.parse(fs.readFileSync(out, "utf8"))
    assert.strictEqual(report.errors, 1)
    assert.isAbove(report.samples[0].scores["quality.sharpness"], 0)
    assert.strictEqual(report.samples[1].error._tag, "DecodeError")
    assert.include(report.samples[1].error.message, corpus.broken)
    // the error as data: the file, the sample field and the reason
    assert.strictEqual(report.samples[1].error.path, corpus.broken)
    assert.strictEqual(report.samples[1].error.key, "video")
    assert.isString(report.samples[1].error.reason)
  })

  it("with --on-error fail, stops with one line naming the file, exit code 1, and leaves --out as it was", async () => {
    const out = path.join(corpus.dir, "fail.json")
    const previous = JSON.stringify({ complete: true, total: 1, samples: [] }, null, 2) + "\n"
    fs.writeFileSync(out, previous)
    const result = await vidpool([
      "eval", corpus.broken, path.join(corpus.gen, "a.mp4"), "--on-error", "fail", "--out", out, "-q"
    ])
    assert.strictEqual(result.code, 1)
    assert.strictEqual(result.stdout, "")
    const err = lines(result.stderr)
    assert.lengthOf(err, 1, result.stderr)
    assert.match(err[0], new RegExp(`^vidpool: Cannot decode ${corpus.broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(sample 0, field "video"\\): `))
    assert.isFalse(hasStackTrace(result.stderr))
    assert.strictEqual(fs.readFileSync(out, "utf8"), previous)
    assert.deepStrictEqual(fs.readdirSync(corpus.dir).filter((f) => f.endsWith(".tmp")), [])
  })

  it("redraws the progress bar in place when stderr is a terminal", async () => {
    // `script` runs the command on a pseudo-terminal; stdout goes to a file so that only stderr
    // reaches the terminal.
    const out = path.join(corpus.dir, "tty.csv")
    const command = `${process.execPath} ${binPath} eval ${corpus.gen} --reference ${corpus.refs} --metrics psnr --out ${out}`
    const { stdout: terminal } = await promisify(execFile)("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, VIDPOOL_PROGRESS: "" }
    })
    assert.include(terminal, "\r\x1b[2K[########################] 2/2")
    assert.notInclude(terminal, "progress:")
    assert.lengthOf(lines(fs.readFileSync(out, "utf8")), 3)
  })
})
