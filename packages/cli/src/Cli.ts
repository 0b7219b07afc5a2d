/**
 * The `vidpool` command tree (eval, probe, metrics, report, demo, runner) and its entry: the environment checked,
 * the command line parsed, help and usage errors shown, every failure mapped at the edge.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { CliOutput, Command } from "effect/cli"
import * as DemoCommand from "./internal/DemoCommand.ts"
import type { Engine } from "./Engine.ts"
import * as Environment from "./internal/Environment.ts"
import * as EvalCommand from "./internal/EvalCommand.ts"
import { CommandExit, ExitCode, oneLine, reportLine, toExit } from "./ExitCodes.ts"
import * as MetricsCommand from "./internal/MetricsCommand.ts"
import * as Output from "./Output.ts"
import * as ProbeCommand from "./internal/ProbeCommand.ts"
import * as ReportCommand from "./internal/ReportCommand.ts"
import * as RunnerCommand from "./internal/RunnerCommand.ts"

export { CommandExit, ExitCode } from "./ExitCodes.ts"
export { explainDemo } from "./internal/DemoCommand.ts"

/**
 * @since 0.1.0
 * @category constants
 */
export const version = "0.2.0"

/**
 * The whole command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("vidpool").pipe(
  Command.withDescription("Evaluate videos with a prefetching decode pool"),
  Command.withSubcommands([EvalCommand.command, ProbeCommand.command, MetricsCommand.command, ReportCommand.command, DemoCommand.command, RunnerCommand.command])
)

/**
 * Shows help on stdout and invocation errors as one line each on stderr.
 *
 * @since 0.1.0
 * @category presenters
 */
export const presenter: CliOutput.Presenter = {
  present: (event) => {
    const formatter = CliOutput.defaultFormatter({ colors: false, globalFlags: "summary" })
    switch (event._tag) {
      // A failed write (stdout on a full disk) is a defect here, which the edge reports as the OutputError it is.
      case "Help":
        return Effect.orDie(Output.writeStdout(formatter.formatHelpDoc(event.helpDoc) + "\n"))
      case "Version":
        return Effect.orDie(Output.writeStdout(formatter.formatVersion(event.name, event.version) + "\n"))
      case "InvalidInvocation": {
        const path = event.commandPath.join(" ")
        return Effect.forEach(event.errors, (error) =>
          Output.writeStderr(`${path}: ${oneLine(error.message)} (see "${path} --help")\n`), { discard: true })
      }
    }
  }
}

/**
 * Runs the command on the process arguments. Every failure is written as one line on stderr and
 * becomes a `CommandExit` with its code (`ExitCodes.toExit`); an interruption stays an
 * interruption (exit code 130). The `Engine` is provided once, around the whole run.
 *
 * @since 0.1.0
 * @category running
 */
export const run: Effect.Effect<void, CommandExit, Engine | Command.Environment> = Effect.suspend(() => {
  // Every VIDPOOL_* variable is checked before the command line is parsed: one line each.
  const bad = Environment.problems(process.env)
  return bad.length === 0
    ? Command.run(command, { version })
    : Effect.andThen(
      Effect.forEach(bad, reportLine, { discard: true }),
      Effect.fail(new CommandExit({ code: ExitCode.usage }))
    )
}).pipe(
  Effect.provide(CliOutput.layerPresenter(presenter)),
  Effect.catchCause(toExit)
)
