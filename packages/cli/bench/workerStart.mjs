// Run by bench/index.ts with plain `node` (no TypeScript loader): how long a metric worker thread
// takes to start, against a bare worker_threads Worker. Both are timed from `new Worker` to the
// first answer: the bare worker runs a module that only posts one message; the metric worker
// (`MetricWorker.spawn`, as the Evaluator starts it) answers one `Compute` of an empty sample.
// Rounds alternate the two; prints JSON { bare: [ms...], metric: [ms...] }.
import { Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Worker } from "node:worker_threads"
import * as MetricWorker from "../../eval/dist/internal/MetricWorker.js"

const rounds = Number(process.argv[2] ?? 15)
const dir = mkdtempSync(join(tmpdir(), "vidpool-worker-bench-"))
const empty = join(dir, "empty.mjs")
writeFileSync(empty, `import { parentPort } from "node:worker_threads"\nparentPort.postMessage(0)\n`)

const bare = () =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const worker = new Worker(empty)
    worker.once("error", reject)
    worker.once("message", () => {
      const ms = performance.now() - start
      worker.terminate().then(() => resolve(ms))
    })
  })

const sources = MetricWorker.metricSources([], null)
const metric = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const start = performance.now()
    const { client } = yield* MetricWorker.spawn
    yield* client.Compute({ index: 0, input: { tensors: {}, values: {} }, sampleMetrics: [], setMetrics: [], feeds: [], sources, giveBack: [] })
    return performance.now() - start
  })))

const out = { bare: [], metric: [] }
await bare()
await metric()
for (let i = 0; i < rounds; i++) {
  out.bare.push(await bare())
  out.metric.push(await metric())
}
rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify(out))
