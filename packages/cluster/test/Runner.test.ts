// A runner over the PostgreSQL of the tests and a client-only coordinator, in this process (the
// socket transport and SQL storage as between machines): the results of the single-process
// mode. The cluster has a name of its own (its own tables and shard locks), since other test
// files run clusters in the same database at the same time; its tables are dropped afterwards.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { RunnerAddress } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { Evaluator, MetricRegistry } from "@vidpool/eval"
import { type Batch, BatchEvaluator, Coordinator, Database, Runner } from "../src/index.ts"
import { requireDatabase, testDb } from "../../../test/database/testDb.ts"
import { evaluatorLayer, freePort, localLayer, makeSamples, type Sample, tempDir, uniqueName } from "./helpers.ts"

const metrics = ["common.psnr", "common.ssim", "common.frechet_distance"]

/** Drops the storage tables of cluster `name`. */
const dropTables = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const prefix = `vidpool_${name}_`
    const tables = yield* sql<{ tablename: string }>`
      SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, ${prefix})`
    for (const { tablename } of tables) yield* sql.unsafe(`DROP TABLE IF EXISTS "${tablename}" CASCADE`)
    return tables.length
  }).pipe(Effect.provide(Database.layer(testDb)))

describe("a runner over PostgreSQL and a client, in one process", () => {
  const tmp = tempDir()
  const name = uniqueName("test")
  let samples: Array<Sample> = []
  let tablesDropped = 0
  beforeAll(async () => {
    await requireDatabase()
    samples = await makeSamples(tmp.dir, 5)
  })
  afterAll(async () => {
    tmp.remove()
    tablesDropped = await Effect.runPromise(dropTables(name))
    assert.isAbove(tablesDropped, 0, "the cluster made its tables under its own name")
  })

  it.live("gives the results of the single-process mode; every batch is evaluated once, by the runner", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const done: Array<{ readonly request: Batch.BatchRequest; readonly reply: Batch.BatchReply }> = []
      const runner = Runner.layerRunner({
        db: testDb,
        listen: RunnerAddress.make("127.0.0.1", port),
        name,
        onBatch: (batch) => Effect.sync(() => done.push(batch))
      }).pipe(Layer.provide(BatchEvaluator.layer), Layer.provide(evaluatorLayer))
      const client = Layer.mergeAll(Runner.layerClient(testDb, { name }), MetricRegistry.layer)
      const options = { metrics, onError: "fail", batchSize: 2 } as const

      const local = yield* Coordinator.evaluate(samples, { ...options, runId: uniqueName("local") }).pipe(
        Effect.provide(localLayer())
      )
      const runId = uniqueName("pg")
      const seen: Array<number> = []
      const cluster = yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(runner)
        return yield* Coordinator.evaluate(samples, {
          ...options,
          runId,
          onResult: (result) => Effect.sync(() => seen.push(result.index))
        }).pipe(Effect.provide(client))
      }))

      assert.deepStrictEqual(cluster.samples, local.samples)
      assert.deepStrictEqual(cluster.corpus, local.corpus)
      assert.deepStrictEqual(cluster.summary, local.summary)
      assert.deepStrictEqual([...seen].sort(), [0, 1, 2, 3, 4])
      // ceil(5 / 2) batches, each once, on the runner at its address, with its global indices.
      assert.deepStrictEqual(done.map((d) => d.request.batch).sort(), [0, 1, 2])
      for (const { reply, request } of done) {
        assert.strictEqual(request.runId, runId)
        assert.strictEqual(reply.runner, `127.0.0.1:${port}`)
        assert.deepStrictEqual(request.indices, [0, 1].map((i) => request.batch * 2 + i).filter((i) => i < 5))
      }
    }))
})
