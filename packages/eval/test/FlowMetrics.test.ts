import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Video, VideoTensor } from "@vidpool/pool"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Evaluator, ModelError } from "../src/index.ts"
import * as EvaluatorLive from "./support/layers.ts"
import { dynamicDegree, flowScores, paddingOf, pairsPerRun, raftSpec, roundHalfEven, strideOf } from "../src/DynamicDegree.ts"
import { lpips, lpipsDistances, lpipsSpec, pairsPerRun as lpipsPairsPerRun } from "../src/LpipsMetric.ts"
import { makeHandlers } from "../src/internal/MetricHandlers.ts"
import { metricSources } from "../src/MetricRegistry.ts"
import { makeChecker } from "../src/ModelChecks.ts"
import { checkSignature, isRefusal, loadRuntime, openSession, runOnce } from "../src/internal/ModelRuntime.ts"
import { makeSessionsUnsafe } from "../src/internal/ModelSessions.ts"
import { ffmpeg, tempDir } from "./support/ffmpeg.ts"

// scripts/make_flow_fixtures.py made the small models, the clips and the scores of FastVideo's code path.
const fixtures = join(import.meta.dirname, "fixtures", "flow")
const lpipsModel = join(fixtures, "lpips-tiny.onnx")
const raftModel = join(fixtures, "raft-tiny.onnx")
const raftExported = join(fixtures, "raft-exported.onnx")
const reference = JSON.parse(readFileSync(join(fixtures, "reference.json"), "utf8")) as {
  readonly lpips: ReadonlyArray<{ readonly video: string; readonly reference: string; readonly score: number; readonly perFrame: ReadonlyArray<number> }>
  readonly dynamic_degree: ReadonlyArray<{
    readonly clip: string
    readonly fps: number
    readonly score: number
    readonly perPair: ReadonlyArray<number>
    readonly threshold: number
    readonly countAbove: number
    readonly countNeeded: number
    readonly interval: number
    readonly framesUsed: number
  }>
}
const exported = JSON.parse(readFileSync(join(fixtures, "raft-exported.json"), "utf8")) as {
  readonly cases: ReadonlyArray<{ readonly shape: ReadonlyArray<number>; readonly flow: ReadonlyArray<number>; readonly every: number }>
}
const clip = (relative: string) => Video.folder(join(fixtures, relative))
const models = { lpips: lpipsModel, raft: raftModel }

const assertRelative = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.isAtMost(Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12), tolerance, `${what}: ${actual} vs ${expected}`)

const evaluate = (samples: ReadonlyArray<Record<string, unknown>>, metrics: ReadonlyArray<string>, given: Record<string, string> = models) =>
  Evaluator.use((ev) => ev.evaluate(samples, { metrics, models: given, modelBatch: 2 })).pipe(
    Effect.provide(Layer.fresh(EvaluatorLive.layerDefault))
  )

describe("common.lpips against FastVideo's code path (small model, random weights)", () => {
  it.live("is within 1e-4 of the reference on each frame and on average, frames cut to the shorter clip", () =>
    Effect.gen(function*() {
      const results = yield* evaluate(
        reference.lpips.map((c) => ({ video: clip(c.video), reference: clip(c.reference) })),
        ["common.lpips"]
      )
      reference.lpips.forEach((c, i) => {
        const r = results.samples[i].metrics["common.lpips"]
        assert.isNotNull(r.score, JSON.stringify(r))
        assertRelative(r.score!, c.score, 1e-4, c.video)
        const perFrame = r.details.perFrame as ReadonlyArray<number>
        assert.strictEqual(perFrame.length, c.perFrame.length)
        perFrame.forEach((d, t) => assertRelative(d, c.perFrame[t], 1e-4, `${c.video} frame ${t}`))
      })
      // The first pair: 7 generated frames against 10 reference frames.
      assert.strictEqual(results.samples[0].metrics["common.lpips"].details.frames, 7)
    }))

  it.live("a video against itself is 0; frames of another size are a skip that says so", () =>
    Effect.gen(function*() {
      const [first, second] = reference.lpips
      const results = yield* evaluate([
        { video: clip(first.video), reference: clip(first.video) },
        { video: clip(first.video), reference: clip(second.reference) }
      ], ["common.lpips"])
      assert.isAtMost(Math.abs(results.samples[0].metrics["common.lpips"].score!), 1e-6)
      const skipped = results.samples[1].metrics["common.lpips"]
      assert.isNull(skipped.score)
      assert.match(String(skipped.details.skipped), /frame sizes differ \(72x64 vs 80x56\)/)
    }))
})

describe("vbench.dynamic_degree against FastVideo's code path (small model, random weights)", () => {
  it.live("gives the reference's verdict, and each pair's flow score within 1e-4 (padded and unpadded sizes)", () =>
    Effect.gen(function*() {
      const results = yield* evaluate(reference.dynamic_degree.map((c) => ({ video: clip(c.clip) })), ["vbench.dynamic_degree"])
      reference.dynamic_degree.forEach((c, i) => {
        const r = results.samples[i].metrics["vbench.dynamic_degree"]
        assert.strictEqual(r.score, c.score, c.clip)
        const d = r.details
        assert.deepStrictEqual(
          { fps: d.fps, interval: d.interval, framesUsed: d.framesUsed, countAbove: d.countAbove, countNeeded: d.countNeeded },
          { fps: c.fps, interval: c.interval, framesUsed: c.framesUsed, countAbove: c.countAbove, countNeeded: c.countNeeded }
        )
        assertRelative(d.threshold as number, c.threshold, 1e-12, `${c.clip} threshold`)
        const perPair = d.perPair as ReadonlyArray<number>
        assert.strictEqual(perPair.length, c.perPair.length)
        perPair.forEach((s, k) =>
          c.perPair[k] === 0 ? assert.isAtMost(s, 1e-6) : assertRelative(s, c.perPair[k], 1e-4, `${c.clip} pair ${k}`)
        )
      })
      // Both verdicts are there: a moving clip and a still one.
      assert.deepStrictEqual(reference.dynamic_degree.map((c) => c.score), [1, 0, 1])
    }))
})

describe("vbench.dynamic_degree's stride comes from the frame rate read from the file", () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const make = (fps: number, frames: number) => {
    const file = join(tmp.dir, `clip-${fps}.mp4`)
    ffmpeg([
      "-f", "lavfi", "-i", `testsrc2=s=128x128:r=${fps}`, "-frames:v", String(frames),
      "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", file
    ])
    return file
  }

  it.live("24, 20, 12 and 7 fps: every 3rd, 2nd (2.5 rounds to even), 2nd and every frame", () =>
    Effect.gen(function*() {
      const rates = [24, 20, 12, 7]
      const files = rates.map((fps) => make(fps, 24))
      const results = yield* evaluate(files.map((f) => ({ video: Video.file(f) })), ["vbench.dynamic_degree"])
      const seen = results.samples.map((s) => {
        const d = s.metrics["vbench.dynamic_degree"].details
        return { fps: d.fps, interval: d.interval, framesUsed: d.framesUsed, pairs: (d.perPair as ReadonlyArray<number>).length, countNeeded: d.countNeeded }
      })
      assert.deepStrictEqual(seen, [
        { fps: 24, interval: 3, framesUsed: 8, pairs: 7, countNeeded: 2 },
        { fps: 20, interval: 2, framesUsed: 12, pairs: 11, countNeeded: 3 },
        { fps: 12, interval: 2, framesUsed: 12, pairs: 11, countNeeded: 3 },
        { fps: 7, interval: 1, framesUsed: 24, pairs: 23, countNeeded: 6 }
      ])
    }))

  it.live("a clip resampled by the fps option is strided at the rate it was decoded at", () =>
    Effect.gen(function*() {
      const results = yield* evaluate([{ video: Video.file(make(24, 24), { fps: 8 }) }], ["vbench.dynamic_degree"])
      const d = results.samples[0].metrics["vbench.dynamic_degree"].details
      assert.deepStrictEqual({ fps: d.fps, interval: d.interval, framesUsed: d.framesUsed }, { fps: 8, interval: 1, framesUsed: 8 })
    }))

  it.live("a clip whose frame rate is unknown is a skip with its reason, and runs no model", () =>
    Effect.gen(function*() {
      const sessions = makeSessionsUnsafe()
      const handlers = makeHandlers(sessions)
      const video = VideoTensor.makeUnsafe({
        data: new Uint8Array(6 * 64 * 64 * 3).fill(90),
        shape: [6, 64, 64, 3],
        layout: "THWC",
        dtype: "uint8",
        fps: 0,
        source: { path: "no-rate" }
      })
      const reply = (yield* (handlers.Compute({
        index: 0,
        input: { tensors: { video }, values: {} },
        sampleMetrics: ["vbench.dynamic_degree"],
        setMetrics: [],
        feeds: [],
        sources: metricSources([], null),
        models: { given: [{ name: "raft", path: raftModel, digest: "r1" }], settings: { threads: 1, batch: 4, providers: ["cpu"] } },
        giveBack: []
      } as never) as unknown as Effect.Effect<{ results: Record<string, { score: number | null; details: Record<string, unknown> }> }>))
      const r = reply.results["vbench.dynamic_degree"]
      assert.isNull(r.score)
      assert.match(String(r.details.skipped), /frame rate is unknown, so the stride of its 8 fps optical flow cannot be set/)
      assert.strictEqual(sessions.opened(), 0)
    }))

  it.live("a clip with one frame at the stride is a skip that says why", () =>
    Effect.gen(function*() {
      const results = yield* evaluate([{ video: Video.file(make(30, 3)) }], ["vbench.dynamic_degree"])
      const r = results.samples[0].metrics["vbench.dynamic_degree"]
      assert.isNull(r.score)
      assert.match(String(r.details.skipped), /needs at least 2 frames at the 8 fps stride \(every 4th frame of a 30 fps clip; got 3 frames\)/)
    }))
})

describe("the flow and LPIPS kernels", () => {
  it("rounds halves to even as Python does, for the stride and the count", () => {
    assert.deepStrictEqual([0.5, 1.5, 2.5, 3.5, 4.5, 2.25, 2.75].map(roundHalfEven), [0, 2, 2, 4, 4, 2, 3])
    assert.deepStrictEqual([1, 8, 12, 20, 25, 29.97, 30, 36, 60].map(strideOf), [1, 1, 2, 2, 3, 4, 4, 4, 8])
  })

  it("pads as RAFT's InputPadder: up to multiples of 8, the odd pixel after the frame", () => {
    assert.deepStrictEqual(paddingOf(66, 75), { top: 3, bottom: 3, left: 2, right: 3, height: 72, width: 80 })
    assert.deepStrictEqual(paddingOf(480, 832), { top: 0, bottom: 0, left: 0, right: 0, height: 480, width: 832 })
    assert.deepStrictEqual(paddingOf(270, 481), { top: 1, bottom: 1, left: 3, right: 4, height: 272, width: 488 })
  })

  it("runs fewer pairs where RAFT's correlation volume would pass 2^30 values", () => {
    assert.strictEqual(pairsPerRun(16, paddingOf(1080, 1920)), 1)
    // 480x832: 27 pairs by the correlation volume, 14 by the 2^25 input values.
    assert.strictEqual(pairsPerRun(16, paddingOf(480, 832)), 14)
    assert.strictEqual(pairsPerRun(3, paddingOf(64, 64)), 3)
  })
})

const still = (frames: number, height: number, width: number, fps = 25): VideoTensor =>
  VideoTensor.makeUnsafe({
    data: new Uint8Array(frames * height * width * 3).fill(120),
    shape: [frames, height, width, 3],
    layout: "THWC",
    dtype: "uint8",
    fps,
    source: { path: "still" }
  })

describe("frames go to the models in batches of the batch setting", () => {
  it.live("LPIPS: 7 frame pairs in runs of 3, 3 and 1, both images of a pair on [-1, 1]", () =>
    Effect.gen(function*() {
      const runs: Array<ReadonlyArray<number>> = []
      const distances = yield* Effect.promise(() =>
        lpipsDistances(still(9, 4, 5), still(7, 4, 5), 7, {
          batch: 3,
          run: async (_model, data, dims) => {
            runs.push(dims)
            assert.strictEqual(data.length, dims.reduce((a, b) => a * b, 1))
            assert.approximately(data[0], 2 * (120 / 255) - 1, 1e-7)
            return { data: new Float32Array(dims[0]).fill(0.5), dims: [dims[0]] }
          }
        })
      )
      assert.deepStrictEqual(runs, [[3, 2, 3, 4, 5], [3, 2, 3, 4, 5], [1, 2, 3, 4, 5]])
      assert.deepStrictEqual(Array.from(distances), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
      // 1080p frames: 2 pairs a run whatever the setting.
      assert.strictEqual(lpipsPairsPerRun(16, 1080, 1920), 2)
    }))

  it.live("RAFT: the pairs of the used frames, padded, in runs of the setting", () =>
    Effect.gen(function*() {
      const runs: Array<ReadonlyArray<number>> = []
      const scores = yield* Effect.promise(() =>
        flowScores(still(9, 130, 131), [0, 3, 6], {
          batch: 1,
          run: async (_model, data, dims) => {
            runs.push(dims)
            assert.strictEqual(data.length, dims.reduce((a, b) => a * b, 1))
            return { data: new Float32Array(dims[0] * 2 * dims[3] * dims[4]).fill(3), dims: [dims[0], 2, dims[3], dims[4]] }
          }
        })
      )
      assert.deepStrictEqual(runs, [[1, 2, 3, 136, 136], [1, 2, 3, 136, 136]])
      scores.forEach((s) => assert.approximately(s, Math.sqrt(18), 1e-6))
    }))
})

describe("the flow and LPIPS models' contracts", () => {
  const check = (metric: typeof lpips, given: Record<string, string>) =>
    makeChecker().check([lpips, dynamicDegree], [metric], given, { threads: 1, batch: 2, providers: ["cpu"] })

  it.live("the small models pass; each is refused as the other's, with what was expected and found", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual((yield* check(lpips, { lpips: lpipsModel })).map((m) => m.name), ["lpips"])
      assert.deepStrictEqual((yield* check(dynamicDegree, { raft: raftModel })).map((m) => m.name), ["raft"])
      const asLpips = (yield* Effect.flip(check(lpips, { lpips: raftModel }))) as ModelError
      assert.strictEqual(asLpips.reason, "Signature")
      assert.include(asLpips.message, `expected one input "pair" float32 [N, 2, 3, H, W] on [-1, 1]; found inputs "frames"`)
      const asRaft = (yield* Effect.flip(check(dynamicDegree, { raft: lpipsModel }))) as ModelError
      assert.strictEqual(asRaft.reason, "Signature")
      assert.include(asRaft.message, `expected one input "frames" float32 [N, 2, 3, H, W] on [-1, 1]; found inputs "pair"`)
    }))

  it.live("a model with another input is refused before any video is decoded, and the range is in the message", () =>
    Effect.gen(function*() {
      const dino = join(import.meta.dirname, "fixtures", "models", "dino-tiny.onnx")
      const error = yield* Effect.flip(evaluate([{ video: Video.file("/nonexistent/never-decoded.mp4") }], ["vbench.dynamic_degree"], { raft: dino }))
      assert.instanceOf(error, ModelError)
      assert.include((error as ModelError).message, `expected one input "frames" float32 [N, 2, 3, H, W] on [-1, 1]`)
      assert.strictEqual(lpipsSpec.input.range?.[0], -1)
    }))

  it.live("export_raft.py's output (torchvision's RAFT, few channels) gives torch's flow at two sizes and batches", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual((yield* check(dynamicDegree, { raft: raftExported })).map((m) => m.name), ["raft"])
      const ort = yield* Effect.promise(() => loadRuntime())
      if (isRefusal(ort)) return assert.fail(ort.detail)
      const session = yield* Effect.promise(() => openSession(ort, raftExported, { threads: 1, batch: 1, providers: ["cpu"] }))
      if (isRefusal(session)) return assert.fail(session.detail)
      assert.isFalse(isRefusal(checkSignature(raftSpec, session)))
      for (const c of exported.cases) {
        const size = c.shape.reduce((a, b) => a * b, 1)
        // The pairs the script made: sin(5 * linspace(-1, 1, size)).
        const data = new Float32Array(size)
        for (let i = 0; i < size; i++) data[i] = Math.sin(5 * Math.fround(-1 + (2 * i) / (size - 1)))
        const result = yield* Effect.promise(() => runOnce(ort, session, "frames", "flow", data, c.shape))
        assert.deepStrictEqual(result.dims, [c.shape[0], 2, c.shape[3], c.shape[4]])
        c.flow.forEach((value, k) => assert.approximately(result.data[k * c.every], value, 1e-4 * Math.max(1, Math.abs(value)), `value ${k * c.every}`))
      }
      yield* Effect.promise(() => session.release())
    }))
})
