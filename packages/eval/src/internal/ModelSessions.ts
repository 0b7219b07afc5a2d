/**
 * The model sessions of one thread: each model file (by content digest) and settings opened once
 * and reused by every later sample and call, and the `ModelContext` a metric's `prepare` runs with.
 *
 * @since 0.3.0
 */
import type * as Metric from "../Metric.ts"
import type { ModelsPayload } from "./MetricProtocol.ts"
import { checkSignature, isRefusal, loadRuntime, openSession, type Ort, type OrtSession, runOnce } from "./ModelRuntime.ts"
import type { ModelSpec } from "../Models.ts"

interface Opened {
  readonly ort: Ort
  readonly session: OrtSession
  readonly input: string
  readonly output: string
}

/**
 * A thread's sessions.
 *
 * @since 0.3.0
 * @category models
 */
export interface ModelSessions {
  /** The context a metric's `prepare` runs with, over the request's models. */
  readonly context: (metric: { readonly name: string; readonly models?: ReadonlyArray<ModelSpec> }, models: ModelsPayload) => Metric.ModelContext
  /** Sessions opened so far (for tests and the bench). */
  readonly opened: () => number
  /** Releases every session. */
  readonly releaseAll: () => Promise<void>
}

/** A thread's opened sessions and loaded files, by model and content digest (and settings). */
interface Cache {
  readonly sessions: Map<string, Promise<Opened>>
  /** Files a metric reads itself (a tokenizer), by model and content digest. */
  readonly files: Map<string, Promise<unknown>>
  opened: number
}

type Declaring = { readonly name: string; readonly models?: ReadonlyArray<ModelSpec> }

/** The session of a model file and settings, opened on first use. */
const open = (cache: Cache, spec: ModelSpec, path: string, digest: string, settings: ModelsPayload["settings"]): Promise<Opened> => {
  const key = [spec.name, digest, settings.threads, settings.providers.join(",")].join("|")
  let entry = cache.sessions.get(key)
  if (entry === undefined) {
    entry = (async () => {
      const ort = await loadRuntime()
      if (isRefusal(ort)) throw new Error(ort.detail)
      const session = await openSession(ort, path, { ...settings, providers: settings.providers })
      if (isRefusal(session)) throw new Error(`model ${spec.name} (${path}): ${session.detail}`)
      const output = checkSignature(spec, session)
      if (isRefusal(output)) throw new Error(`model ${spec.name} (${path}): ${output.detail}`)
      cache.opened++
      return { ort, session, input: spec.input.name, output: output.name }
    })()
    // A failed open is not kept: the next sample tries again (and fails with its own error).
    entry.catch(() => cache.sessions.delete(key))
    cache.sessions.set(key, entry)
  }
  return entry
}

/** The model `name` as `metric` declares it and the request gives it. */
const given = (metric: Declaring, models: ModelsPayload, name: string) => {
  const spec = metric.models?.find((m) => m.name === name)
  if (spec === undefined) throw new Error(`metric ${metric.name} does not declare the model ${name}`)
  const file = models.given.find((m) => m.name === name)
  if (file === undefined) throw new Error(`no file was given for the model ${name}`)
  return { spec, file }
}

/** What a model that is not ONNX loads from its file (its own `load`), loaded on first use. */
const loadFile = (cache: Cache, metric: Declaring, models: ModelsPayload, name: string): Promise<unknown> => {
  const { file, spec } = given(metric, models, name)
  if (spec.load === undefined) throw new Error(`the model ${name} is an ONNX model: run it, do not load it`)
  const key = [spec.name, file.digest].join("|")
  let entry = cache.files.get(key)
  if (entry === undefined) {
    entry = spec.load(file.path)
    entry.catch(() => cache.files.delete(key))
    cache.files.set(key, entry)
  }
  return entry
}

/** Runs the ONNX model `name` once on `data` (floats or token ids) of shape `dims`. */
const runModel = async (
  cache: Cache,
  metric: Declaring,
  models: ModelsPayload,
  name: string,
  data: Float32Array | BigInt64Array,
  dims: ReadonlyArray<number>
) => {
  const { file, spec } = given(metric, models, name)
  const opened = await open(cache, spec, file.path, file.digest, models.settings)
  return runOnce(opened.ort, opened.session, opened.input, opened.output, data, dims)
}

/**
 * An empty cache of sessions.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeSessionsUnsafe = (): ModelSessions => {
  const cache: Cache = { sessions: new Map(), files: new Map(), opened: 0 }
  return {
    context: (metric, models) => ({
      batch: models.settings.batch,
      load: async (name) => loadFile(cache, metric, models, name),
      run: (name, data, dims) => runModel(cache, metric, models, name, data, dims),
      runIds: (name, ids, dims) => runModel(cache, metric, models, name, ids, dims)
    }),
    opened: () => cache.opened,
    releaseAll: async () => {
      const all = await Promise.allSettled(cache.sessions.values())
      cache.sessions.clear()
      cache.files.clear()
      for (const s of all) if (s.status === "fulfilled") await s.value.session.release()
    }
  }
}
