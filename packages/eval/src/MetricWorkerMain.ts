/**
 * The entry of a metric worker thread: serves `MetricRpcs` to the parent until it closes the
 * thread. Not imported by the library; `MetricWorker.spawnThread` starts it.
 *
 * @since 0.1.0
 */
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import { Effect, Layer } from "effect"
import { RpcServer } from "effect/rpc"
import { HandlersLive, MetricRpcs } from "./MetricWorker.ts"

const Main = RpcServer.layer(MetricRpcs).pipe(
  Layer.provide(HandlersLive),
  Layer.provide(RpcServer.layerProtocolWorkerRunner),
  Layer.provide(NodeWorkerRunner.layer)
)

Effect.runFork(Layer.launch(Main))
