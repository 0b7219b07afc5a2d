/**
 * The entry of a metric worker thread: serves `MetricRpcs` to the parent until it closes the
 * thread. Not imported by the library; `MetricWorker.spawnThreadUnsafe` starts it.
 *
 * @since 0.1.0
 */
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect, Layer } from "effect"
import { RpcServer } from "effect/rpc"
import { workerData } from "node:worker_threads"
import { HandlersLive } from "./MetricHandlers.ts"
import { MetricRpcs } from "./MetricProtocol.ts"

const Main = RpcServer.layer(MetricRpcs).pipe(
  Layer.provide(HandlersLive),
  Layer.provide(RpcServer.layerProtocolWorkerRunner),
  Layer.provide(NodeWorkerRunner.layer)
)

// Started from a process running under tsx: register its loader here too, before any user module
// is imported (see `MetricWorker.spawnThreadUnsafe`).
const tsx: unknown = (workerData as { readonly tsx?: unknown } | null)?.tsx
if (typeof tsx === "string") (await import(tsx) as { register: () => unknown }).register()

Effect.runFork(Layer.launch(Main))
