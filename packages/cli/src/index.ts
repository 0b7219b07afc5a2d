/**
 * The `vidpool` command: evaluate folders of videos with a progress bar, probe files, list the
 * metrics, run a demo. Its modules are exported for programs that want the same pieces.
 *
 * @since 0.1.0
 */
export { command, CommandExit, ExitCode, run, version } from "./Cli.ts"
export { layer as EngineLive } from "./EngineLive.ts"
export * as Live from "./Live.ts"
export {
  type DecoderChoice,
  decoderChoices,
  type DecoderInfo,
  type DecoderUnavailable,
  defaultMetrics,
  type DemoCorpusError,
  type DemoInputs,
  Engine,
  type EngineError,
  type EvalOptions,
  type EvalOutcome,
  type EvaluationError,
  type Failure,
  type FfmpegLookupError,
  type MetricInfo,
  type ProbeError,
  type ProbeInfo,
  resolveNames
} from "./Engine.ts"
export * as Evaluation from "./Evaluation.ts"
export * as ExitCodes from "./ExitCodes.ts"
export * as Format from "./Format.ts"
export { InputError } from "./InputError.ts"
export { OutputError, type WriteFailure } from "./OutputError.ts"
export * as Inputs from "./Inputs.ts"
export * as Output from "./Output.ts"
export * as Progress from "./Progress.ts"
export * as Report from "./Report.ts"
export * as RunPlan from "./RunPlan.ts"
export * as Summary from "./Summary.ts"
