/**
 * `vidpool metrics`: the metric catalogue, as a table (with how `--metrics` names them) or as
 * JSON. Needs no decoder and no ffmpeg.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { Engine, type MetricInfo } from "./Engine.ts"
import * as Format from "./Format.ts"
import * as Output from "./Output.ts"

/**
 * The table `vidpool metrics` prints.
 *
 * @since 0.2.0
 * @category formatting
 */
export const metricTable = (metrics: ReadonlyArray<MetricInfo>): string =>
  Format.columns([
    ["metric", "kind", "needs", "measures"],
    ...metrics.map((m) => [m.name, m.kind === "set" ? "corpus" : "sample", m.needs.join(", "), m.description])
  ]) + "\n\n" +
  "By default, eval computes every per-sample metric whose needs the samples meet, and the corpus metrics\n" +
  "when they have references. --metrics takes names or prefixes: psnr, common, quality.*\n"

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "metrics",
  { format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table")) },
  Effect.fn("MetricsCommand.handler")(function*({ format }) {
    const engine = yield* Engine
    if (format === "json") {
      return yield* Output.writeStdout(JSON.stringify(engine.metrics, null, 2) + "\n")
    }
    yield* Output.writeStdout(metricTable(engine.metrics))
  })
).pipe(Command.withDescription("List the metrics known: what each needs and measures"))
