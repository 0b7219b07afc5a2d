/**
 * `vidpool eval <inputs...>`: collect the inputs, plan the run from the flags, check its output
 * path (`OutputGuard`), and evaluate it (`Evaluation.run`).
 *
 * @since 0.2.0
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as ClusterRun from "./ClusterRun.ts"
import { runFlags } from "./Flags.ts"
import * as Inputs from "./Inputs.ts"
import * as OutputGuard from "./OutputGuard.ts"
import { plan } from "./RunPlan.ts"

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
    ...ClusterRun.clusterFlags
  },
  Effect.fn("EvalCommand.handler")(function*(flags) {
    const inputs = yield* Inputs.collect(flags.inputs, { reference: Option.getOrUndefined(flags.reference), onError: flags.onError })
    const run = yield* plan(flags, inputs)
    // Nothing the run reads, and nothing but vidpool's own results, is written over.
    if (run.out !== undefined) yield* OutputGuard.check(run.out, run.format, OutputGuard.sourcesOf(flags.inputs, inputs))
    yield* ClusterRun.run(run, flags)
  })
).pipe(
  Command.withDescription("Evaluate videos: score each with the chosen metrics and summarize"),
  Command.withExamples([
    { command: "vidpool eval clips/ --reference refs/", description: "Score every clip against its reference" },
    { command: "vidpool eval samples.jsonl --metrics psnr,ssim --out scores.csv", description: "A manifest, to CSV" },
    {
      command: "vidpool eval clips/ --reference refs/ --cluster --db postgres://vidpool:secret@db.lan/vidpool",
      description: "The same run, sharded over the runners (vidpool runner) of that database"
    }
  ])
)
