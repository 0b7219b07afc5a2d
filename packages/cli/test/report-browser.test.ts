// The HTML report as a person sees it: a real run's report loaded in headless Chromium, checked
// through the page's DOM (rows, pictures decoded, the order after a click on a column, the filter,
// the print style), with a screenshot kept as an artefact.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { launch } from "./browser.ts"
import { descendants, isRunning, makeClip, removeDir, tempDir, vidpool } from "./helpers.ts"

/** A file name that runs script if the page writes it unescaped. */
const hostile = `<img src=x onerror="window.pwned=1">'&.mp4`

describe("vidpool report in a browser", () => {
  let dir: string
  let samples: number
  beforeAll(async () => {
    dir = tempDir("vidpool-report-browser-")
    const gen = path.join(dir, "gen")
    const refs = path.join(dir, "refs")
    fs.mkdirSync(gen)
    fs.mkdirSync(refs)
    const clips: Array<[string, Parameters<typeof makeClip>[1], Parameters<typeof makeClip>[1]]> = [
      ["a.mp4", { source: "testsrc2", filter: "noise=alls=60:allf=t", crf: 30 }, { source: "testsrc2" }],
      ["b.mp4", { source: "mandelbrot", filter: "gblur=sigma=4" }, { source: "mandelbrot" }],
      ["c.mp4", { source: "testsrc2", crf: 20 }, { source: "testsrc2" }],
      ["d.mp4", { source: "mandelbrot", crf: 50 }, { source: "mandelbrot" }],
      [hostile, { source: "testsrc2", filter: "hue=h=90" }, { source: "testsrc2" }]
    ]
    for (const [name, video, reference] of clips) {
      await makeClip(path.join(gen, name), { ...video, frames: 12 })
      await makeClip(path.join(refs, name), { ...reference, frames: 12 })
    }
    fs.writeFileSync(path.join(gen, "e.mp4"), "not a video\n".repeat(20))
    fs.writeFileSync(path.join(refs, "e.mp4"), "not a video\n".repeat(20))
    samples = clips.length + 1
    const run = await vidpool(
      ["eval", "gen", "--reference", "refs", "--metrics", "psnr,ssim,common.mse,sharpness", "--out", "results.jsonl", "--report", "run.html", "--worst", "2", "-q"],
      { cwd: dir }
    )
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stderr, /report written to run\.html \(6 samples, \d+ with frames\)/)
  }, 180_000)
  afterAll(() => removeDir(dir))

  it("shows every sample, the worst samples' frames decoded, sorts on a click, filters, prints, builds 3,000 rows on demand; the browser is gone after", async () => {
    // The same page from the results file, as `vidpool report` writes it.
    const made = await vidpool(["report", "results.jsonl", "-o", "report.html", "--worst", "2"], { cwd: dir })
    assert.strictEqual(made.code, 0, made.stderr)
    const browser = await launch(dir)
    let screenshot = ""
    let family: Array<number> = []
    try {
      const { page } = browser
      await page.send("Page.enable")
      const loaded = page.waitFor("Page.loadEventFired", 60_000)
      await page.send("Page.navigate", { url: `file://${path.join(dir, "report.html")}` })
      await loaded

      // Every sample is a row.
      assert.strictEqual(await page.evaluate<number>(`document.querySelectorAll("#samples tbody tr").length`), samples)
      assert.strictEqual(await page.evaluate<string>(`document.getElementById("shown").textContent`), `all ${samples} samples`)

      // The worst 2 of each of the 4 metrics: at least 2 samples, each with 4 frames of the video and 4 of the reference, all decoded.
      const images = await page.evaluate<Array<{ complete: boolean; width: number; height: number }>>(
        `Promise.all([...document.images].map((img) => img.decode().then(() => img, () => img)))
          .then((all) => all.map((img) => ({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight })))`
      )
      assert.isAtLeast(images.length, 2 * 8)
      assert.strictEqual(images.length % 8, 0)
      for (const image of images) {
        assert.isTrue(image.complete)
        assert.isAbove(image.width, 0)
        assert.isAbove(image.height, 0)
      }
      // A histogram per metric, with a tick per scored sample under it (the worst 2 in red).
      const ticks = await page.evaluate<Array<[number, number]>>(`[...document.querySelectorAll(".hist svg")].map((svg) => [
        (svg.querySelector("path.rug:not(.worst)").getAttribute("d").match(/M/g) || []).length,
        (svg.querySelector("path.rug.worst").getAttribute("d").match(/M/g) || []).length
      ])`)
      assert.deepStrictEqual(ticks, [[3, 2], [3, 2], [3, 2], [3, 2]])

      // Per-frame plots where the metric has per-frame values (psnr, ssim, mse), none for sharpness.
      const plots = await page.evaluate<Array<string>>(`[...document.querySelectorAll(".plot-box figcaption")].map((e) => e.textContent)`)
      assert.includeMembers(plots, ["common.psnr per frame", "common.ssim per frame", "common.mse per frame"])
      assert.notInclude(plots, "quality.sharpness per frame")

      // A real click on the PSNR column's title sorts ascending (the sample without a score last), a second descending.
      const psnrColumn = await page.evaluate<number>(
        `[...document.querySelectorAll("#samples thead th")].findIndex((th) => th.textContent.trim() === "psnr")`
      )
      assert.isAtLeast(psnrColumn, 0)
      const click = async () => {
        const box = await page.evaluate<{ x: number; y: number }>(`(() => {
          const button = document.querySelectorAll("#samples thead th")[${psnrColumn}].querySelector("button")
          button.scrollIntoView({ block: "center" })
          const r = button.getBoundingClientRect()
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 }
        })()`)
        for (const type of ["mousePressed", "mouseReleased"]) {
          await page.send("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 })
        }
      }
      const column = () =>
        page.evaluate<Array<string>>(`[...document.querySelectorAll("#samples tbody tr")].map((tr) => tr.cells[${psnrColumn}].textContent)`)
      await click()
      const ascending = await column()
      const scores = ascending.filter((cell) => cell !== "-").map(Number)
      assert.strictEqual(scores.length, samples - 1)
      assert.deepStrictEqual(scores, [...scores].sort((a, b) => a - b))
      assert.isBelow(scores[0], scores[scores.length - 1])
      assert.strictEqual(ascending[ascending.length - 1], "-")
      assert.strictEqual(await page.evaluate<string>(`document.querySelectorAll("#samples thead th")[${psnrColumn}].getAttribute("aria-sort")`), "ascending")
      await click()
      const descending = (await column()).filter((cell) => cell !== "-").map(Number)
      assert.deepStrictEqual(descending, [...scores].reverse())

      // Typing in the filter keeps the matching rows only.
      await page.evaluate(`document.getElementById("filter").focus()`)
      await page.send("Input.insertText", { text: "e.mp4" })
      const filtered = await page.evaluate<Array<string>>(`[...document.querySelectorAll("#samples tbody tr")].map((tr) => tr.cells[1].textContent)`)
      assert.deepStrictEqual(filtered, ["gen/e.mp4"])
      assert.strictEqual(await page.evaluate<string>(`document.getElementById("shown").textContent`), `1 of ${samples} samples`)

      // The hostile file name is text, not markup; its error and the broken clip's are listed with their messages.
      assert.isUndefined(await page.evaluate<unknown>(`window.pwned`))
      const names = await page.evaluate<Array<string>>(`[...document.querySelectorAll(".card header .path")].map((e) => e.textContent)`)
      assert.isTrue(names.some((name) => name.endsWith(`gen/${hostile}`)), names.join("\n"))
      const errors = await page.evaluate<Array<string>>(`[...document.querySelectorAll(".errors li")].map((e) => e.textContent)`)
      assert.strictEqual(errors.length, 1)
      assert.include(errors[0], "gen/e.mp4")
      assert.include(errors[0], "Cannot decode")

      // Printing hides the controls and gives pages.
      await page.send("Emulation.setEmulatedMedia", { media: "print" })
      assert.strictEqual(await page.evaluate<string>(`getComputedStyle(document.querySelector(".controls")).display`), "none")
      const pdf = await page.send("Page.printToPDF", {}) as { data: string }
      assert.strictEqual(Buffer.from(pdf.data, "base64").subarray(0, 5).toString(), "%PDF-")
      await page.send("Emulation.setEmulatedMedia", { media: "" })

      // The screenshot, kept after the test's folder is removed.
      await page.evaluate(`(() => { const f = document.getElementById("filter"); f.value = ""; f.dispatchEvent(new Event("input")); window.scrollTo(0, 0) })()`)
      const shot = await page.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }) as { data: string }
      const artefacts = path.join(os.tmpdir(), "vidpool-test-artefacts")
      fs.mkdirSync(artefacts, { recursive: true })
      screenshot = path.join(artefacts, "report.png")
      fs.writeFileSync(screenshot, Buffer.from(shot.data, "base64"))
      console.log(`report screenshot (${browser.kind}): ${screenshot}`)

      // Thousands of samples: the first 500 rows are built, every row on "show all" and before printing.
      const lines = fs.readFileSync(path.join(dir, "results.jsonl"), "utf8").split("\n").filter((line) => line !== "")
      const sampleLines = lines.filter((line) => line.startsWith(`{"type":"sample"`)).map((line) => JSON.parse(line))
      const many = 3000
      const big = [
        lines[0],
        ...Array.from({ length: many }, (_, index) => JSON.stringify({ ...sampleLines[index % sampleLines.length], index })),
        JSON.stringify({ ...JSON.parse(lines[lines.length - 1]), total: many, evaluated: many })
      ]
      fs.writeFileSync(path.join(dir, "big.jsonl"), big.join("\n") + "\n")
      const bigPage = await vidpool(["report", "big.jsonl", "-o", "big.html", "--worst", "1"], { cwd: dir })
      assert.strictEqual(bigPage.code, 0, bigPage.stderr)
      const bigLoaded = page.waitFor("Page.loadEventFired", 60_000)
      await page.send("Page.navigate", { url: `file://${path.join(dir, "big.html")}` })
      await bigLoaded
      const rowCount = () => page.evaluate<number>(`document.querySelectorAll("#samples tbody tr").length`)
      assert.strictEqual(await rowCount(), 500)
      assert.strictEqual(await page.evaluate<string>(`document.getElementById("shown").textContent`), `all ${many} samples, the first 500 shown`)
      await page.send("Page.printToPDF", {})
      assert.strictEqual(await rowCount(), many)
      assert.isTrue(await page.evaluate<boolean>(`document.getElementById("show-all").hidden`))
      // The browser and every process it started, to check that none outlives it.
      family = [browser.pid, ...descendants(browser.pid).map((p) => p.pid)]
    } finally {
      await browser.close()
    }
    assert.isAbove(fs.statSync(screenshot).size, 10_000)
    // Nothing of the browser is left running.
    assert.isAbove(family.length, 1)
    assert.deepStrictEqual(family.filter(isRunning), [])
    assert.deepStrictEqual(descendants(process.pid).filter((p) => /chrom/i.test(p.comm)), [])
  }, 300_000)
})
