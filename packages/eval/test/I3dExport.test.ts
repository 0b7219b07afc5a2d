import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeChecker } from "../src/ModelChecks.ts"
import { fvd, i3dSpec } from "../src/ModelMetrics.ts"
import { checkSignature, isRefusal, loadRuntime, openSession, runOnce } from "../src/internal/ModelRuntime.ts"

// scripts/test_export_i3d.py ran scripts/export_i3d.py on a small scripted module with I3D's call
// signature, and kept TorchScript's own features of the same clips.
const fixtures = join(import.meta.dirname, "fixtures", "models")
const exported = join(fixtures, "i3d-exported.onnx")
const expected = JSON.parse(readFileSync(join(fixtures, "i3d-exported.json"), "utf8")) as {
  readonly clips: ReadonlyArray<{ readonly shape: ReadonlyArray<number>; readonly features: ReadonlyArray<ReadonlyArray<number>> }>
}

describe("the I3D export script's output", () => {
  it.live("has the input and output common.fvd needs", () =>
    Effect.gen(function*() {
      const given = yield* makeChecker().check([fvd], [fvd], { i3d: exported }, { threads: 1, batch: 1, providers: ["cpu"] })
      assert.deepStrictEqual(given.map((m) => m.name), ["i3d"])
    }))

  it.live("gives TorchScript's features for a batch of one and of two, of any frame count", () =>
    Effect.gen(function*() {
      const ort = yield* Effect.promise(() => loadRuntime())
      if (isRefusal(ort)) return assert.fail(ort.detail)
      const session = yield* Effect.promise(() => openSession(ort, exported, { threads: 1, batch: 1, providers: ["cpu"] }))
      if (isRefusal(session)) return assert.fail(session.detail)
      const output = checkSignature(i3dSpec, session)
      assert.isFalse(isRefusal(output))
      for (const clip of expected.clips) {
        const size = clip.shape.reduce((a, b) => a * b, 1)
        // The clip the script made: sin(linspace(-1, 1, size)).
        const data = new Float32Array(size)
        for (let i = 0; i < size; i++) data[i] = Math.sin(Math.fround(-1 + (2 * i) / (size - 1)))
        const result = yield* Effect.promise(() => runOnce(ort, session, "video", "features", data, clip.shape))
        assert.deepStrictEqual(result.dims, [clip.shape[0], 400])
        clip.features.forEach((row, n) =>
          row.forEach((value, j) => assert.approximately(result.data[n * 400 + j], value, 1e-4 * Math.max(1, Math.abs(value))))
        )
      }
      yield* Effect.promise(() => session.release())
    }))
})
