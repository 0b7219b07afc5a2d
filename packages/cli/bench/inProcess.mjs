// Run by bench/index.ts with plain `node` (no TypeScript loader): one evaluation in a process
// that is already running, through the public API with the ready-made layer. argv: a JSON file of
// { samples: [{ video, reference }], metrics, workers, loaders, rounds }. Prints JSON
// { cold, warm: [ms...] }: `cold` builds the layer for the call, as a `vidpool eval` process does
// for its one evaluation (so it starts the metric worker threads); `warm` reuses one built layer,
// whose workers stay up, as the command's engine does for every evaluation after its first.
import { Effect, Layer } from "effect"
import { Live } from "@vidpool/cli"
import { Evaluator } from "@vidpool/eval"
import { Video } from "@vidpool/pool"
import { readFileSync } from "node:fs"

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"))
const samples = plan.samples.map((s) => ({ video: Video.file(s.video), reference: Video.file(s.reference) }))
const options = { metrics: plan.metrics, workers: plan.workers, loaderThreads: plan.loaders }
const evaluate = Evaluator.use((evaluator) => evaluator.evaluate(samples, options))

const timed = (effect) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const cold = await Effect.runPromise(timed(Effect.provide(evaluate, Live.layerEvaluator)))
const warm = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const context = yield* Layer.build(Live.layerEvaluator)
  const run = Effect.provideContext(evaluate, context)
  yield* run
  const times = []
  for (let i = 0; i < plan.rounds; i++) times.push(yield* timed(run))
  return times
})))
console.log(JSON.stringify({ cold, warm }))
