// A throwaway PostgreSQL server for a test run or a benchmark, from the process that needs it:
// `start` spawns its owner (owner.ts), which stops the server and removes its folder on `stop`,
// or by itself as soon as this process is gone, however it ended.
import { type ChildProcess, spawn } from "node:child_process"
import type { Socket } from "node:net"
import { fileURLToPath } from "node:url"
import type { OwnerMessage } from "./owner.ts"

/** A running server of this process's own. */
export interface TestDatabase {
  /** `postgres://vidpool:PASSWORD@127.0.0.1:PORT/vidpool_test`: the role owns the database. */
  readonly url: string
  /** Its temporary folder (the data folder is `data` in it): gone once the server is stopped. */
  readonly folder: string
  /** Its postmaster, the leader of the server's process group. */
  readonly pid: number
  /** Stops the server and removes its folder; rejects, saying why, when either failed. */
  readonly stop: () => Promise<void>
}

const ownerScript = fileURLToPath(new URL("./owner.ts", import.meta.url))
const readyTimeoutMs = 90_000
const stopTimeoutMs = 60_000

/**
 * Starts a server: initdb (most of the time), the database, the postmaster; 2 to 3 s on a
 * 2-core machine.
 * This process need not call `stop`: its exit, or its death, stops the server too, moments later.
 *
 * @example
 * ```ts
 * const database = await TestDatabase.start()
 * try {
 *   await useDatabase(database.url)
 * } finally {
 *   await database.stop()
 * }
 * ```
 */
export const start = (): Promise<TestDatabase> =>
  new Promise((resolve, reject) => {
    // The owner runs the TypeScript sources with the Node that runs this process (22.18 and later
    // strip the types), detached: a Ctrl-C to this process's group does not reach it.
    const owner = spawn(process.execPath, [ownerScript], { detached: true, stdio: ["ignore", "ignore", "pipe", "ipc"] })
    const stderr = collect(owner)
    const fail = (message: string) => {
      clearTimeout(timer)
      owner.kill("SIGTERM") // the owner cleans up on SIGTERM as well
      reject(new Error(`${message}${stderr.text()}`))
    }
    const didNotStart = (reason: string) =>
      fail(`the tests' own PostgreSQL server did not start: ${reason}. To use a server of yours instead, set VIDPOOL_TEST_DB to its URL.`)
    const timer = setTimeout(() => didNotStart(`not ready after ${readyTimeoutMs / 1000} s`), readyTimeoutMs)
    const ended = (code: number | null, signal: NodeJS.Signals | null) =>
      didNotStart(`its owner process ended with ${signal ?? `exit code ${code}`}`)
    owner.once("error", (error) => didNotStart(String(error)))
    owner.once("exit", ended)
    owner.once("message", (message: OwnerMessage) => {
      if (message._tag === "Failed") return fail(message.message)
      clearTimeout(timer)
      owner.off("exit", ended)
      // Nothing here waits for the owner: this process may end without calling `stop`.
      owner.unref()
      owner.channel?.unref()
      resolve({ ...message.server, stop: () => stop(owner, stderr) })
    })
  })

const stop = (owner: ChildProcess, stderr: ReturnType<typeof collect>): Promise<void> =>
  new Promise((resolve, reject) => {
    if (owner.exitCode !== null || owner.signalCode !== null) {
      return owner.exitCode === 0 ? resolve() : reject(new Error(`the tests' PostgreSQL server had already stopped${stderr.text()}`))
    }
    owner.ref()
    const timer = setTimeout(
      () => reject(new Error(`the tests' PostgreSQL server did not stop within ${stopTimeoutMs / 1000} s (owner pid ${owner.pid})`)),
      stopTimeoutMs
    )
    owner.once("exit", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`stopping the tests' PostgreSQL server failed (${signal ?? `exit code ${code}`})${stderr.text()}`))
    })
    // Closing the channel is the owner's cue.
    if (owner.connected) owner.disconnect()
    else owner.kill("SIGTERM")
  })

/** The owner's stderr (it writes there only why it failed), read as it comes without holding this process open. */
const collect = (owner: ChildProcess) => {
  let text = ""
  owner.stderr!.on("data", (chunk) => (text = (text + chunk).slice(-16384)))
  ;(owner.stderr as Socket).unref()
  return { text: () => (text.trim() === "" ? "" : `\n${text.trim()}`) }
}
