import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeChecker } from "../src/ModelChecks.ts"
import { dinoSpec, subjectConsistency } from "../src/ModelMetrics.ts"
import { checkSignature, isRefusal, loadRuntime, openSession, runOnce } from "../src/internal/ModelRuntime.ts"
import { shorterSideSize } from "../src/Preprocess.ts"

// scripts/test_export_dino.py ran scripts/export_dino.py on a small module with DINO's call
// signature (position embeddings resized to the frame's patch grid on each call), for 320x240
// videos, and kept the module's own features of the same frames.
const fixtures = join(import.meta.dirname, "fixtures", "models")
const exported = join(fixtures, "dino-exported.onnx")
const expected = JSON.parse(readFileSync(join(fixtures, "dino-exported.json"), "utf8")) as {
  readonly frames: ReadonlyArray<{ readonly shape: ReadonlyArray<number>; readonly features: ReadonlyArray<ReadonlyArray<number>> }>
  readonly sizes: ReadonlyArray<{ readonly video: readonly [number, number]; readonly input: readonly [number, number] }>
}

describe("the DINO export script's output", () => {
  it("exports for the size vidpool resizes the videos' frames to", () => {
    for (const { input, video } of expected.sizes) {
      const size = shorterSideSize(video[1], video[0], 224)
      assert.deepStrictEqual([size.height, size.width], input, `${video[0]}x${video[1]}`)
    }
  })

  it.live("has the input and output vbench.subject_consistency needs", () =>
    Effect.gen(function*() {
      const given = yield* makeChecker().check([subjectConsistency], [subjectConsistency], { dino: exported }, {
        threads: 1,
        batch: 1,
        providers: ["cpu"]
      })
      assert.deepStrictEqual(given.map((m) => m.name), ["dino"])
    }))

  it.live("gives the module's features for a batch of one and of three frames", () =>
    Effect.gen(function*() {
      const ort = yield* Effect.promise(() => loadRuntime())
      if (isRefusal(ort)) return assert.fail(ort.detail)
      const session = yield* Effect.promise(() => openSession(ort, exported, { threads: 1, batch: 1, providers: ["cpu"] }))
      if (isRefusal(session)) return assert.fail(session.detail)
      const output = checkSignature(dinoSpec, session)
      if (isRefusal(output)) return assert.fail(output.detail)
      for (const frames of expected.frames) {
        const size = frames.shape.reduce((a, b) => a * b, 1)
        // The frames the script made: 2 sin(linspace(-1, 1, size)).
        const data = new Float32Array(size)
        for (let i = 0; i < size; i++) data[i] = 2 * Math.sin(Math.fround(-1 + (2 * i) / (size - 1)))
        const result = yield* Effect.promise(() => runOnce(ort, session, "pixel_values", output.name, data, frames.shape))
        assert.deepStrictEqual(result.dims, [frames.shape[0], 768])
        frames.features.forEach((row, n) =>
          row.forEach((value, j) => assert.approximately(result.data[n * 768 + j], value, 1e-4 * Math.max(1, Math.abs(value))))
        )
      }
      yield* Effect.promise(() => session.release())
    }))
})
