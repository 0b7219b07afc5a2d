/**
 * The `vidpool` command: evaluate folders of videos with a progress bar, probe files, list the
 * metrics, run a demo. Its modules are exported for programs that want the same inputs, formats
 * and progress display.
 *
 * @since 0.1.0
 */
export { command, CommandExit, ExitCode, explainDemo, presenter, run, version } from "./Cli.ts"
export * as DemoCorpus from "./DemoCorpus.ts"
export { layer as EngineLive } from "./EngineLive.ts"
export {
  defaultMetrics,
  type DemoInputs,
  Engine,
  type EvalOptions,
  type EvalOutcome,
  type Failure,
  type MetricInfo,
  type ProbeInfo,
  resolveNames
} from "./Engine.ts"
export * as Format from "./Format.ts"
export { InputError } from "./InputError.ts"
export * as Inputs from "./Inputs.ts"
export * as Output from "./Output.ts"
export * as Progress from "./Progress.ts"
export * as Report from "./Report.ts"
export * as Summary from "./Summary.ts"
