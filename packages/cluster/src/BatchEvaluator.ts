/**
 * What a runner evaluates a batch with: `BatchEvaluator`, a service around the runner's own
 * Evaluator (`BatchEvaluator.layer`), or the CLI's engine with its decoder choice, or a fake in
 * tests.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import { type EvalResults, type EvaluateError, Evaluator } from "@vidpool/eval"
import type { BatchOptions } from "./Batch.ts"

/**
 * What a batch's evaluation gives back: the Evaluator's per-sample results (indexed in the
 * batch), set-metric partials and timings.
 *
 * @since 0.2.0
 * @category models
 */
export type BatchResults = Pick<EvalResults, "samples" | "partials" | "timing">

/**
 * How a batch's evaluation fails: the Evaluator's errors, or another tagged error of the
 * evaluator (its decoder cannot start, say), which the runner sends back as a `BatchFailed`.
 *
 * @since 0.2.0
 * @category models
 */
export type BatchEvaluateError = EvaluateError | { readonly _tag: string; readonly message: string }

/**
 * @since 0.2.0
 * @category services
 */
export class BatchEvaluator extends Context.Service<BatchEvaluator, {
  readonly evaluate: (
    samples: ReadonlyArray<Record<string, unknown>>,
    options: BatchOptions
  ) => Effect.Effect<BatchResults, BatchEvaluateError>
}>()("@vidpool/cluster/BatchEvaluator") {
  /**
   * Batches evaluated by the `Evaluator` in context (`Live.layerEvaluator` of `@vidpool/cli`
   * on a runner that uses the default decoder); the options' `decoder` is not read.
   *
   * @since 0.2.0
   */
  static readonly layer: Layer.Layer<BatchEvaluator, never, Evaluator> = Layer.effect(
    BatchEvaluator,
    Effect.gen(function*() {
      const evaluator = yield* Evaluator
      return BatchEvaluator.of({
        evaluate: (samples, options) => {
          const { decoder: _, ...rest } = options
          return evaluator.evaluate(samples, rest)
        }
      })
    })
  )
}
