/**
 * How a command ends: the exit codes, and the mapping of every tagged error (and defect) that
 * reaches the edge to one line on stderr and its code. Only here do errors become text.
 *
 * @since 0.2.0
 */
import { Cause, Config, Effect, Option, Runtime, Schema } from "effect"
import { CliError } from "effect/cli"
import type { PlatformError } from "effect/PlatformError"
import type { SocketServer } from "effect/socket"
import type { EngineError } from "./Engine.ts"
import type { InputError } from "./InputError.ts"
import * as Output from "./Output.ts"
import { OutputError } from "./OutputError.ts"

/**
 * Exit codes: 0 success, 1 the run failed (a video or metric failed with `--on-error fail`, a
 * probe failed, no ffmpeg), 2 bad input or usage, 70 a bug in vidpool, 130 interrupted.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2, internal: 70, interrupted: 130 } as const

/**
 * Ends the command with an exit code, after its message was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandExit extends Schema.TaggedError<CommandExit>()("CommandExit", { code: Schema.Number }) {
  override get [Runtime.errorExitCode](): number {
    return this.code
  }
}

/**
 * Every error a command fails with, as the tagged value it is: the engine's, the command's own
 * input errors, an output that cannot be written, a bad setting, a file-system failure (the
 * demo's temporary folder).
 *
 * @since 0.2.0
 * @category errors
 */
export type CommandError =
  | EngineError
  | InputError
  | OutputError
  | Config.ConfigError
  | PlatformError
  | SocketServer.SocketServerError

/**
 * Text on one line: line breaks and the spaces around them become one space.
 *
 * @since 0.2.0
 * @category formatting
 */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

/**
 * Writes `vidpool: <message>` on stderr, on one line.
 *
 * @since 0.2.0
 * @category formatting
 */
export const reportLine = (message: string): Effect.Effect<void> => Output.writeStderr(`vidpool: ${oneLine(message)}\n`)

/**
 * The line for an error: its message, which each error writes for the person at the terminal
 * (`FfmpegNotFound` says where it looked and how to give one).
 *
 * @since 0.2.0
 * @category formatting
 */
export const describe = (error: CommandError): string => error.message

/**
 * The exit code of an error: 2 for what the user can fix in the command line or the environment
 * (an input, a metric name, a setting, a decoder that is not installed, a model file), else 1
 * (with an output that could not be written: the run's results did not reach it).
 *
 * @since 0.2.0
 * @category exit codes
 */
export const exitCodeOf = (error: CommandError): number => {
  switch (error._tag) {
    case "InputError":
    case "UnknownMetric":
    case "ConfigError":
    case "LibavUnavailable":
    case "DatabaseUnavailable":
    case "InvalidClusterOptions":
    case "WireError":
    case "SocketServerError":
    case "ModelError":
      return ExitCode.usage
    case "DecodeError":
    case "MetricError":
    case "InvalidPoolOptions":
    case "FfmpegNotFound":
    case "DemoError":
    case "PlatformError":
    case "OutputError":
    case "BatchFailed":
    case "ClusterUnavailable":
      return ExitCode.failed
  }
}

/** The line for a failure and its exit code; none when stdout's reader went away (`| head`), which ends the command quietly, as it ends Unix tools. */
const report = (error: CommandError): Effect.Effect<never, CommandExit> =>
  error._tag === "OutputError" && error.isClosedPipe
    ? Effect.fail(new CommandExit({ code: ExitCode.ok }))
    : reportLine(describe(error)).pipe(Effect.andThen(Effect.fail(new CommandExit({ code: exitCodeOf(error) }))))

const isCommandError = (error: unknown): error is CommandError =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"

/**
 * The edge of the program: a failure is written as one line on stderr (unless the parser's
 * presenter already showed it) and becomes a `CommandExit` with its code; a defect is an internal
 * error (exit 70; `VIDPOOL_DEBUG=1` adds the full cause); an interruption stays an interruption.
 *
 * @since 0.2.0
 * @category exit codes
 */
export const toExit = <E extends CommandError | CommandExit | CliError.CliError>(
  cause: Cause.Cause<E>
): Effect.Effect<never, CommandExit> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  const found = Cause.findErrorOption(cause)
  if (Option.isSome(found)) {
    const error: CommandExit | CliError.CliError | CommandError = found.value
    if (error instanceof CommandExit) return Effect.fail(error)
    // The presenter already showed it.
    if (CliError.isCliError(error)) return Effect.fail(new CommandExit({ code: ExitCode.usage }))
    if (isCommandError(error)) return report(error)
  }
  const defect = Cause.squash(cause)
  // The presenter (help, version) writes to stdout too, and has no error channel.
  if (defect instanceof OutputError) return report(defect)
  if (defect instanceof Config.ConfigError) {
    return reportLine(`a setting in the environment is not valid: ${defect.message}`).pipe(Effect.andThen(Effect.fail(new CommandExit({ code: ExitCode.usage }))))
  }
  const detail = defect instanceof Error ? defect.message : String(defect)
  return Output.writeStderr(
    `vidpool: internal error: ${oneLine(detail)} (set VIDPOOL_DEBUG=1 for details)\n` +
      (process.env.VIDPOOL_DEBUG === "1" ? Cause.pretty(cause) + "\n" : "")
  ).pipe(Effect.andThen(Effect.fail(new CommandExit({ code: ExitCode.internal }))))
}
