/**
 * `vidpool eval <inputs...>`: collect the inputs, plan the run from the flags, check its output
 * path (`OutputGuard`), and evaluate it (`Evaluation.run`).
 *
 * @since 0.2.0
 */
import { Effect, Option, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as ClusterRun from "./ClusterRun.ts"
import { runFlags } from "./Flags.ts"
import { InputError } from "../InputError.ts"
import * as Inputs from "../Inputs.ts"
import * as Output from "../Output.ts"
import * as OutputGuard from "./OutputGuard.ts"
import * as ReportCommand from "./ReportCommand.ts"
import * as Thumbnails from "./Thumbnails.ts"
import { plan } from "../RunPlan.ts"

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "eval",
  {
    inputs: Argument.String("inputs").pipe(
      Argument.withDescription("Video files, folders of videos (sorted by name), or .jsonl manifests"),
      Argument.variadic({ min: 1 })
    ),
    reference: Flag.String("reference").pipe(
      Flag.withDescription("Folder of references: each video is paired with the file of the same name there"),
      Flag.withMetavar("DIR"),
      Flag.optional
    ),
    ...runFlags,
    report: Flag.String("report").pipe(
      Flag.withDescription("Also write an HTML report of the run to this file (see vidpool report)"),
      Flag.withMetavar("FILE"),
      Flag.optional
    ),
    worst: ReportCommand.worstFlag,
    ...ClusterRun.clusterFlags
  },
  Effect.fn("EvalCommand.handler")(function*(flags) {
    const inputs = yield* Inputs.collect(flags.inputs, { reference: Option.getOrUndefined(flags.reference), onError: flags.onError })
    const run = yield* plan(flags, inputs)
    const worst = yield* Thumbnails.checkWorst(flags.worst)
    const reportPath = Option.getOrUndefined(flags.report)
    // Nothing the run reads, and nothing but vidpool's own results, is written over.
    const sources = OutputGuard.sourcesOf(flags.inputs, inputs)
    if (run.out !== undefined) yield* OutputGuard.check(run.out, run.format, sources)
    if (reportPath === undefined) return yield* ClusterRun.run(run, flags)
    const path = yield* Path.Path
    if (run.out !== undefined && path.resolve(run.out) === path.resolve(reportPath)) {
      return yield* InputError.usage(`--report and --out name the same file (${reportPath}); give the report a file of its own`)
    }
    yield* OutputGuard.check(reportPath, "html", sources, "--report")
    yield* Effect.scoped(Effect.gen(function*() {
      // Checked writable before the run, written whole after it (an interrupted run writes none).
      const output = yield* Output.prepare(reportPath)
      const report = yield* ClusterRun.run(run, flags)
      yield* ReportCommand.write(report, output, { worst, decoder: run.decoder, source: `vidpool eval ${flags.inputs.join(" ")}` })
    }))
  })
).pipe(
  Command.withDescription("Evaluate videos: score each with the chosen metrics and summarize"),
  Command.withExamples([
    { command: "vidpool eval clips/ --reference refs/", description: "Score every clip against its reference" },
    { command: "vidpool eval samples.jsonl --metrics psnr,ssim --out scores.csv", description: "A manifest, to CSV" },
    { command: "vidpool eval clips/ --reference refs/ --report report.html", description: "Also an HTML page with the worst clips' frames" },
    {
      command: "vidpool eval clips/ --reference refs/ --cluster --db postgres://vidpool:secret@db.lan/vidpool",
      description: "The same run, sharded over the runners (vidpool runner) of that database"
    }
  ])
)
