/**
 * `vidpool probe <files...>`: what ffmpeg reads in each file (size, frame rate, frames, codec),
 * as a table or JSON, and which decoder `eval` would use; a file that fails is one line, exit 1.
 *
 * @since 0.2.0
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { describeReason } from "@vidpool/pool"
import { Engine, type ProbeError } from "../Engine.ts"
import { CommandExit, describe, ExitCode, reportLine } from "../ExitCodes.ts"
import { runFlags } from "./Flags.ts"
import * as Format from "../Format.ts"
import * as Output from "../Output.ts"

/**
 * The line for a file that cannot be probed. A path that cannot be opened (missing, unreadable,
 * not a regular file) reads as `eval --on-error fail` says it: `<file>: <why>`.
 */
const failureLine = (file: string, error: ProbeError): string => {
  if (error._tag === "DecodeError") {
    switch (error.reason._tag) {
      case "NotFound":
      case "PermissionDenied":
      case "NotRegularFile":
        return `${file}: ${describeReason(error.reason)}`
    }
  }
  return describe(error)
}

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "probe",
  {
    files: Argument.String("files").pipe(Argument.withDescription("Video files"), Argument.variadic({ min: 1 })),
    format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table")),
    decoder: runFlags.decoder
  },
  Effect.fn("ProbeCommand.handler")(function*({ decoder, files, format }) {
    const engine = yield* Engine
    const infos = []
    let failed = 0
    for (const file of files) {
      // The path is checked by probe itself, as a decoder checks it (a FIFO is refused, not read).
      const info = yield* engine.probe(file).pipe(
        Effect.map(Option.some),
        Effect.catch((error) => reportLine(failureLine(file, error)).pipe(Effect.as(Option.none())))
      )
      if (Option.isSome(info)) infos.push(info.value)
      else failed++
    }
    // Which decoder `eval` would use with this choice, and its FFmpeg.
    const used = yield* engine.decoderInfo(decoder)
    if (format === "json") {
      yield* Output.writeStdout(JSON.stringify(infos.map((info) => ({ ...info, decoder: used })), null, 2) + "\n")
    } else if (infos.length > 0) {
      yield* Output.writeStdout(Format.columns([
        ["file", "codec", "size", "fps", "frames", "duration", "pixels", "rotation"],
        ...infos.map((i) => [
          i.path,
          i.codec,
          `${i.width}x${i.height}`,
          Number.isFinite(i.fps) ? String(Math.round(i.fps * 100) / 100) : "?",
          String(i.frameCount),
          `${i.duration.toFixed(2)}s`,
          i.pixelFormat,
          String(i.rotation)
        ])
      ], [false, false, true, true, true, true, false, true]) + "\n")
      yield* Output.writeStdout(
        used.name === "libav"
          ? `decoder: libav, in process (FFmpeg ${used.version} through node-av)\n`
          : `decoder: ffmpeg ${used.version} (${used.path ?? "ffmpeg"}), one process per video\n`
      )
    }
    if (failed > 0) return yield* new CommandExit({ code: ExitCode.failed })
  })
).pipe(Command.withDescription("Show what ffmpeg reads in video files: size, frame rate, frames, codec"))
