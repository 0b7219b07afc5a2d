/**
 * The entry point of the `vidpool` command. The build compiles it and bundles it into
 * `dist/vidpool.mjs`, which `bin/vidpool.js` runs under plain Node.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Cli.ts"
import { layer } from "./EngineLive.ts"
import { removeTemporariesUnsafe } from "./Output.ts"

// A reader that went away (`vidpool eval ... | head`) is not an error of the command.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

// The first Ctrl-C interrupts the run, which then stops its workers and ffmpeg children; a second
// one, if that takes too long for the user, ends the process at once.
let interrupts = 0
const forceExit = () => {
  if (++interrupts > 1) {
    // No half-written output stays behind: the results file is whole, or as it was.
    removeTemporariesUnsafe()
    process.exit(130)
  }
}
process.on("SIGINT", forceExit)
process.on("SIGTERM", forceExit)

// The engine is built once, around the whole run: its Evaluators (and their metric worker
// threads) and the ffmpeg lookup serve every evaluation, and close with the run.
run.pipe(
  Effect.provide(layer),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
