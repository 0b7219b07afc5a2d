/**
 * The checks of the models an evaluation needs, on the main thread before anything is decoded:
 * each chosen metric's model given, onnxruntime-node there, the file there and loadable as ONNX
 * with the asked providers, its signature what the metric needs. A model checked once is not
 * checked again while its file's content and the settings stay the same.
 *
 * @since 0.3.0
 */
import { Effect } from "effect"
import type * as Metric from "./Metric.ts"
import { checkSignature, fileDigest, isRefusal, loadRuntime, openSession, type Refusal } from "./internal/ModelRuntime.ts"
import { describeThrow } from "./internal/Modules.ts"
import { type GivenModel, ModelError, type ModelSettings, type ModelSpec, variableOf } from "./Models.ts"

/**
 * The models of some metrics, each once, with the metrics that need it.
 *
 * @since 0.3.0
 * @category checks
 */
export const neededModels = (
  metrics: ReadonlyArray<Metric.Metric>
): Array<{ readonly spec: ModelSpec; readonly metrics: Array<string> }> => {
  const byName = new Map<string, { readonly spec: ModelSpec; readonly metrics: Array<string> }>()
  for (const metric of metrics) {
    for (const spec of metric.models ?? []) {
      const entry = byName.get(spec.name) ?? { spec, metrics: [] }
      entry.metrics.push(metric.name)
      byName.set(spec.name, entry)
    }
  }
  return Array.from(byName.values())
}

/**
 * How a user gives a model, in words.
 *
 * @since 0.3.0
 * @category checks
 */
export const howToGive = (spec: ModelSpec): string =>
  `give it with --model ${spec.name}=PATH, the variable ${variableOf(spec.name)}=PATH or the models option ` +
  `({ ${spec.name}: PATH }); how to get ${spec.description} as ONNX: ${spec.howToGet}`

/**
 * The SHA-256 (hex) of the model file given as `model` (for `metrics`); a file that is not there
 * or cannot be read is a `ModelError` (`FileMissing`) naming it.
 *
 * @since 0.3.0
 * @category checks
 */
export const modelDigest = (model: string, file: string, metrics: ReadonlyArray<string> = []): Effect.Effect<string, ModelError> =>
  Effect.flatMap(Effect.promise(() => fileDigest(file)), (digest) =>
    isRefusal(digest)
      ? Effect.fail(
        new ModelError({
          reason: digest.reason,
          model,
          file,
          metrics,
          detail: digest.detail,
          ...(digest.cause === undefined ? {} : { cause: digest.cause })
        })
      )
      : Effect.succeed(digest))

/** A refusal of the model `spec`'s file, as the `ModelError` a user reads. */
const refused = (spec: ModelSpec, metrics: ReadonlyArray<string>, file: string | undefined, refusal: Refusal) =>
  new ModelError({
    reason: refusal.reason,
    model: spec.name,
    ...(file === undefined ? {} : { file }),
    metrics,
    detail: refusal.detail,
    ...(refusal.cause === undefined ? {} : { cause: refusal.cause })
  })

/** The models that passed, keyed by model, content digest and providers; and where ONNX Runtime is imported from. */
interface Memory {
  readonly passed: Set<string>
  readonly runtime: string | undefined
}

/** The SHA-256 of `file`, refused when it cannot be read or is not the `expected` one. */
const digestOf = Effect.fnUntraced(function*(
  spec: ModelSpec,
  metrics: ReadonlyArray<string>,
  file: string,
  expected: string | undefined
) {
  const digest = yield* Effect.promise(() => fileDigest(file))
  if (isRefusal(digest)) return yield* refused(spec, metrics, file, digest)
  if (expected !== undefined && expected !== digest) {
    return yield* refused(spec, metrics, file, {
      reason: "Changed",
      detail: `its content (SHA-256 ${digest.slice(0, 16)}...) is not the file the run was started with (SHA-256 ${
        expected.slice(0, 16)
      }...): put that file back at this path (on every runner, for a cluster run), then start the run again ` +
        `(a cluster run under a new --run-id: its refused batches are stored with their error)`
    })
  }
  return digest
})

/** Why the model's file does not load as the metric needs it, or `undefined`: its own loader, else ONNX Runtime and the signature. */
const loadRefusal = (
  memory: Memory,
  spec: ModelSpec,
  file: string,
  settings: ModelSettings
): Effect.Effect<Refusal | undefined> => {
  const load = spec.load
  if (load !== undefined) {
    return Effect.promise(() =>
      load(file).then(() => undefined, (cause: unknown): Refusal => ({
        reason: "Signature",
        detail: `expected ${spec.description}; ${describeThrow(cause)}`,
        cause
      }))
    )
  }
  return Effect.promise(async () => {
    const ort = await loadRuntime(memory.runtime)
    if (isRefusal(ort)) return ort
    const session = await openSession(ort, file, { ...settings, threads: 1, checkOnly: true })
    if (isRefusal(session)) return session
    const output = checkSignature(spec, session)
    await session.release()
    return isRefusal(output) ? output : undefined
  })
}

/** One model checked: its file's digest, then (unless it passed before) that it loads. */
const checkOne = Effect.fnUntraced(function*(
  memory: Memory,
  spec: ModelSpec,
  metrics: ReadonlyArray<string>,
  file: string,
  settings: ModelSettings,
  expected: string | undefined
) {
  const digest = yield* digestOf(spec, metrics, file, expected)
  const key = [spec.name, digest, settings.providers.join(",")].join("|")
  if (!memory.passed.has(key)) {
    const refusal = yield* loadRefusal(memory, spec, file, settings)
    if (refusal !== undefined) return yield* refused(spec, metrics, file, refusal)
    memory.passed.add(key)
  }
  return { name: spec.name, path: file, digest } satisfies GivenModel
})

/** `check` over a checker's memory. */
const checkAll = Effect.fnUntraced(function*(
  memory: Memory,
  catalogue: ReadonlyArray<Metric.Metric>,
  chosen: ReadonlyArray<Metric.Metric>,
  given: Readonly<Record<string, string>>,
  settings: ModelSettings,
  expected: Readonly<Record<string, string>> = {}
) {
  const known = neededModels(catalogue).map((m) => m.spec.name)
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) {
      return yield* new ModelError({
        reason: "UnknownModel",
        model: name,
        file: given[name],
        metrics: [],
        detail: `no metric runs a model of that name; the models are ${known.join(", ") || "(none)"}`
      })
    }
  }
  const out: Array<GivenModel> = []
  for (const { metrics, spec } of neededModels(chosen)) {
    const file = given[spec.name]
    if (file === undefined || file === "") {
      return yield* new ModelError({
        reason: "NotGiven",
        model: spec.name,
        metrics,
        detail: `no model file was given: ${howToGive(spec)}`
      })
    }
    out.push(yield* checkOne(memory, spec, metrics, file, settings, expected[spec.name]))
  }
  return out
})

/**
 * The checks, with a memory of the models that passed (keyed by content digest, model and
 * settings), owned by whoever makes it (an Evaluator layer). `runtime` names the package ONNX
 * Runtime is imported from (onnxruntime-node).
 *
 * @since 0.3.0
 * @category checks
 */
export const makeChecker = (options: { readonly runtime?: string } = {}) => {
  const memory: Memory = { passed: new Set(), runtime: options.runtime }
  /**
   * The given models the chosen metrics need, checked; or the first `ModelError`. A name in
   * `given` that no metric of `catalogue` uses is an `UnknownModel` error; a file whose SHA-256
   * is not its `expected` one, a `Changed` error.
   */
  const check = (
    catalogue: ReadonlyArray<Metric.Metric>,
    chosen: ReadonlyArray<Metric.Metric>,
    given: Readonly<Record<string, string>>,
    settings: ModelSettings,
    expected?: Readonly<Record<string, string>>
  ): Effect.Effect<Array<GivenModel>, ModelError> => checkAll(memory, catalogue, chosen, given, settings, expected)
  return { check }
}

/**
 * @since 0.3.0
 * @category checks
 */
export type ModelChecker = ReturnType<typeof makeChecker>
