// The tests' own PostgreSQL server (test/database): a real server that answers as the role and
// database of its URL, and that ends, its folder removed, when the process that started it stops
// it, and when that process is killed (SIGINT, SIGTERM, SIGKILL) without a word.
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { Database } from "../src/index.ts"

const holder = path.join(import.meta.dirname, "fixtures", "holdTestDatabase.ts")

interface Held {
  readonly child: ChildProcess
  readonly url: string
  readonly folder: string
  readonly pid: number
  /** What the holder printed so far. */
  readonly stdout: () => string
}

/** Starts a holder (a process that starts a server and keeps it); the server it reports. */
const hold = (): Promise<Held> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [holder], { stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    const ended = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`the holder ended with ${signal ?? `exit code ${code}`} before reporting its server: ${stderr}`))
    child.stderr!.on("data", (chunk) => (stderr += chunk))
    child.stdout!.on("data", (chunk) => {
      stdout += chunk
      const newline = stdout.indexOf("\n")
      if (newline < 0) return
      child.off("exit", ended)
      const server = JSON.parse(stdout.slice(0, newline)) as { url: string; folder: string; pid: number }
      resolve({ child, ...server, stdout: () => stdout })
    })
    child.once("exit", ended)
  })

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once("exit", (code) => resolve(code))
  })

/** The processes whose working folder is in `folder` (PostgreSQL's run in its data folder), by /proc. */
const processesIn = (folder: string): Array<number> => {
  const pids: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (fs.readlinkSync(`/proc/${entry}/cwd`).startsWith(`${folder}/`)) pids.push(Number(entry))
    } catch {
      // ended meanwhile
    }
  }
  return pids
}

/**
 * Polls `done` every 20 ms until it holds; fails with `what()` after `timeoutMs`. What it waits for
 * (processes of another process tree ending, a folder they remove) sends this process no event.
 */
const waitUntil = async (done: () => boolean, timeoutMs: number, what: () => string) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(what())
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Who the server says the session is: its role and database. */
const whoAmI = (url: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ role: string; database: string }>`SELECT current_user AS role, current_database() AS database`
    return rows[0]
  }).pipe(Effect.provide(Database.layer(url))))

/** A held server that answers, with its postmaster among the processes of its folder. */
const holdAnswering = async (): Promise<Held> => {
  const held = await hold()
  assert.deepStrictEqual(await whoAmI(held.url), { role: "vidpool", database: "vidpool_test" })
  assert.include(processesIn(held.folder), held.pid, "the postmaster runs in the server's folder")
  return held
}

const gone = (held: Held) => processesIn(held.folder).length === 0 && !fs.existsSync(held.folder)

describe("the tests' own PostgreSQL server", () => {
  it("answers as the role and database of its URL; stop() ends it and removes its folder before it resolves", async () => {
    const held = await holdAnswering()
    held.child.stdin!.end()
    assert.strictEqual(await exited(held.child), 0)
    assert.strictEqual(held.stdout().split("\n")[1], "stopped")
    assert.deepStrictEqual(processesIn(held.folder), [])
    assert.isFalse(fs.existsSync(held.folder), `${held.folder} is removed`)
  })

  for (const signal of ["SIGINT", "SIGTERM", "SIGKILL"] as const) {
    it(`ends, its folder removed, when the process that started it is killed with ${signal}`, async () => {
      const held = await holdAnswering()
      held.child.kill(signal)
      await exited(held.child)
      await waitUntil(() => gone(held), 20_000, () =>
        `20 s after the holder's ${signal}: processes ${processesIn(held.folder).join(", ") || "none"} in ` +
        `${held.folder}, which ${fs.existsSync(held.folder) ? "still exists" : "is gone"}`)
    })
  }
})
