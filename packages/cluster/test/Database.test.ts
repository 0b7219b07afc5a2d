// Database.layer: a database that cannot be used is one DatabaseUnavailable naming it (password
// hidden), soon; the test database answers a query. Needs the PostgreSQL of the tests.
import * as net from "node:net"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { Database, DatabaseUnavailable } from "../src/index.ts"
import { checkDatabase, requireDatabase, testDb } from "../../../test/database/testDb.ts"
import { freePort } from "./helpers.ts"

/** The error building `Database.layer(url)` fails with, and how long it took. */
const failure = (url: string, options?: Parameters<typeof Database.layer>[1]) =>
  Effect.gen(function*() {
    const started = Date.now()
    const error = yield* Effect.flip(Effect.scoped(Layer.build(Database.layer(url, options))))
    return { error, ms: Date.now() - started }
  })

/** The test database's URL with another password. */
const withPassword = (password: string): string => {
  const url = new URL(testDb)
  url.password = password
  return url.toString()
}

/** A TCP server on 127.0.0.1 that accepts connections and never writes a byte. */
const silentServer = (): Promise<{ readonly port: number; readonly close: () => Promise<void> }> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.on("close", () => sockets.delete(socket))
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      }))
  })

describe("Database.layer", () => {
  beforeAll(requireDatabase)

  it("the tests' own check fails, never skips, naming the server and what to do, when nothing answers", async () => {
    const port = await freePort()
    const error: unknown = await checkDatabase(`postgres://vidpool:vidpool@127.0.0.1:${port}/vidpool_test`).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, `127.0.0.1:${port}`)
    assert.include((error as Error).message, "VIDPOOL_TEST_DB")
  })

  it("the tests' own check fails, never skips, when the run has no database", async () => {
    const error: unknown = await checkDatabase("").then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.include((error as Error).message, "pnpm test")
    assert.include((error as Error).message, "VIDPOOL_TEST_DB")
  })

  it.live("a URL that is not a PostgreSQL URL fails with DatabaseUnavailable naming it, its password hidden", () =>
    Effect.gen(function*() {
      const cases = [
        { url: "not a url", shown: "not a url", says: "not a URL" },
        { url: "http://x/y", shown: "http://x/y", says: "not a PostgreSQL URL" },
        { url: "postgres://", shown: "postgres://", says: "no host" },
        { url: "http://alice:s3cret-pw@x/y", shown: "http://alice:***@x/y", says: "not a PostgreSQL URL" },
        // Not parseable (the port is not a number): the password is hidden all the same.
        { url: "postgres://alice:s3cret-pw@db:port/vidpool", shown: "postgres://alice:***@db:port/vidpool", says: "not a URL" }
      ]
      for (const { says, shown, url } of cases) {
        const { error, ms } = yield* failure(url)
        assert.instanceOf(error, DatabaseUnavailable)
        assert.strictEqual(error.url, shown)
        assert.include(error.message, shown)
        assert.include(error.message, says)
        assert.notInclude(error.message, "s3cret-pw")
        assert.isBelow(ms, 1000, `${url} was refused without a connection attempt`)
      }
    }))

  it.live("an unreachable server fails with DatabaseUnavailable within a few seconds", () =>
    Effect.gen(function*() {
      const refused = yield* failure("postgres://vidpool:s3cret-pw@127.0.0.1:1/vidpool_test")
      assert.instanceOf(refused.error, DatabaseUnavailable)
      assert.strictEqual(refused.error.url, "postgres://vidpool:***@127.0.0.1:1/vidpool_test")
      assert.notInclude(refused.error.message, "s3cret-pw")
      assert.isBelow(refused.ms, 6000)
    }))

  it.live("a server that accepts the connection and never answers is given up on at the timeout", () =>
    Effect.acquireUseRelease(
      Effect.promise(() => silentServer()),
      ({ port }) =>
        Effect.gen(function*() {
          const { error, ms } = yield* failure(`postgres://vidpool:vidpool@127.0.0.1:${port}/vidpool_test`, { timeout: "1500 millis" })
          assert.instanceOf(error, DatabaseUnavailable)
          assert.include(error.message, `127.0.0.1:${port}`)
          assert.isAtLeast(ms, 1000)
          assert.isBelow(ms, 6000)
        }),
      ({ close }) => Effect.promise(close)
    ))

  it.live("a wrong password fails with DatabaseUnavailable, the password hidden", () =>
    Effect.gen(function*() {
      const url = withPassword("not-the-password")
      const { error } = yield* failure(url)
      assert.instanceOf(error, DatabaseUnavailable)
      assert.notInclude(error.message, "not-the-password")
      assert.include(error.message, "***")
      assert.include(error.message, new URL(testDb).host)
      assert.match(error.detail, /password|authentication/i)
    }))

  it.live("a database that does not exist fails with DatabaseUnavailable", () =>
    Effect.gen(function*() {
      const url = new URL(testDb)
      url.pathname = "/vidpool_no_such_database"
      const { error } = yield* failure(url.toString())
      assert.instanceOf(error, DatabaseUnavailable)
      assert.include(error.message, "vidpool_no_such_database")
    }))

  it.live("the test database answers SELECT 1", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ one: number }>`SELECT 1 AS one`
      assert.deepStrictEqual(rows.map((r) => Number(r.one)), [1])
    }).pipe(Effect.provide(Database.layer(testDb))))
})
