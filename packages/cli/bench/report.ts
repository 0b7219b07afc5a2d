/**
 * The HTML report's benchmark (part of `pnpm bench` in packages/cli): the time `vidpool report`
 * takes to write the page of a results file of 1,000 samples (and of 10,000), the whole process as
 * a user runs it, and the page's size; then, where a headless Chromium is found (as the browser
 * test finds one), the time the page takes to load with its table's first 500 rows, to sort them
 * on a click, and to build every row ("show all").
 *
 * The results file is made from a real run: `vidpool eval` of CLIPS clip pairs (320x240, 2 s at
 * 25 fps; PSNR, SSIM, MSE, sharpness), whose sample lines (with their per-frame scores) are
 * repeated over 1,000 indices, each score moved a little so that the worst samples differ.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { launch } from "../test/browser.ts"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CLIPS = Number(process.env.BENCH_CLIPS ?? 20)
const here = import.meta.dirname
const bin = resolve(here, "..", "bin", "vidpool.js")
const run = promisify(execFile)
const ffmpeg: string = (createRequire(resolve(here, "..", "..", "ffmpeg", "package.json"))("@ffmpeg-installer/ffmpeg") as { path: string }).path

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const clip = (file: string, source: string, filter: string) =>
  run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `${source}=s=320x240:r=25`, "-vf", filter,
    "-frames:v", "50", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", file])

/** A results file of `n` samples from the lines of a real run. */
const scaled = (lines: ReadonlyArray<string>, n: number): string => {
  const settings = lines.find((line) => line.startsWith(`{"type":"settings"`))!
  const samples = lines.filter((line) => line.startsWith(`{"type":"sample"`)).map((line) => JSON.parse(line))
  const run = JSON.parse(lines.find((line) => line.startsWith(`{"type":"run"`))!)
  const out = [settings]
  for (let index = 0; index < n; index++) {
    const base = samples[index % samples.length]
    const jitter = 1 + ((index * 7919) % 1000) / 10_000
    const scores = Object.fromEntries(Object.entries(base.scores as Record<string, number | null>).map(([k, v]) => [k, v === null ? null : v * jitter]))
    out.push(JSON.stringify({ ...base, index, scores }))
  }
  out.push(JSON.stringify({ ...run, total: n, evaluated: n }))
  return out.join("\n") + "\n"
}

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "vidpool-report-bench-"))
  try {
    console.log(`@vidpool/cli report bench: ${CLIPS} clip pairs, medians of ${ROUNDS} rounds, node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`)
    mkdirSync(join(dir, "gen"))
    mkdirSync(join(dir, "refs"))
    const sources = ["testsrc2", "mandelbrot", "smptebars", "rgbtestsrc"]
    const filters = ["noise=alls=30:allf=t", "gblur=sigma=2", "hue=h=40", "eq=contrast=1.3", "null"]
    for (let i = 0; i < CLIPS; i++) {
      const name = `clip${String(i).padStart(3, "0")}.mp4`
      const source = sources[i % sources.length]
      await clip(join(dir, "refs", name), source, "null")
      await clip(join(dir, "gen", name), source, filters[i % filters.length])
    }
    await run(process.execPath, [bin, "eval", "gen", "--reference", "refs", "--metrics", "psnr,ssim,common.mse,sharpness", "--out", "real.jsonl", "-q"], { cwd: dir })
    const real = readFileSync(join(dir, "real.jsonl"), "utf8").split("\n").filter((line) => line.length > 0)
    const pages: Array<{ n: number; page: string }> = []
    for (const n of [1000, 10_000]) {
      writeFileSync(join(dir, `results-${n}.jsonl`), scaled(real, n))
      for (const worst of [8, 0]) {
        const times: Array<number> = []
        const page = `report-${n}-${worst}.html`
        for (let round = 0; round < ROUNDS; round++) {
          const start = performance.now()
          await run(process.execPath, [bin, "report", `results-${n}.jsonl`, "-o", page, "--worst", String(worst)], { cwd: dir })
          times.push(performance.now() - start)
        }
        const size = statSync(join(dir, page)).size
        const results = statSync(join(dir, `results-${n}.jsonl`)).size
        console.log(
          `vidpool report, ${n} samples (results file ${(results / 1e6).toFixed(2)} MB), --worst ${worst}: ` +
            `${(median(times) / 1000).toFixed(2)} s, page ${(size / 1e6).toFixed(2)} MB`
        )
        if (worst === 8) pages.push({ n, page })
      }
    }
    let browser
    try {
      browser = await launch(dir)
    } catch (error) {
      console.log(`no browser timing: ${(error as Error).message.split("\n")[0]}`)
      return
    }
    try {
      const { page } = browser
      await page.send("Page.enable")
      for (const { n, page: file } of pages) {
        const loads: Array<number> = []
        const sorts: Array<number> = []
        const everyRow: Array<number> = []
        for (let round = 0; round < ROUNDS; round++) {
          const loaded = page.waitFor("Page.loadEventFired", 120_000)
          const start = performance.now()
          await page.send("Page.navigate", { url: `file://${join(dir, file)}` })
          await loaded
          const rows = await page.evaluate<number>(`(document.body.offsetHeight, document.querySelectorAll("#samples tbody tr").length)`)
          loads.push(performance.now() - start)
          if (rows !== Math.min(n, 500)) throw new Error(`the page of ${n} samples shows ${rows} rows`)
          sorts.push(await page.evaluate<number>(`(() => {
            const start = performance.now()
            document.querySelector('#samples th[data-key="1"] button').click()
            document.body.offsetHeight
            return performance.now() - start
          })()`))
          everyRow.push(await page.evaluate<number>(`(() => {
            const start = performance.now()
            document.getElementById("show-all").click()
            document.body.offsetHeight
            if (document.querySelectorAll("#samples tbody tr").length !== ${n}) throw new Error("not every row")
            return performance.now() - start
          })()`))
        }
        console.log(
          `${browser.kind}: the page of ${n} samples loads with the first 500 rows in ${median(loads).toFixed(0)} ms; ` +
            `a click on a column sorts them in ${median(sorts).toFixed(0)} ms; "show all" builds the ${n} rows in ${median(everyRow).toFixed(0)} ms`
        )
      }
    } finally {
      await browser.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`)
  }
}

await main()
