// The postmaster of the tests' server: started detached (the leader of its own process group),
// ready when its log says so; stopped by a fast shutdown, or by SIGKILL of its group when that
// does not end it in time.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { asServerUser, type Binaries, cannotRun, killAndWait, type Setting } from "./Binaries.ts"
import { outputTail, PostgresError } from "./PostgresError.ts"

/** A running postmaster and its port of 127.0.0.1. */
export interface Postmaster {
  readonly child: ChildProcess
  readonly port: number
}

const readyLine = "database system is ready to accept connections"
const startTimeout = "60 seconds"
const stopTimeout = "10 seconds"

/**
 * Starts the postmaster on a free port of 127.0.0.1 (TCP only: no Unix socket); fails with
 * `PortTaken` when another process took that port meanwhile, to be retried.
 */
export const start = (binaries: Binaries, setting: Setting): Effect.Effect<Postmaster, PostgresError> =>
  Effect.gen(function*() {
    const port = yield* Effect.promise(freePort)
    const child = spawn(binaries.postgres, [
      "-D", setting.data,
      "-p", String(port),
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      // Dynamic shared memory as files in the data folder, removed with it even after a SIGKILL.
      "-c", "dynamic_shared_memory_type=mmap",
      // Throwaway data: no waiting for the disk.
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off"
    ], { ...asServerUser(setting), detached: true, stdio: ["ignore", "ignore", "pipe"] })
    const log = logOf(child)
    const outcome = yield* Effect.callback<"ready", PostgresError>((resume) => {
      child.once("error", (cause) => resume(Effect.fail(cannotRun("Start", binaries.postgres, setting.user, cause))))
      child.once("exit", (code, signal) => {
        const text = log.text()
        const reason = /could not bind|Address already in use/.test(text) ? "PortTaken" : "Start"
        resume(Effect.fail(new PostgresError({ reason, detail: `postgres ended with ${signal ?? `exit code ${code}`}: ${outputTail(text)}` })))
      })
      log.onLine((line) => line.includes(readyLine) && resume(Effect.succeed("ready" as const)))
    }).pipe(Effect.timeoutOption(startTimeout))
    if (Option.isNone(outcome)) {
      yield* killGroup(child, setting.data)
      return yield* new PostgresError({ reason: "Start", detail: `postgres was not ready after ${startTimeout}: ${outputTail(log.text())}` })
    }
    return { child, port }
  })

/**
 * A fast shutdown (SIGINT: sessions ended, no waiting for clients; the postmaster exits after
 * all its processes); after `stopTimeout`, `killGroup`.
 */
export const stop = (postmaster: Postmaster, data: string): Effect.Effect<void> =>
  killAndWait(postmaster.child, () => signal(postmaster.child, "SIGINT")).pipe(
    Effect.timeoutOption(stopTimeout),
    Effect.flatMap((stopped) => Option.isSome(stopped) ? Effect.void : killGroup(postmaster.child, data))
  )

/**
 * SIGKILL of the postmaster's process group (its backends and workers with it), then of the
 * System V segment it leaves behind: the rest of its shared memory is anonymous, or files in the
 * data folder.
 */
const killGroup = (child: ChildProcess, data: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const segment = sharedMemorySegment(data)
    yield* killAndWait(child, () => signalGroup(child, "SIGKILL"))
    if (segment !== undefined) removeSegment(segment)
  })

const signal = (child: ChildProcess, name: NodeJS.Signals) => {
  try {
    child.kill(name)
  } catch {
    // gone
  }
}

const signalGroup = (child: ChildProcess, name: NodeJS.Signals) => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, name)
  } catch {
    // no process left in the group
  }
}

/** The id of the postmaster's System V segment: the 7th line of postmaster.pid is "key id". */
const sharedMemorySegment = (data: string): string | undefined => {
  try {
    const id = fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[6]?.trim().split(/\s+/)[1]
    return id !== undefined && /^\d+$/.test(id) ? id : undefined
  } catch {
    return undefined
  }
}

const removeSegment = (id: string) => {
  try {
    execFileSync("ipcrm", ["-m", id], { stdio: "ignore" })
  } catch {
    // already gone, or no ipcrm on this machine
  }
}

/** The server's stderr, kept (the last 64 KiB) for error messages, and its lines as they come. */
const logOf = (child: ChildProcess) => {
  let text = ""
  let partial = ""
  const listeners: Array<(line: string) => void> = []
  child.stderr!.on("data", (chunk: Buffer) => {
    const s = chunk.toString("utf8")
    text = (text + s).slice(-65536)
    const lines = (partial + s).split("\n")
    partial = lines.pop()!
    for (const line of lines) for (const listener of listeners) listener(line)
  })
  return { text: () => text, onLine: (listener: (line: string) => void) => void listeners.push(listener) }
}

/** A TCP port of 127.0.0.1 that nothing listens on now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
