// `modelThreads` reaches ONNX Runtime: a session of n intra-op threads adds n - 1 threads to the
// process (the calling thread is the n-th), counted in /proc/self/task. One Evaluator opens a
// session per thread count (a session is kept per model file and settings), so the counts are
// taken while it is alive, with no thread of an earlier Evaluator still being reaped.
import { assert, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { Video } from "@vidpool/pool"
import { Evaluator } from "../src/index.ts"
import * as EvaluatorLive from "./support/layers.ts"
import { defaultModelThreads } from "../src/internal/Evaluation.ts"

const fixtures = join(import.meta.dirname, "fixtures", "models")
const dino = join(fixtures, "dino-tiny.onnx")
const threadsNow = () => readdirSync("/proc/self/task").length

/** Threads of the process after a subject-consistency evaluation with `modelThreads`. */
const threadsAfter = (modelThreads: number | undefined) =>
  Effect.map(
    Evaluator.use((ev) =>
      ev.evaluate([{ video: Video.folder(join(fixtures, "clips", "sc-0")) }], {
        metrics: ["vbench.subject_consistency"],
        models: { dino },
        workers: 1,
        ...(modelThreads === undefined ? {} : { modelThreads })
      })
    ),
    () => threadsNow()
  )

it.live("modelThreads sets ONNX Runtime's intra-op threads of the sessions, and the default is the cores per worker", () =>
  Effect.gen(function*() {
    const one = yield* threadsAfter(1)
    const four = yield* threadsAfter(4)
    assert.strictEqual(four - one, 3)
    const six = yield* threadsAfter(6)
    assert.strictEqual(six - four, 5)
    // The same settings again reuse their session: no new thread.
    assert.strictEqual((yield* threadsAfter(4)) - six, 0)
    // The default (cores / workers) opens a session of its own unless a count above had it.
    const threads = defaultModelThreads(1)
    assert.strictEqual((yield* threadsAfter(undefined)) - six, [1, 4, 6].includes(threads) ? 0 : threads - 1)
  }).pipe(Effect.provide(Layer.fresh(EvaluatorLive.layerDefault))))
