// Counts the worker threads a program starts: Node numbers threads in the order they start, so
// a probe thread started before the program and one after tell how many others started between.
import { Effect } from "effect"
import { Worker } from "node:worker_threads"

const probe = Effect.promise(async () => {
  const thread = new Worker("", { eval: true })
  const id = thread.threadId
  await thread.terminate()
  return id
})

/** The worker threads started in this process while `effect` ran (any thread, not only its own). */
export const threadsStartedBy = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<number, E, R> =>
  Effect.gen(function*() {
    const before = yield* probe
    yield* effect
    const after = yield* probe
    return after - before - 1
  })
