/**
 * The runner side: the `EvalBatch` entity's handler (a batch evaluated with the runner's
 * `BatchEvaluator`, its results re-indexed into the whole input) and the layers that make a
 * process a runner (PostgreSQL storage, effect/cluster's socket transport) or run everything in
 * one process with storage in memory.
 *
 * @since 0.2.0
 */
import { Cause, Effect, Layer, Option, Semaphore } from "effect"
import {
  Entity,
  MessageStorage,
  RunnerAddress,
  RunnerHealth,
  Runners,
  RunnerStorage,
  Sharding,
  ShardingConfig,
  SqlMessageStorage,
  SqlRunnerStorage
} from "effect/cluster"
import type { SqlClient } from "effect/sql"
import { NodeClusterSocket, NodeCrypto } from "@effect/platform-node"
import { MetricError, ModelError, placed as placedAt, UnknownMetric } from "@vidpool/eval"
import { DecodeError, InvalidPoolOptions, Video } from "@vidpool/pool"
import { BatchFailed, type BatchReply, type BatchRequest, EvalBatch } from "./Batch.ts"
import { type BatchEvaluateError, BatchEvaluator } from "./BatchEvaluator.ts"
import { InvalidClusterOptions } from "./Coordinator.ts"
import * as Database from "./Database.ts"
import * as Wire from "./Wire.ts"

/**
 * effect/cluster's timings as vidpool sets them: a dead runner's shards move within a few
 * seconds (its locks go with its database session; the others poll every second and ping
 * every two), and a message waiting in storage is picked up within a second. The same on every
 * runner and coordinator of a cluster.
 *
 * @since 0.2.0
 * @category configuration
 */
export const shardingTimings: Partial<ShardingConfig.ShardingConfig["Service"]> = {
  shardsPerGroup: 64,
  refreshAssignmentsInterval: "1 second",
  runnerHealthCheckInterval: "2 seconds",
  entityMessagePollInterval: "1 second",
  entityReplyPollInterval: "100 millis",
  shardLockRefreshInterval: "2 seconds",
  shardLockExpiration: "8 seconds",
  entityMaxIdleTime: "30 seconds",
  entityTerminationTimeout: "5 seconds"
}

/** A sample as it left the coordinator: its `Video` fields (as their data form) made `Video`s again. */
const reviveSample = (sample: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(sample)) {
    const video = value as { _id?: unknown; path?: unknown; source?: unknown; options?: unknown }
    if (typeof value === "object" && value !== null && video._id === "Video" && typeof video.path === "string") {
      const options = (typeof video.options === "object" && video.options !== null ? video.options : {}) as Video["options"]
      out[field] = video.source === "folder" ? Video.folder(video.path, options) : Video.file(video.path, options)
    } else {
      out[field] = value
    }
  }
  return out
}

/** An error of the batch's evaluation, its sample named by its index in the whole input. */
const toBatchError = (request: BatchRequest, runner: string) => (error: BatchEvaluateError) => {
  if (error instanceof DecodeError) {
    return error.index === undefined ? error : error.at(request.indices[error.index] ?? error.index, error.key ?? "video")
  }
  if (error instanceof MetricError) {
    return error.index === undefined
      ? error
      : new MetricError({ metric: error.metric, index: request.indices[error.index] ?? error.index, detail: error.detail })
  }
  if (error instanceof UnknownMetric || error instanceof InvalidPoolOptions || error instanceof ModelError) return error
  return new BatchFailed({ batch: request.batch, runner, detail: error.message })
}

/**
 * The `EvalBatch` handler over the `BatchEvaluator` in context: at most `batchesAtOnce` batches
 * (default 1) are evaluated at once on this runner, each with the evaluator's own parallelism
 * (its metric workers and loaders); the others wait, in their entities' mailboxes. With
 * `onBatch`, each finished batch is reported (the runner command writes a line).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerEntity = (options?: {
  readonly batchesAtOnce?: number | undefined
  readonly onBatch?: ((done: { readonly request: BatchRequest; readonly reply: BatchReply }) => Effect.Effect<void>) | undefined
}): Layer.Layer<never, InvalidClusterOptions, BatchEvaluator | Sharding.Sharding> =>
  Layer.unwrap(Effect.gen(function*() {
    const batchesAtOnce = options?.batchesAtOnce ?? 1
    if (!(Number.isSafeInteger(batchesAtOnce) && batchesAtOnce >= 1 && batchesAtOnce <= 1024)) {
      return yield* new InvalidClusterOptions({ detail: `batchesAtOnce must be a whole number from 1 to 1024, got ${batchesAtOnce}` })
    }
    const slots = yield* Semaphore.make(batchesAtOnce)
    const onBatch = options?.onBatch
    return EvalBatch.toLayer(
      Effect.gen(function*() {
        const evaluator = yield* BatchEvaluator
        const address = yield* Entity.CurrentRunnerAddress
        const runner = `${address.host}:${address.port}`
        return EvalBatch.of({
          Evaluate: ({ payload: request }) =>
            slots.withPermits(1)(Effect.gen(function*() {
              const decoded = yield* Effect.try({
                try: () => Wire.decodeUnsafe(request.samples),
                catch: (cause) => new BatchFailed({ batch: request.batch, runner, detail: `its samples cannot be read: ${String(cause)}` })
              })
              if (!Array.isArray(decoded) || decoded.length !== request.indices.length) {
                return yield* new BatchFailed({ batch: request.batch, runner, detail: "its samples do not match its indices" })
              }
              const samples = decoded.map((sample) => reviveSample(sample as Record<string, unknown>))
              const result = yield* evaluator.evaluate(samples, request.options).pipe(
                Effect.mapError(toBatchError(request, runner))
              )
              const placed = result.samples.map((sample) => placedAt(sample, request.indices[sample.index] ?? sample.index))
              const reply = yield* Effect.try({
                try: (): BatchReply => ({
                  batch: request.batch,
                  runner,
                  results: Wire.encodeUnsafe(placed),
                  partials: Wire.encodeUnsafe(result.partials),
                  timing: result.timing
                }),
                catch: (cause) =>
                  new BatchFailed({
                    batch: request.batch,
                    runner,
                    detail: `its results cannot be sent back: ${cause instanceof Error ? cause.message : String(cause)}`
                  })
              })
              if (onBatch !== undefined) yield* onBatch({ request, reply })
              return reply
            }))
        })
      }),
      { maxIdleTime: "30 seconds" }
    )
  }))

/**
 * `HOST:PORT`, checked (a port from 1 to 65535).
 *
 * @since 0.2.0
 * @category constructors
 */
export const parseAddress = (text: string): Option.Option<RunnerAddress.RunnerAddress> => {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim())
  if (match === null) return Option.none()
  const port = Number(match[2])
  if (!(port >= 1 && port <= 65535)) return Option.none()
  return Option.some(RunnerAddress.make(match[1].replace(/^\[|\]$/g, ""), port))
}

/**
 * The name of a cluster: its storage tables in the database are `vidpool_<name>_...`, and its
 * shard locks are its own, so several clusters can share one database. Lower-case letters,
 * digits and `_`, 1 to 40 of them; `defaultName` when not given.
 *
 * @since 0.2.0
 * @category configuration
 */
export const checkName = (name: string): boolean => /^[a-z0-9_]{1,40}$/.test(name)

/**
 * @since 0.2.0
 * @category configuration
 */
export const defaultName = "main"

/** Message and runner storage of cluster `name` in the database in context, with the config they read. */
const sqlStorage = (db: string, name: string | undefined, config: ShardingConfig.ShardingConfig["Service"]) => {
  const prefix = `vidpool_${name ?? defaultName}`
  const tablesFailed = (cause: Cause.Cause<unknown>) =>
    Layer.effectDiscard(Effect.fail(new Database.DatabaseUnavailable({ url: Database.safeUrl(db), detail: `the cluster's tables cannot be made: ${Cause.squash(cause)}` })))
  return Layer.mergeAll(
    SqlMessageStorage.layerStorage({ prefix }).pipe(
      Layer.provide(NodeCrypto.layerDigest),
      // The migrations first, their failure (no right to create tables, say) a DatabaseUnavailable.
      Layer.provide(Layer.catchCause(SqlMessageStorage.layerMigrations({ prefix }), tablesFailed) as Layer.Layer<never, Database.DatabaseUnavailable, SqlClient.SqlClient>)
    ),
    SqlRunnerStorage.layerWith({ prefix }).pipe(
      Layer.catchCause(tablesFailed)
    ) as Layer.Layer<RunnerStorage.RunnerStorage, Database.DatabaseUnavailable, SqlClient.SqlClient | ShardingConfig.ShardingConfig>
  ).pipe(Layer.provide(ShardingConfig.layer(config)))
}

/**
 * A runner process: the entity served at `listen` (advertised to the others as `advertise`,
 * by default `listen`), message and runner storage of the cluster `name` in the PostgreSQL
 * database `db`, and the socket transport between runners. Fails with `DatabaseUnavailable`
 * before it joins when the database cannot be used.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRunner = (options: {
  readonly db: string
  readonly listen: RunnerAddress.RunnerAddress
  readonly advertise?: RunnerAddress.RunnerAddress | undefined
  readonly name?: string | undefined
  readonly batchesAtOnce?: number | undefined
  readonly onBatch?: ((done: { readonly request: BatchRequest; readonly reply: BatchReply }) => Effect.Effect<void>) | undefined
}) => {
  const shardingConfig = {
    ...shardingTimings,
    runnerAddress: Option.some(options.advertise ?? options.listen),
    runnerListenAddress: Option.some(options.listen)
  }
  return layerEntity(options).pipe(
    Layer.provide(NodeClusterSocket.layer({ storage: "byo", shardingConfig })),
    Layer.provide(sqlStorage(options.db, options.name, { ...ShardingConfig.defaults, ...shardingConfig })),
    Layer.provide(Database.layer(options.db))
  )
}

/**
 * A coordinator's connection to the cluster `name`: client only (it runs no entity), over the
 * same storage as the runners.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerClient = (db: string, options?: { readonly name?: string | undefined }) => {
  const shardingConfig = { ...shardingTimings, runnerAddress: Option.none() }
  return NodeClusterSocket.layer({ clientOnly: true, storage: "byo", shardingConfig }).pipe(
    Layer.provideMerge(sqlStorage(db, options?.name, { ...ShardingConfig.defaults, ...shardingConfig })),
    Layer.provideMerge(Database.layer(db))
  )
}

/**
 * The single-process mode: one runner in this process, with message and runner storage in
 * memory, for small runs and tests. A coordinator in the same process sends to it as to a
 * cluster (same messages, same serialization).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerLocal = (options?: { readonly batchesAtOnce?: number }): Layer.Layer<
  Sharding.Sharding,
  InvalidClusterOptions,
  BatchEvaluator
> =>
  layerEntity(options).pipe(
    Layer.provideMerge(Sharding.layer),
    Layer.provide(Runners.layerNoop),
    Layer.provide(MessageStorage.layerMemory),
    Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
    Layer.provide(ShardingConfig.layer({ ...shardingTimings, simulateRemoteSerialization: true }))
  )
