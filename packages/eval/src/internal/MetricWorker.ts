/**
 * The metric workers: the worker threads that run the compiled worker entry, and the pool of
 * them an Evaluator draws from (effect's `Pool`: a thread is started when every other is busy,
 * reused after a sample succeeded, terminated after a failure, an interruption or a crash, and
 * stopped after a minute idle or when the pool's scope closes).
 *
 * @since 0.1.0
 */
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import { Duration, Effect, Layer, Pool } from "effect"
import type { Scope } from "effect"
import { RpcClient } from "effect/rpc"
import type { RpcClientError } from "effect/rpc/RpcClientError"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { MetricRpcs } from "./MetricProtocol.ts"

export { Compute, type ComputeReply, type MetricFailure, MetricRpcs, SampleInput, type SetFeed } from "./MetricProtocol.ts"
export { metricSources, type MetricSources } from "../MetricRegistry.ts"

/**
 * A client of one metric worker thread.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricWorkerClient = RpcClient.FromGroup<typeof MetricRpcs, RpcClientError>

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
export const spawnThreadUnsafe = (): Worker => {
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
      Layer.provide(NodeWorker.layer(() => (thread = spawnThreadUnsafe()))),
      Layer.orDie
    )
  )
  const client = yield* RpcClient.make(MetricRpcs).pipe(Effect.provideContext(protocol))
  const terminate = Effect.promise(async () => {
    await thread?.terminate()
  })
  return { client, terminate }
})

/**
 * How many worker threads a pool holds at most: calls beyond it wait for a thread.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxThreads = 256

/**
 * How long a thread may stay idle before the pool stops it.
 *
 * @since 0.2.0
 * @category constants
 */
export const idleTimeToLive: Duration.Duration = Duration.minutes(1)

/**
 * The metric worker threads of one Evaluator layer: `Pool.get` lends a thread for as long as the
 * borrowing scope lives. A thread that crashed or was borrowed by a failed or interrupted consumer
 * must be handed to `Pool.invalidate` before the scope closes: it is then terminated at once (its
 * metric may still be running) instead of reused.
 *
 * @since 0.2.0
 * @category models
 */
export type MetricWorkerPool = Pool.Pool<MetricWorkerHandle>

/**
 * A pool of metric worker threads, owned by the current Scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makePool: Effect.Effect<MetricWorkerPool, never, Scope.Scope> = Pool.makeWithTTL({
  acquire: Effect.tap(spawn, ({ terminate }) => Effect.addFinalizer(() => terminate)),
  min: 0,
  max: maxThreads,
  timeToLive: idleTimeToLive
})
