// The owner of one throwaway PostgreSQL server: a detached process that TestDatabase.start
// spawns with an IPC channel. It starts the server, reports it (or why it could not) over the
// channel, and when its parent is gone (the channel closes: the parent stopped the server, or
// died in any way, SIGKILL included) it stops the server and removes its folder, then exits
// with 0, or with 1 and the reason on stderr.
import { Cause, Effect, Exit } from "effect"
import * as Postgres from "./Postgres.ts"

/** What the owner tells its parent: once, when the server is ready or could not start. */
export type OwnerMessage =
  | { readonly _tag: "Ready"; readonly server: Postgres.Server }
  | { readonly _tag: "Failed"; readonly message: string }

const send = (message: OwnerMessage) => {
  if (process.connected) process.send!(message, undefined, {}, () => {}) // a parent just gone: nothing to tell
}

/** Completes when the parent is gone: the channel closed, or (a backstop) its pid no longer runs. */
const parentGone: Effect.Effect<void> = Effect.callback<void>((resume) => {
  const parent = process.ppid
  const poll = setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") gone()
    }
  }, 500)
  const stopWatching = () => {
    process.off("disconnect", gone)
    clearInterval(poll)
  }
  function gone() {
    stopWatching()
    resume(Effect.void)
  }
  process.once("disconnect", gone)
  if (!process.connected) gone()
  return Effect.sync(stopWatching)
})

const serve = Effect.scoped(
  Effect.gen(function*() {
    const server = yield* Postgres.start
    send({ _tag: "Ready", server })
    return yield* Effect.never
  })
).pipe(Effect.tapError((error) => Effect.sync(() => send({ _tag: "Failed", message: error.message }))))

// A signal to the owner itself also stops the server; repeated signals do not cut the cleanup short.
const interrupted = new AbortController()
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => interrupted.abort())

const exit = await Effect.runPromiseExit(Effect.raceFirst(serve, parentGone), { signal: interrupted.signal })
if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) {
  process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
  process.exitCode = 1
}
if (process.connected) process.disconnect()
