/**
 * The entry point of the `vidpool` command (run through `bin/vidpool.js` or `tsx src/bin.ts`).
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Cli.ts"
import { layer } from "./EngineLive.ts"

run.pipe(
  Effect.provide(layer),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
