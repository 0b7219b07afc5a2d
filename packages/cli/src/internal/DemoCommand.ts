/**
 * `vidpool demo`: make a small corpus with ffmpeg (clean clips and damaged copies), evaluate it
 * as `eval` would, and explain the scores; the corpus is removed afterwards.
 *
 * @since 0.2.0
 */
import * as NodeOs from "node:os"
import { Effect, FileSystem, Option } from "effect"
import { Command } from "effect/cli"
import { DemoError } from "./DemoCorpus.ts"
import { Engine } from "../Engine.ts"
import * as Evaluation from "../Evaluation.ts"
import { emptyRunFlags, quiet, runFlags } from "./Flags.ts"
import * as Output from "../Output.ts"
import { codeOf, explain } from "../OutputError.ts"
import type { Report } from "../Report.ts"
import { plan } from "../RunPlan.ts"

/**
 * The two lines that explain the demo's scores, the second from the scores themselves: the mean
 * PSNR and SSIM of each kind of damage, best first.
 *
 * @since 0.1.0
 * @category formatting
 */
export const explainDemo = (report: Report): string => {
  const find = (short: string) => report.metrics.find((m) => m === short || m.endsWith(`.${short}`))
  const psnr = find("psnr")
  const ssim = find("ssim")
  const first = "Each row scores a damaged copy against its clean original: the stronger the damage, " +
    "the lower PSNR (in dB) and SSIM (1 = identical)."
  if (psnr === undefined || ssim === undefined) return first
  const groups = new Map<string, { psnr: Array<number>; ssim: Array<number> }>()
  for (const sample of report.samples) {
    const kind = String(report.inputs[sample.index]?.fields.degradation ?? "other")
    const group = groups.get(kind) ?? { psnr: [], ssim: [] }
    groups.set(kind, group)
    const p = sample.metrics[psnr]?.score
    const s = sample.metrics[ssim]?.score
    if (typeof p === "number") group.psnr.push(p)
    if (typeof s === "number") group.ssim.push(s)
  }
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  const ranked = [...groups.entries()]
    .filter(([, g]) => g.psnr.length > 0 && g.ssim.length > 0)
    .map(([kind, g]) => ({ kind, psnr: mean(g.psnr), ssim: mean(g.ssim) }))
    .sort((a, b) => b.psnr - a.psnr)
  return `${first}\nMean PSNR / SSIM by damage here: ` +
    ranked.map((r) => `${r.kind} ${r.psnr.toFixed(1)} dB / ${r.ssim.toFixed(3)}`).join(", ") + "."
}

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "demo",
  {
    workers: runFlags.workers,
    loaders: runFlags.loaders,
    quiet
  },
  Effect.fn("DemoCommand.handler")(function*({ loaders, quiet, workers }) {
    const engine = yield* Engine
    const fs = yield* FileSystem.FileSystem
    yield* Effect.scoped(Effect.gen(function*() {
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "vidpool-demo-" }).pipe(
        Effect.mapError((error) =>
          new DemoError({
            detail: `cannot make a folder for the demo corpus in ${NodeOs.tmpdir()}: ` +
              `${explain(codeOf(error), "file", error.reason.description).cause}; set TMPDIR to a writable folder on a disk with space`,
            cause: error
          })
        )
      )
      if (!quiet) yield* Output.writeStderr(`making the demo corpus with ffmpeg in ${folder}\n`)
      const corpus = yield* engine.makeDemoCorpus(folder)
      // Two loaders by default: the corpus is small clips, decoding is the larger share of the work.
      const settings = yield* plan({
        ...emptyRunFlags,
        workers,
        loaders: Option.orElse(loaders, () => Option.some(2)),
        quiet
      }, corpus.samples)
      const report = yield* Evaluation.run({ ...settings, decode: { numFrames: corpus.numFrames } })
      yield* Output.writeStdout("\n" + explainDemo(report) + "\n")
    }))
  })
).pipe(Command.withDescription(
  "Make a small corpus with ffmpeg (clean clips and degraded copies), evaluate it, and explain the scores"
))
