// `modelThreads` reaches ONNX Runtime: a session of n intra-op threads adds n - 1 threads to the
// process (the calling thread is the n-th), counted in /proc/self/task while the Evaluator that
// opened it is alive; when its layer closes, its sessions and their threads are gone.
import { assert, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { Video } from "@vidpool/pool"
import { Evaluator } from "../src/index.ts"
import * as EvaluatorLive from "./support/layers.ts"
import { defaultModelThreads } from "../src/Evaluation.ts"

const fixtures = join(import.meta.dirname, "fixtures", "models")
const dino = join(fixtures, "dino-tiny.onnx")
const threadsNow = () => readdirSync("/proc/self/task").length

/** Threads of the process after one subject-consistency evaluation, its Evaluator still open. */
const threadsWith = (modelThreads: number | undefined) =>
  Effect.gen(function*() {
    yield* Evaluator.use((ev) =>
      ev.evaluate([{ video: Video.folder(join(fixtures, "clips", "sc-0")) }], {
        metrics: ["vbench.subject_consistency"],
        models: { dino },
        ...(modelThreads === undefined ? {} : { modelThreads })
      })
    )
    return threadsNow()
  }).pipe(Effect.provide(Layer.fresh(EvaluatorLive.layerDefault)))

it.live("modelThreads sets ONNX Runtime's intra-op threads of the sessions, and the default is the cores per worker", () =>
  Effect.gen(function*() {
    const one = yield* threadsWith(1)
    const after = threadsNow()
    assert.strictEqual((yield* threadsWith(4)) - one, 3)
    assert.strictEqual((yield* threadsWith(6)) - one, 5)
    assert.strictEqual((yield* threadsWith(undefined)) - one, defaultModelThreads(1) - 1)
    // Each Evaluator's threads went with it (a thread that ended is reaped by the OS: polled, 10 s at most).
    const deadline = Date.now() + 10_000
    while (threadsNow() !== after && Date.now() < deadline) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
    assert.strictEqual(threadsNow(), after)
  }))
