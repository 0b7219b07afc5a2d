/**
 * The entry point of the `vidpool` command. The build compiles it and bundles it into
 * `dist/vidpool.mjs`, which `bin/vidpool.js` runs under plain Node.
 *
 * @since 0.1.0
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Cli.ts"
import { layer } from "./EngineLive.ts"
import * as Output from "./Output.ts"
import { runMain } from "./internal/Signals.ts"

// A failed write to stdout or stderr is an error of that write (Output.writeStdout says what
// became of it), never an exception that ends the process with a stack trace.
Output.catchStreamErrorsUnsafe()

// The engine is built once, around the whole run: its Evaluators (and their metric worker
// threads) and the ffmpeg lookup serve every evaluation, and close with the run.
run.pipe(
  Effect.provide(layer),
  Effect.provide(NodeServices.layer),
  runMain({ disableErrorReporting: true })
)
