/**
 * The entry point of the `vidpool` command (run through `bin/vidpool.js` or `tsx src/bin.ts`).
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Cli.ts"
import { layer } from "./EngineLive.ts"

// A reader that went away (`vidpool eval ... | head`) is not an error of the command.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

run.pipe(
  Effect.provide(layer),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
