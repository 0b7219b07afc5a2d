/**
 * How the process meets the signals that ask it to stop: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the
 * terminal or ssh session went away) all interrupt the run, which stops its workers and decoders,
 * writes the results so far (marked incomplete) and exits 130; a second one ends it at once.
 *
 * @since 0.2.0
 */
import { Runtime } from "effect"
import { ExitCode } from "../ExitCodes.ts"
import { removeTemporariesUnsafe } from "../Output.ts"

/**
 * The signals that stop a run, each the same way.
 *
 * @since 0.2.0
 * @category constants
 */
export const stopSignals: ReadonlyArray<"SIGINT" | "SIGTERM" | "SIGHUP"> = ["SIGINT", "SIGTERM", "SIGHUP"]

/**
 * Runs the program as the process's main fiber: the first stop signal interrupts it (its
 * finalizers run: children stopped, partial results written); a second one, for a user who will
 * not wait, exits at once with no half-written output left behind. The exit code comes from the
 * fiber's exit (`Runtime.defaultTeardown`: 130 for an interruption, a failure's own code).
 *
 * @since 0.2.0
 * @category running
 */
export const runMain = Runtime.makeRunMain(({ fiber, teardown }) => {
  let received = 0
  const onStop = () => {
    if (++received === 1) return fiber.interruptUnsafe(fiber.id)
    // The results file is whole, or as it was.
    removeTemporariesUnsafe()
    process.exit(ExitCode.interrupted)
  }
  for (const signal of stopSignals) process.on(signal, onStop)
  fiber.addObserver((exit) => {
    for (const signal of stopSignals) process.removeListener(signal, onStop)
    teardown(exit, (code) => {
      if (received > 0 || code !== 0) process.exit(code)
    })
  })
})
