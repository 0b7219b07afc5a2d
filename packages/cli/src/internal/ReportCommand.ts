/**
 * `vidpool report <results.jsonl> -o report.html`: the HTML report of a finished run, from its
 * JSON Lines results; and the flags and the writing `vidpool eval --report` shares with it.
 *
 * @since 0.3.0
 */
import { Clock, Effect, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { DecoderChoice } from "../Engine.ts"
import { runFlags } from "./Flags.ts"
import * as HtmlReport from "./HtmlReport.ts"
import { InputError } from "../InputError.ts"
import * as Output from "../Output.ts"
import * as OutputGuard from "./OutputGuard.ts"
import type { Report } from "../Report.ts"
import * as ResultsFile from "./ResultsFile.ts"
import * as Thumbnails from "./Thumbnails.ts"

/**
 * `--worst N`: how many samples per metric the report shows with their frames (default 8).
 *
 * @since 0.3.0
 * @category flags
 */
export const worstFlag = Flag.Int("worst").pipe(
  Flag.withDescription(`With a report: the samples per metric shown with their frames beside their reference's (0 to ${Thumbnails.maxWorst}; default 8)`),
  Flag.withMetavar("N"),
  Flag.withDefault(8)
)

/**
 * Makes the page of `report` (decoding the pictures of its worst samples) and writes it to
 * `output`, whole or not at all; says where on stderr.
 *
 * @since 0.3.0
 * @category running
 */
export const write = Effect.fnUntraced(function*(
  report: Report,
  output: Output.OutputFile,
  options: { readonly worst: number; readonly decoder: DecoderChoice; readonly source: string; readonly base?: string | undefined }
) {
  const pictures = yield* Thumbnails.make(report, options)
  const now = yield* Clock.currentTimeMillis
  const page = HtmlReport.render(report, { source: options.source, worst: options.worst, pictures, made: new Date(now).toISOString() })
  yield* output.commit(page)
  const n = report.samples.length
  yield* Output.writeStderr(`report written to ${output.path} (${n} sample${n === 1 ? "" : "s"}, ${pictures.size} with frames)\n`)
})

/**
 * @since 0.3.0
 * @category commands
 */
export const command = Command.make(
  "report",
  {
    results: Argument.String("results").pipe(Argument.withDescription("The JSON Lines results of a run (vidpool eval --out results.jsonl)")),
    out: Flag.String("out").pipe(Flag.withAlias("o"), Flag.withDescription("The HTML file to write"), Flag.withMetavar("FILE")),
    worst: worstFlag,
    decoder: runFlags.decoder
  },
  Effect.fn("ReportCommand.handler")(function*(flags) {
    const path = yield* Path.Path
    const worst = yield* Thumbnails.checkWorst(flags.worst)
    if (path.resolve(flags.out) === path.resolve(flags.results)) {
      return yield* InputError.about(flags.out, `--out would write over it: it is the results file read; give --out a new file`)
    }
    const report = yield* ResultsFile.read(flags.results)
    yield* OutputGuard.check(flags.out, "html", OutputGuard.sourcesOf([flags.results], report.inputs.filter((input) => input.video !== "")))
    yield* Effect.scoped(Effect.gen(function*() {
      const output = yield* Output.prepare(flags.out)
      yield* write(report, output, { worst, decoder: flags.decoder, source: flags.results, base: path.dirname(flags.results) })
    }))
  })
).pipe(
  Command.withDescription("Write the HTML report of a finished run from its JSON Lines results"),
  Command.withExamples([
    { command: "vidpool report results.jsonl -o report.html", description: "The report of a run's results" },
    { command: "vidpool report results.jsonl -o report.html --worst 20", description: "Frames of the 20 worst samples per metric" }
  ])
)
