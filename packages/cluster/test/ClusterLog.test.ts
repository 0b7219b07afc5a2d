// ClusterLog: what effect/cluster logs at every retry of a database outage becomes one line when
// the database cannot be reached and one when it is back; other warnings are one line each. The
// outage is simulated: log entries as effect/cluster writes them, and a probe that fails until
// the database "restarts"; the clock is the TestClock.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Scope } from "effect"
import { ClusterError } from "effect/cluster"
import { SqlError } from "effect/sql"
import { TestClock } from "effect/testing"
import { ClusterLog } from "../src/index.ts"

const refused = () =>
  new ClusterError.PersistenceError({
    cause: new SqlError.SqlError({
      reason: new SqlError.ConnectionError({
        message: "PgConnection: Failed to connect",
        cause: new AggregateError([Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })])
      })
    })
  })

/** What effect/cluster logs, every second or two, while its database is down. */
const outageSecond = Effect.gen(function*() {
  yield* Effect.logWarning("Could not read messages from storage", Cause.fail(refused()))
  yield* Effect.logError("Shard lock storage is unhealthy", Cause.fail(new Cause.TimeoutError("Operation timed out after '2s'")))
  yield* Effect.logWarning("Shard lock storage is still unhealthy", Cause.fail(refused()))
  yield* Effect.logWarning("No healthy runners available")
  yield* TestClock.adjust("1 second")
})

/** A log over a database that answers while `database.up`, its lines, and the scope that owns it. */
const setUp = Effect.gen(function*() {
  const lines: Array<string> = []
  const database = { up: true }
  const scope = yield* Scope.make()
  const context = yield* Layer.buildWithScope(
    ClusterLog.make({
      database: "postgres://vidpool:***@db.lan/vidpool",
      write: (line) => lines.push(line),
      retryEvery: "1 second",
      probe: Effect.suspend(() => database.up ? Effect.void : Effect.fail("refused"))
    }),
    scope
  )
  return { lines, database, scope, withLog: Effect.provideContext(context) }
})

describe("ClusterLog", () => {
  it.effect("writes an outage as one line when the database cannot be reached and one when it is back", () =>
    Effect.gen(function*() {
      const { database, lines, scope, withLog } = yield* setUp
      database.up = false
      yield* withLog(Effect.repeat(outageSecond, { times: 19 }))
      assert.deepStrictEqual(lines, [
        "the database postgres://vidpool:***@db.lan/vidpool cannot be reached (connect ECONNREFUSED 127.0.0.1:5432); " +
          "retrying every 1s until it is back: start it again or restore the network to it, and the runs go on"
      ])
      // Back: effect/cluster's retries may still fail for a few seconds; the line waits 10 s past them.
      database.up = true
      yield* TestClock.adjust("3 seconds")
      yield* withLog(Effect.logError("Shard lock storage is unhealthy", Cause.fail(new Cause.TimeoutError("Operation timed out after '2s'"))))
      yield* TestClock.adjust("9 seconds")
      assert.lengthOf(lines, 1)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(lines.slice(1), ["the database postgres://vidpool:***@db.lan/vidpool is back (unreachable for 21 s)"])
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("writes a second outage as two lines again", () =>
    Effect.gen(function*() {
      const { database, lines, scope, withLog } = yield* setUp
      for (let outage = 0; outage < 2; outage++) {
        database.up = false
        yield* withLog(Effect.repeat(outageSecond, { times: 4 }))
        database.up = true
        yield* TestClock.adjust("11 seconds")
      }
      assert.deepStrictEqual(lines.map((line) => line.replace(/ \(.*$/, "")), [
        "the database postgres://vidpool:***@db.lan/vidpool cannot be reached",
        "the database postgres://vidpool:***@db.lan/vidpool is back",
        "the database postgres://vidpool:***@db.lan/vidpool cannot be reached",
        "the database postgres://vidpool:***@db.lan/vidpool is back"
      ])
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("writes a warning that repeats itself word for word once a minute", () =>
    Effect.gen(function*() {
      const { lines, scope, withLog } = yield* setUp
      yield* withLog(Effect.repeat(
        Effect.andThen(Effect.logWarning("No healthy runners available"), TestClock.adjust("1 second")),
        { times: 89 }
      ))
      assert.deepStrictEqual(lines, ["No healthy runners available", "No healthy runners available"])
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("writes any other warning or error as one line with its cause, and nothing below warnings", () =>
    Effect.gen(function*() {
      const { lines, scope, withLog } = yield* setUp
      yield* withLog(Effect.gen(function*() {
        yield* Effect.logInfo("Shard lock storage has recovered")
        yield* Effect.logDebug("New shard assignments")
        yield* Effect.logWarning("No healthy runners available")
        yield* Effect.logError("Message retention failed", Cause.die(new Error("a bug\nover two lines")))
      }))
      assert.deepStrictEqual(lines, ["No healthy runners available", "Message retention failed: a bug over two lines"])
      yield* Scope.close(scope, Exit.void)
    }))
})
