/**
 * One vidpool evaluation sharded over several runners with effect/cluster: the coordinator sends
 * batches of sample paths to the `EvalBatch` entity; each runner evaluates its batches with its own
 * VideoPool and Evaluator and replies with the scores and set-metric partials.
 *
 * @since 0.2.0
 */
export * as Batch from "./Batch.ts"
export { BatchFailed, EvalBatch } from "./Batch.ts"
export { type BatchEvaluateError, BatchEvaluator, type BatchResults } from "./BatchEvaluator.ts"
export * as ClusterLog from "./ClusterLog.ts"
export * as Coordinator from "./Coordinator.ts"
export { type ClusterEvaluateOptions, ClusterUnavailable, InvalidClusterOptions, type WireStats } from "./Coordinator.ts"
export * as Database from "./Database.ts"
export { DatabaseUnavailable } from "./Database.ts"
export * as Runner from "./Runner.ts"
export * as Wire from "./Wire.ts"
export { WireError } from "./Wire.ts"
