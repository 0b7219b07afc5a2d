/**
 * The metric worker: the messages between an Evaluator consumer and the worker thread that
 * computes its metrics (`effect/rpc` over `effect/workers`), the worker-side handlers, and the
 * spawning of a worker thread that runs the compiled worker entry.
 *
 * @since 0.1.0
 */
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Effect, Layer, Schema } from "effect"
import type { Scope } from "effect"
import { Rpc, RpcClient, RpcGroup } from "effect/rpc"
import type { RpcClientError } from "effect/rpc/RpcClientError"
import { Transferable } from "effect/workers"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { builtins } from "./BuiltinMetrics.ts"
import { extractorOfModule } from "./FeatureExtractor.ts"
import * as Metric from "./Metric.ts"
import { catalogueFor, metricsOfModule } from "./MetricRegistry.ts"

/**
 * Which field of a sample feeds the set metrics' `video`, and in which role.
 *
 * @since 0.1.0
 * @category models
 */
export interface SetFeed {
  readonly field: string
  readonly role: Metric.Role
}

/**
 * Where a worker finds its metrics: the metric modules to import, and the module of the
 * `FeatureExtractor` of `common.frechet_distance` (null for the built-in one). `key` names the
 * combination, for the worker's cache of loaded catalogues. Made once per Evaluator call by
 * `metricSources`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricSources {
  readonly key: string
  readonly modules: ReadonlyArray<string>
  readonly extractor: string | null
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const metricSources = (modules: ReadonlyArray<string>, extractor: string | null): MetricSources => ({
  key: [...modules, `extractor:${extractor}`].join("\n"),
  modules,
  extractor
})

const MetricSourcesSchema = Schema.Struct({
  key: Schema.String,
  modules: Schema.Array(Schema.String),
  extractor: Schema.NullOr(Schema.String)
})

/**
 * A value passed to the worker as is (structured clone); the ArrayBuffers of the tensors in it
 * are transferred, not copied.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SampleInput = Transferable.schema(
  Schema.Any as Schema.Codec<Record<string, unknown>>,
  (input: Record<string, unknown>) => transferables(input)
)

const Cloned = Transferable.schema(Schema.Any, () => [])

/**
 * The ArrayBuffers of the tensors among a record's values, each once.
 *
 * @since 0.1.0
 * @category transfer
 */
export const transferables = (input: Record<string, unknown>): Array<ArrayBuffer> => {
  const buffers = new Set<ArrayBuffer>()
  for (const value of Object.values(input)) {
    if (Metric.isTensor(value) && value.data.buffer instanceof ArrayBuffer) buffers.add(value.data.buffer)
  }
  return Array.from(buffers)
}

/**
 * Computes the sample metrics of one sample and folds it into a fresh partial (`init()`) of each
 * set metric, which the reply carries back to be merged on the main thread: the worker keeps no
 * state between samples, so a worker that dies loses nothing but the sample it was computing. A
 * metric that throws does not stop the others: it is listed in the reply's `failures`; when a set
 * metric throws, the reply carries no partial at all (the sample counts for no set metric).
 *
 * @since 0.1.0
 * @category messages
 */
export class Compute extends Rpc.make("Compute", {
  payload: {
    index: Schema.Number,
    input: SampleInput,
    sampleMetrics: Schema.Array(Schema.String),
    setMetrics: Schema.Array(Schema.String),
    feeds: Cloned,
    /** The modules the worker loads its catalogue from. */
    sources: MetricSourcesSchema
  },
  success: Cloned,
  error: Metric.MetricError
}) {}

/**
 * @since 0.1.0
 * @category messages
 */
export const MetricRpcs = RpcGroup.make(Compute)

/**
 * What `Compute` answers: the sample metrics' results, the metrics that threw, the set metrics'
 * partials of the sample, and the CPU time spent on it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ComputeReply {
  /** Per-sample metrics; one that threw has a `Metric.failed` result. */
  readonly results: Record<string, Metric.MetricResult>
  /** The metrics (per-sample or set) that threw on the sample, in the order they ran. */
  readonly failures: ReadonlyArray<MetricFailure>
  /** Each set metric's partial over this sample alone; empty when a set metric threw. */
  readonly partials: Record<string, unknown>
  readonly computeMs: number
}

/**
 * A metric that threw on a sample: its name and the message.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricFailure {
  readonly metric: string
  readonly detail: string
}

/**
 * A client of one metric worker thread.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricWorkerClient = RpcClient.FromGroup<typeof MetricRpcs, RpcClientError>

const describeThrow = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * The handlers run inside the worker thread (also usable in-process, which the tests do).
 *
 * @since 0.1.0
 * @category worker
 */
export const makeHandlers = () => {
  const catalogues = new Map<string, Promise<Map<string, Metric.Metric>>>()
  const builtinsOnly = Effect.succeed(new Map<string, Metric.Metric>(builtins.map((m) => [m.name, m])))

  const load = (sources: MetricSources): Effect.Effect<Map<string, Metric.Metric>, Metric.MetricError> => {
    const { extractor, modules } = sources
    if (modules.length === 0 && extractor === null) return builtinsOnly
    let entry = catalogues.get(sources.key)
    if (entry === undefined) {
      entry = (async () => {
        const lists = await Promise.all(modules.map(async (url) => metricsOfModule(url, await import(url))))
        const plugged = extractor === null ? undefined : extractorOfModule(extractor, await import(extractor))
        return new Map(catalogueFor(lists, plugged).map((m) => [m.name, m]))
      })()
      catalogues.set(sources.key, entry)
    }
    const pending = entry
    return Effect.tryPromise({
      try: () => pending,
      catch: (cause) =>
        new Metric.MetricError({
          metric: [...modules, ...(extractor === null ? [] : [extractor])].join(", "),
          detail: `cannot load metric modules: ${describeThrow(cause)}`
        })
    })
  }

  const compute = Effect.fnUntraced(function*(request: Rpc.Payload<typeof Compute>) {
    const metrics = yield* load(request.sources)
    const find = (name: string) => {
      const metric = metrics.get(name)
      return metric === undefined
        ? Effect.fail(new Metric.MetricError({ metric: name, index: request.index, detail: "not known to the worker" }))
        : Effect.succeed(metric)
    }
    const started = performance.now()
    const results: Record<string, Metric.MetricResult> = {}
    const failures: Array<MetricFailure> = []
    const fail = (metric: string, cause: unknown) => {
      const error = new Metric.MetricError({ metric, index: request.index, detail: describeThrow(cause) })
      failures.push({ metric, detail: error.detail })
      return error
    }
    const input = request.input as Metric.MetricInput
    for (const name of request.sampleMetrics) {
      const metric = yield* find(name)
      if (metric.kind !== "sample") continue
      const missing = Metric.missingField(metric.needs, input)
      if (missing !== undefined) {
        results[name] = Metric.skipped(name, `the sample has no "${missing}" field`)
        continue
      }
      try {
        results[name] = metric.compute(input)
      } catch (cause) {
        // The other metrics of the sample are still computed; this one records its error.
        results[name] = Metric.failed(fail(name, cause))
      }
    }
    const feeds = request.feeds as ReadonlyArray<SetFeed>
    const partials: Record<string, unknown> = {}
    let setFailed = false
    for (const name of request.setMetrics) {
      const metric = yield* find(name)
      if (metric.kind !== "set") continue
      try {
        let acc: unknown = undefined
        for (const feed of feeds) {
          const video = input[feed.field]
          if (!Metric.isTensor(video)) continue
          acc = metric.accumulate(acc === undefined ? metric.init() : acc, { ...input, video }, feed.role)
        }
        if (acc !== undefined) partials[name] = acc
      } catch (cause) {
        fail(name, cause)
        setFailed = true
      }
    }
    const reply: ComputeReply = {
      results,
      failures,
      partials: setFailed ? {} : partials,
      computeMs: performance.now() - started
    }
    return reply
  })

  return MetricRpcs.of({ Compute: compute })
}

/**
 * The handlers as a layer, for the worker's RPC server.
 *
 * @since 0.1.0
 * @category worker
 */
export const HandlersLive = MetricRpcs.toLayer(Effect.sync(makeHandlers))

const require = createRequire(import.meta.url)

/**
 * The compiled entry of a metric worker thread: `MetricWorkerMain` bundled into one file by the
 * build (one file parses far faster than effect's hundreds of modules). It is resolved through the
 * package's own `exports`, so the same lookup works from `dist/`, from a bundle that inlined this
 * module (the CLI's), and from the TypeScript sources under a test runner. Plain Node runs it: no
 * TypeScript loader is involved.
 *
 * @since 0.2.0
 * @category spawning
 */
export const workerEntry = (): string => require.resolve("@vidpool/eval/metric-worker")

/**
 * When this process runs under tsx (`node --import tsx`, or the `tsx` command, whose `--import`
 * names a file inside tsx), the URL of tsx's ESM API, resolved from where that flag points. tsx
 * registers its loader on the main thread only, so a metric worker given this URL (as
 * `workerData.tsx`) registers it again before it imports a user's `.ts` modules. `undefined`
 * under plain Node.
 */
const tsxOfProcess = (): string | undefined => {
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i] === "--import" ? argv[i + 1] : argv[i].startsWith("--import=") ? argv[i].slice(9) : undefined
    if (value === undefined || !(value === "tsx" || /[\\/]tsx[\\/]/.test(value))) continue
    try {
      const from = value.startsWith("file:") ? fileURLToPath(value) : path.join(process.cwd(), "[tsx]")
      return pathToFileURL(createRequire(from).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * Starts a worker thread running the compiled `MetricWorkerMain` under plain Node. When the
 * process itself runs under tsx, the thread registers tsx's loader first, so that `.ts` metric and
 * extractor modules load there too; otherwise user modules must be JavaScript.
 *
 * @since 0.1.0
 * @category spawning
 */
export const spawnThread = (): Worker => {
  const tsx = tsxOfProcess()
  return new Worker(workerEntry(), tsx === undefined ? {} : { workerData: { tsx } })
}

/**
 * A metric worker thread: its client, and `terminate`, which stops the thread at once (used when
 * a call was interrupted or the thread misbehaved, rather than asking it to close and waiting).
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricWorkerHandle {
  readonly client: MetricWorkerClient
  readonly terminate: Effect.Effect<void>
}

/**
 * A new metric worker thread, owned by the current Scope (closing it ends the thread).
 *
 * @since 0.1.0
 * @category spawning
 */
export const spawn: Effect.Effect<MetricWorkerHandle, never, Scope.Scope> = Effect.gen(function*() {
  let thread: Worker | undefined
  const protocol = yield* Layer.build(
    RpcClient.layerProtocolWorker({ size: 1 }).pipe(
      Layer.provide(NodeWorker.layer(() => (thread = spawnThread()))),
      Layer.orDie
    )
  )
  const client = yield* RpcClient.make(MetricRpcs).pipe(Effect.provideContext(protocol))
  const terminate = Effect.promise(async () => {
    await thread?.terminate()
  })
  return { client, terminate }
})
