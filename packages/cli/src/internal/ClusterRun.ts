/**
 * `vidpool eval --cluster`: the flags of a cluster run, and the run itself: the same
 * `Evaluation.run` as on one machine (same output, same summary), with an engine whose
 * evaluation is the cluster coordinator's, over a client-only connection to the cluster's
 * PostgreSQL storage.
 *
 * @since 0.2.0
 */
import { randomBytes } from "node:crypto"
import { Context, Effect, Layer, Option } from "effect"
import { Flag } from "effect/cli"
import { ClusterLog, Coordinator, Database, Runner } from "@vidpool/cluster"
import { MetricRegistry } from "@vidpool/eval"
import { Engine, passedOn } from "../Engine.ts"
import * as Evaluation from "../Evaluation.ts"
import { InputError } from "../InputError.ts"
import * as Output from "../Output.ts"
import type { RunPlan } from "../RunPlan.ts"

/**
 * The flags of a cluster run (`eval`), and the database flag the runner shares.
 *
 * @since 0.2.0
 * @category flags
 */
export const db = Flag.String("db").pipe(
  Flag.withDescription("The cluster's PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: VIDPOOL_DB)"),
  Flag.withMetavar("URL"),
  Flag.optional
)

/**
 * `--db`, else `VIDPOOL_DB` when it is set.
 *
 * @since 0.2.0
 * @category flags
 */
export const dbUrl = (flag: Option.Option<string>): Option.Option<string> =>
  Option.isSome(flag) ? flag : Option.fromNullishOr(process.env.VIDPOOL_DB === "" ? undefined : process.env.VIDPOOL_DB)

/**
 * `--cluster-name`: which cluster of the database (its tables and shard locks), shared by the
 * runners and coordinators of one cluster.
 *
 * @since 0.2.0
 * @category flags
 */
export const clusterName = Flag.String("cluster-name").pipe(
  Flag.withDescription(`Which cluster of the database: its tables are vidpool_NAME_* (default: ${Runner.defaultName})`),
  Flag.withMetavar("NAME"),
  Flag.withDefault(Runner.defaultName)
)

/**
 * Checks `--cluster-name`.
 *
 * @since 0.2.0
 * @category flags
 */
export const checkClusterName = (name: string): Effect.Effect<string, InputError> =>
  Runner.checkName(name)
    ? Effect.succeed(name)
    : Effect.fail(InputError.usage(`--cluster-name must be 1 to 40 lower-case letters, digits or "_", got "${name}"`))

/**
 * @since 0.2.0
 * @category flags
 */
export const clusterFlags = {
  cluster: Flag.Boolean("cluster").pipe(
    Flag.withDescription("Shard the run over the runners of a cluster (vidpool runner) that share --db"),
    Flag.withDefault(false)
  ),
  db,
  clusterName,
  runId: Flag.String("run-id").pipe(
    Flag.withDescription("With --cluster: the run's id; a run started again with the same id and inputs finishes from what storage holds (default: a new id, printed)"),
    Flag.withMetavar("ID"),
    Flag.optional
  ),
  batchSize: Flag.Int("batch-size").pipe(
    Flag.withDescription("With --cluster: samples per message to a runner (default 8)"),
    Flag.optional
  )
} as const

/**
 * The values of `clusterFlags`, as parsed.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClusterFlags {
  readonly cluster: boolean
  readonly db: Option.Option<string>
  readonly clusterName: string
  readonly runId: Option.Option<string>
  readonly batchSize: Option.Option<number>
}

/** The flags of a cluster run, checked; `undefined` without `--cluster`. */
const check = Effect.fnUntraced(function*(flags: ClusterFlags) {
  if (!flags.cluster) {
    if (Option.isSome(flags.runId)) return yield* InputError.usage(`--run-id needs --cluster`)
    if (Option.isSome(flags.batchSize)) return yield* InputError.usage(`--batch-size needs --cluster`)
    return undefined
  }
  const url = dbUrl(flags.db)
  if (Option.isNone(url)) {
    return yield* InputError.usage(`--cluster needs --db URL (or VIDPOOL_DB): the PostgreSQL database the runners use`)
  }
  const batchSize = Option.getOrUndefined(flags.batchSize)
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1 && batchSize <= 100_000)) {
    return yield* InputError.usage(`--batch-size must be a whole number from 1 to 100000, got ${batchSize}`)
  }
  const runId = Option.getOrUndefined(flags.runId) ?? `run-${new Date().toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${randomBytes(4).toString("hex")}`
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(runId)) {
    return yield* InputError.usage(`--run-id must be 1 to 100 letters, digits, ".", "_" or "-", got "${runId}"`)
  }
  const name = yield* checkClusterName(flags.clusterName)
  return { db: yield* Database.checkUrl(url.value), name, runId, batchSize }
})

/**
 * Runs the plan: on one machine without `--cluster` (`Evaluation.run`), else over the cluster.
 * A bad or unreachable `--db` fails with `DatabaseUnavailable` before any output.
 *
 * @since 0.2.0
 * @category running
 */
export const run = Effect.fnUntraced(function*(plan: RunPlan, flags: ClusterFlags) {
  const cluster = yield* check(flags)
  if (cluster === undefined) return yield* Evaluation.run(plan)
  return yield* Effect.scoped(Effect.gen(function*() {
    const engine = yield* Engine
    // effect/cluster's log on stderr (never among the results on stdout), one line per event.
    const log = ClusterLog.layer({
      database: Database.safeUrl(cluster.db),
      write: (line) => Output.writeStderrUnsafe(`vidpool: ${line}\n`)
    }).pipe(Layer.provide(Database.layer(cluster.db, { maxConnections: 1 })))
    const services = yield* Layer.build(Runner.layerClient(cluster.db, { name: cluster.name }).pipe(Layer.provide(log)))
    const registry = Context.make(MetricRegistry, engine.registry)
    // Even with --quiet: the id is what finishes the run after a crash.
    yield* Output.writeStderr(`cluster run ${cluster.runId} (to finish it after a crash or Ctrl-C, run the same command with --run-id ${cluster.runId})\n`)
    // A run waits for runners as long as it takes (its messages are stored): say so when nothing
    // comes back for a while, in case none is running for this database and cluster name.
    let lastProgress = Date.now()
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      yield* Effect.sleep("10 seconds")
      const quiet = Math.round((Date.now() - lastProgress) / 1000)
      if (quiet >= 30) {
        yield* Output.writeStderr(
          `vidpool: no result for ${quiet} s: is a runner up (vidpool runner --db ... --cluster-name ${cluster.name})? ` +
            `The run goes on when one is; Ctrl-C stops it, and --run-id ${cluster.runId} finishes it later\n`
        )
        lastProgress = Date.now()
      }
    })))
    const clusterEngine = Engine.of({
      ...engine,
      // The runners decode: this machine needs no decoder.
      ready: () => Effect.void,
      evaluate: (samples, options) =>
        Coordinator.evaluate(samples, {
          runId: cluster.runId,
          batchSize: cluster.batchSize,
          metrics: options.metrics ?? [],
          onError: options.onError,
          decoder: options.decoder,
          onResult: (result) => Effect.andThen(Effect.sync(() => { lastProgress = Date.now() }), options.onResult(result)),
          // The runners read the model files at these paths and check them against the digests
          // of the run's settings line.
          ...passedOn(options)
        }).pipe(Effect.provide(Context.merge(services, registry)))
    })
    return yield* Evaluation.run(plan, { cluster: true }).pipe(Effect.provideService(Engine, clusterEngine))
  }))
})
