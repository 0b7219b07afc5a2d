// `vidpool report` and `vidpool eval --report`: what the page holds, and every bad results file,
// flag or output path as one line on stderr with exit code 2 and nothing written.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { formatScore } from "../src/Format.ts"
import * as HtmlReport from "../src/internal/HtmlReport.ts"
import * as Png from "../src/internal/Png.ts"
import { hasStackTrace, lines, makeClip, removeDir, tempDir, vidpool } from "./helpers.ts"

describe("vidpool report", () => {
  let dir: string
  let results: string
  let text: string
  beforeAll(async () => {
    dir = tempDir("vidpool-report-")
    for (const folder of ["gen", "refs"]) fs.mkdirSync(path.join(dir, folder))
    await makeClip(path.join(dir, "refs", "a.mp4"))
    await makeClip(path.join(dir, "refs", "b.mp4"), { source: "mandelbrot" })
    await makeClip(path.join(dir, "gen", "a.mp4"), { filter: "noise=alls=50:allf=t" })
    await makeClip(path.join(dir, "gen", "b.mp4"), { source: "mandelbrot", filter: "gblur=sigma=3" })
    const run = await vidpool(["eval", "gen", "--reference", "refs", "--metrics", "psnr,frechet_distance", "--out", "results.jsonl", "-q"], { cwd: dir })
    assert.strictEqual(run.code, 0, run.stderr)
    results = path.join(dir, "results.jsonl")
    text = fs.readFileSync(results, "utf8")
  }, 120_000)
  afterAll(() => removeDir(dir))

  /** `vidpool report <file> -o out.html` ends with exactly `line` on stderr, exit 2, and no page. */
  const refused = async (args: ReadonlyArray<string>, line: string) => {
    const result = await vidpool(["report", ...args], { cwd: dir })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), [line])
    assert.isFalse(hasStackTrace(result.stderr))
    assert.isFalse(fs.existsSync(path.join(dir, "out.html")))
    assert.deepStrictEqual(fs.readdirSync(dir).filter((name) => name.endsWith(".tmp")), [])
  }

  const withText = (name: string, content: string) => {
    fs.writeFileSync(path.join(dir, name), content)
    return name
  }

  it("writes the page of a finished run: summary, the worst samples with frames of video and reference, every sample's data", async () => {
    const result = await vidpool(["report", "results.jsonl", "-o", "page.html", "--worst", "1"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), ["report written to page.html (2 samples, 1 with frames)"])
    const page = fs.readFileSync(path.join(dir, "page.html"), "utf8")
    assert.match(page, HtmlReport.opening)
    // The corpus metric's score, as the run's closing line has it.
    const run = JSON.parse(text.trim().split("\n").at(-1)!)
    assert.include(page, `<td class="mono">common.frechet_distance</td><td class="num">${formatScore(run.corpus["common.frechet_distance"].score)}</td>`)
    // Nothing is fetched: no URL but data: ones.
    assert.notMatch(page, /\b(src|href)="(?!data:|#)/)
    assert.notMatch(page, /https?:\/\//)
    // The worst psnr sample (the noisy one) has 4 frames of its video and 4 of its reference, as PNG.
    assert.strictEqual(page.match(/<img src="data:image\/png;base64,/g)?.length, 8)
    assert.include(page, "#0 gen/a.mp4")
    // Every sample is in the table's data.
    const data = JSON.parse(/<script type="application\/json" id="vp-data">(.*?)<\/script>/s.exec(page)![1])
    assert.deepStrictEqual(data.rows.map((row: Array<unknown>) => row[1]), ["gen/a.mp4", "gen/b.mp4"])
    // Run again: its own page is written over.
    const again = await vidpool(["report", "results.jsonl", "-o", "page.html", "--worst", "0"], { cwd: dir })
    assert.strictEqual(again.code, 0, again.stderr)
    assert.notInclude(fs.readFileSync(path.join(dir, "page.html"), "utf8"), "<img ")
  })

  it("says why a clip has no frames when it cannot be decoded any more, and finds clips from the results file's folder", async () => {
    const elsewhere = tempDir("vidpool-report-cwd-")
    fs.renameSync(path.join(dir, "gen", "a.mp4"), path.join(dir, "a.mp4.moved"))
    try {
      // Run from another folder: the relative paths are found from the results file's folder.
      const result = await vidpool(["report", results, "-o", path.join(elsewhere, "page.html"), "--worst", "2"], { cwd: elsewhere })
      assert.strictEqual(result.code, 0, result.stderr)
      const page = fs.readFileSync(path.join(elsewhere, "page.html"), "utf8")
      assert.match(page, /<div class="bad">no frames: Cannot decode [^<]*gen\/a\.mp4[^<]*<\/div>/)
      // The other sample's video, and both references, are pictured: 3 strips of 4 frames.
      assert.strictEqual(page.match(/<img src="data:image\/png;base64,/g)?.length, 12)
    } finally {
      fs.renameSync(path.join(dir, "a.mp4.moved"), path.join(dir, "gen", "a.mp4"))
      removeDir(elsewhere)
    }
  })

  it("refuses a results file cut short by a kill: no run line at the end", async () => {
    const cut = text.split("\n").slice(0, 2).join("\n") + "\n"
    await refused(
      [withText("cut.jsonl", cut), "-o", "out.html"],
      `vidpool: cut.jsonl: it ends after 1 sample without the run's closing line: the run that wrote it did not finish ` +
        `(it was stopped while writing); finish it with "vidpool eval ... --resume --out cut.jsonl", then report`
    )
  })

  it("refuses a results file whose last line is cut in the middle", async () => {
    const cut = text.slice(0, text.length - 20)
    const n = cut.split("\n").length
    await refused(
      [withText("half.jsonl", cut), "-o", "out.html"],
      `vidpool: half.jsonl:${n}: its last line is cut short: the run that wrote it did not finish (it was stopped while writing); ` +
        `finish it with "vidpool eval ... --resume --out half.jsonl", then report`
    )
  })

  it("refuses a line that is not JSON, a sample line without scores, an empty file, a CSV, a missing file", async () => {
    const rows = text.split("\n")
    await refused(
      [withText("bad.jsonl", [rows[0], "{oops", ...rows.slice(1)].join("\n")), "-o", "out.html"],
      `vidpool: bad.jsonl:2: not a line of vidpool's JSON Lines results (not JSON); give the .jsonl file of "vidpool eval --out"`
    )
    await refused(
      [withText("noscores.jsonl", [rows[0], JSON.stringify({ type: "sample", index: 0, video: "gen/a.mp4" }), ...rows.slice(2)].join("\n")), "-o", "out.html"],
      `vidpool: noscores.jsonl:2: not a sample of vidpool's results: sample 0 has no "scores" record of numbers`
    )
    await refused([withText("empty.jsonl", ""), "-o", "out.html"], `vidpool: empty.jsonl: it is empty: no results to report`)
    await refused(
      [withText("scores.csv", "index,video,common.psnr\n0,gen/a.mp4,20\n"), "-o", "out.html"],
      `vidpool: scores.csv:1: not a line of vidpool's JSON Lines results (not JSON); give the .jsonl file of "vidpool eval --out"`
    )
    await refused(["missing.jsonl", "-o", "out.html"], `vidpool: missing.jsonl: cannot read the results: no such file`)
  })

  it("checks --worst before reading anything", async () => {
    for (const value of ["-1", "101"]) {
      await refused(
        ["results.jsonl", "-o", "out.html", "--worst", value],
        `vidpool: --worst must be a whole number from 0 to 100 (samples per metric shown with pictures), got ${value}`
      )
    }
  })

  it("refuses to write over the results file, a video of the run, or a file that is not one of its reports", async () => {
    await refused(["results.jsonl", "-o", "results.jsonl"], `vidpool: results.jsonl: --out would write over it: it is the results file read; give --out a new file`)
    const video = fs.readFileSync(path.join(dir, "gen", "a.mp4"))
    await refused(
      ["results.jsonl", "-o", "gen/a.mp4"],
      `vidpool: gen/a.mp4: --out would write over it: it is an input of this run; give --out a new file (or one of vidpool's results)`
    )
    assert.deepStrictEqual(fs.readFileSync(path.join(dir, "gen", "a.mp4")), video)
    withText("notes.html", "<p>my notes</p>\n")
    await refused(
      ["results.jsonl", "-o", "notes.html"],
      `vidpool: notes.html: --out would write over it: it is not a report of vidpool's; give --out a new file (or one of vidpool's results)`
    )
    assert.strictEqual(fs.readFileSync(path.join(dir, "notes.html"), "utf8"), "<p>my notes</p>\n")
  })
})

describe("vidpool eval --report", () => {
  let dir: string
  beforeAll(async () => {
    dir = tempDir("vidpool-eval-report-")
    fs.mkdirSync(path.join(dir, "gen"))
    await makeClip(path.join(dir, "gen", "a.mp4"))
  }, 60_000)
  afterAll(() => removeDir(dir))

  const refused = async (args: ReadonlyArray<string>, line: string) => {
    const result = await vidpool(["eval", "gen", "--metrics", "sharpness", ...args], { cwd: dir })
    assert.strictEqual(result.code, 2, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), [line])
    assert.strictEqual(result.stdout, "")
  }

  it("refuses a --report that is an input, the --out file, or a page of someone else's, before the run", async () => {
    const video = fs.readFileSync(path.join(dir, "gen", "a.mp4"))
    await refused(
      ["--report", "gen/a.mp4"],
      `vidpool: gen/a.mp4: --report would write over it: it is an input of this run; give --report a new file (or one of vidpool's results)`
    )
    assert.deepStrictEqual(fs.readFileSync(path.join(dir, "gen", "a.mp4")), video)
    await refused(["--out", "r.html", "--format", "json", "--report", "r.html"], `vidpool: --report and --out name the same file (r.html); give the report a file of its own`)
    fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>home</title>\n")
    await refused(
      ["--report", "index.html"],
      `vidpool: index.html: --report would write over it: it is not a report of vidpool's; give --report a new file (or one of vidpool's results)`
    )
    await refused(["--report", "x.html", "--worst", "1000"], `vidpool: --worst must be a whole number from 0 to 100 (samples per metric shown with pictures), got 1000`)
  })

  it("writes the page after the results", async () => {
    const result = await vidpool(["eval", "gen", "--metrics", "sharpness", "--report", "run.html", "-q"], { cwd: dir })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "gen/a.mp4")
    assert.include(lines(result.stderr), "report written to run.html (1 sample, 1 with frames)")
    const page = fs.readFileSync(path.join(dir, "run.html"), "utf8")
    assert.match(page, HtmlReport.opening)
    assert.strictEqual(page.match(/<img src="data:image\/png;base64,/g)?.length, 4)
  })
})

describe("the report's pieces", () => {
  it("encodes frames as PNG that inflate back to the same pixels", () => {
    const width = 5
    const height = 3
    const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + (i >> 2) * 11) & 0xff)
    const png = Png.encode(pixels, width, height, 3)
    assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    // IDAT holds the filtered rows; undo the filters and compare.
    const idat = png.indexOf(0x49, 33) // "I" of IDAT, after the IHDR chunk
    const length = new DataView(png.buffer, png.byteOffset).getUint32(idat - 4)
    const raw = zlib.inflateSync(png.subarray(idat + 4, idat + 4 + length))
    const stride = width * 3
    const out = new Uint8Array(width * height * 3)
    for (let y = 0; y < height; y++) {
      const filter = raw[y * (stride + 1)]
      for (let x = 0; x < stride; x++) {
        const a = x >= 3 ? out[y * stride + x - 3] : 0
        const b = y > 0 ? out[(y - 1) * stride + x] : 0
        const c = x >= 3 && y > 0 ? out[(y - 1) * stride + x - 3] : 0
        const p = a + b - c
        const predictor = [0, a, b, (a + b) >> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][filter]
        out[y * stride + x] = (raw[y * (stride + 1) + 1 + x] + predictor) & 0xff
      }
    }
    assert.deepStrictEqual(out, pixels)
  })

  it("escapes text for HTML and JSON for a script element", () => {
    assert.strictEqual(HtmlReport.escapeHtml(`<a href="x">'&'</a>\n`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\n")
    const json = HtmlReport.scriptJson({ name: "</script><!--\u2028" })
    assert.notInclude(json, "<")
    assert.deepStrictEqual(JSON.parse(json), { name: "</script><!--\u2028" })
  })
})
