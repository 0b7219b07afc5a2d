/**
 * `vidpool metrics`: the metric catalogue, as a table (with how `--metrics` names them) or as
 * JSON. Needs no decoder and no ffmpeg.
 *
 * @since 0.2.0
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { modelsConfig, variableOf } from "@vidpool/eval"
import { Engine, type MetricInfo } from "../Engine.ts"
import * as Format from "../Format.ts"
import * as Output from "../Output.ts"

/**
 * The table `vidpool metrics` prints.
 *
 * @since 0.2.0
 * @category formatting
 */
export const metricTable = (metrics: ReadonlyArray<MetricInfo>, models: Readonly<Record<string, string>> = {}): string =>
  Format.columns([
    ["metric", "kind", "needs", "model", "measures"],
    ...metrics.map((m) => [
      m.name,
      m.kind === "set" ? "corpus" : "sample",
      m.needs.join(", "),
      modelCell(m, models),
      m.description
    ])
  ]) + "\n\n" +
  "By default, eval computes every per-sample metric whose needs the samples meet, and the corpus metrics\n" +
  "when they have references; a metric that runs a model, when its model is given (--model NAME=PATH or\n" +
  "VIDPOOL_MODEL_<NAME>). --metrics takes names or prefixes: psnr, common, quality.*\n"

/** A metric's models and whether each is given: `i3d (given)`, `dino (not given)`, or `-`. */
const modelCell = (metric: MetricInfo, models: Readonly<Record<string, string>>): string =>
  (metric.models ?? []).map((name) => `${name} (${models[name] !== undefined ? "given" : "not given"})`).join(", ") || "-"

/**
 * Each metric's models with the file given for each (`null` when none is), for `--format json`.
 *
 * @since 0.3.0
 * @category formatting
 */
export const withModels = (
  metrics: ReadonlyArray<MetricInfo>,
  models: Readonly<Record<string, string>>
): Array<MetricInfo | MetricInfo & { readonly modelFiles: Record<string, string | null>; readonly variables: Array<string> }> =>
  metrics.map((m) =>
    m.models === undefined ? m : {
      ...m,
      modelFiles: Object.fromEntries(m.models.map((name) => [name, models[name] ?? null])),
      variables: m.models.map(variableOf)
    }
  )

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "metrics",
  {
    format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table")),
    model: Flag.KeyValuePair("model").pipe(
      Flag.withDescription("A model file, NAME=PATH, shown as given (default: VIDPOOL_MODEL_<NAME>)"),
      Flag.optional
    )
  },
  Effect.fn("MetricsCommand.handler")(function*({ format, model }) {
    const engine = yield* Engine
    const names = Array.from(new Set(engine.metrics.flatMap((m) => m.models ?? [])))
    const models = { ...engine.registry.models, ...(yield* Effect.orDie(modelsConfig(names))), ...Option.getOrElse(model, () => ({})) }
    if (format === "json") {
      return yield* Output.writeStdout(JSON.stringify(withModels(engine.metrics, models), null, 2) + "\n")
    }
    yield* Output.writeStdout(metricTable(engine.metrics, models))
  })
).pipe(Command.withDescription("List the metrics known: what each needs and measures"))
