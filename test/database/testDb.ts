// The PostgreSQL database of the tests, seen from a test file: its URL (given by
// test/database/globalSetup.ts) and the check that makes a test needing it fail, never skip.
import * as net from "node:net"
import { inject } from "vitest"

/**
 * The URL of the tests' database: the test run's own server, or the one VIDPOOL_TEST_DB names;
 * "" when the run's globalSetup did not run (vitest started outside the workspace root).
 */
export const testDb: string = (inject("testDatabase") as string | undefined) ?? ""

/** Whether something accepts TCP connections at the host and port of `url`. */
const reachable = (url: URL): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 5432) })
    socket.setTimeout(3000)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true))
    socket.once("timeout", () => done(false))
    socket.once("error", () => done(false))
  })

/** Rejects, so that the test fails, when nothing answers at `url`; the message says what to do. */
export const checkDatabase = async (url: string): Promise<void> => {
  if (url === "") {
    throw new Error(
      "these tests need the tests' PostgreSQL database, and this run has none: run them from the workspace root " +
        "(pnpm test, or pnpm exec vitest run --project NAME), whose globalSetup starts a server of its own, " +
        "or set VIDPOOL_TEST_DB to the URL of a server of yours."
    )
  }
  const parsed = new URL(url)
  if (await reachable(parsed)) return
  const where = `${parsed.hostname}:${parsed.port || 5432}`
  throw new Error(
    process.env.VIDPOOL_TEST_DB === url
      ? `these tests need PostgreSQL at ${where}, which VIDPOOL_TEST_DB names, and nothing answers there: ` +
        `start that server, or unset VIDPOOL_TEST_DB and the test run starts a server of its own.`
      : `these tests need PostgreSQL at ${where}, the test run's own server, and nothing answers there: it stopped ` +
        `early (test/database/globalSetup.ts starts it; the run's output says why it ended). ` +
        `To use a server of yours instead, set VIDPOOL_TEST_DB to its URL.`
  )
}

/** `checkDatabase` of the tests' database: the `beforeAll` of every file that needs it. */
export const requireDatabase = (): Promise<void> => checkDatabase(testDb)
