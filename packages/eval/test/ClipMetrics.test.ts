import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Video, VideoTensor } from "@vidpool/pool"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { clipImageBatch, cubicTaps, resizeCropGeometry } from "../src/internal/Bicubic.ts"
import { appearanceStyle, backgroundConsistency, clipImageFeatures, clipB32ImageSpec } from "../src/ClipMetrics.ts"
import { CONTEXT_LENGTH, loadClipTokenizer } from "../src/internal/ClipText.ts"
import { Evaluator, MetricRegistry, ModelError } from "../src/index.ts"
import { makeHandlers } from "../src/internal/MetricHandlers.ts"
import { metricSources } from "../src/MetricRegistry.ts"
import { makeChecker } from "../src/ModelChecks.ts"
import { makeSessionsUnsafe } from "../src/internal/ModelSessions.ts"
import { tempDir } from "./support/ffmpeg.ts"
import * as EvaluatorLive from "./support/layers.ts"

// scripts/make_clip_fixtures.py made the small models (random weights, the real ones' inputs and
// outputs), the tokenizer file, the frames, and the scores on FastVideo's code path.
const fixtures = join(import.meta.dirname, "fixtures", "clip")
const models = {
  clip_b32_image: join(fixtures, "clip-b32-image.onnx"),
  clip_b32_text: join(fixtures, "clip-b32-text.onnx"),
  clip_l14_image: join(fixtures, "clip-l14-image.onnx"),
  aesthetic_head: join(fixtures, "aesthetic-head.onnx"),
  clip_tokenizer: join(fixtures, "tokenizer.json")
}
const reference = JSON.parse(readFileSync(join(fixtures, "reference.json"), "utf8")) as {
  readonly tokens: ReadonlyArray<{ readonly text: string; readonly ids: ReadonlyArray<number> }>
  readonly clips: ReadonlyArray<{
    readonly clip: string
    readonly frames: number
    readonly prompt: string
    readonly background_consistency: number
    readonly aesthetic_quality: number
    readonly appearance_style: number
  }>
}
const preprocess = JSON.parse(readFileSync(join(fixtures, "preprocess-reference.json"), "utf8")) as ReadonlyArray<{
  readonly shape: readonly [number, number]
  readonly size: number
  readonly frame: ReadonlyArray<number>
  readonly output: ReadonlyArray<number>
}>
const clip = (relative: string) => Video.folder(join(fixtures, relative))

const layerWith = (given: Record<string, string>) => EvaluatorLive.layerWith(MetricRegistry.layerModels(given))

const assertRelative = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.isAtMost(Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12), tolerance, `${what}: ${actual} vs ${expected}`)

const frameTensor = (data: Uint8Array, frames: number, height: number, width: number): VideoTensor =>
  VideoTensor.makeUnsafe({ data, shape: [frames, height, width, 3], layout: "THWC", dtype: "uint8", fps: 25, source: { path: "made" } })

describe("CLIP's preprocessing against torchvision (FastVideo's _clip_transform)", () => {
  it("bicubic shorter-side resize, centre crop and CLIP normalisation agree within 1e-5", () => {
    for (const c of preprocess) {
      const [h, w] = c.shape
      const out = clipImageBatch(frameTensor(Uint8Array.from(c.frame), 1, h, w), 0, 1, c.size)
      assert.strictEqual(out.length, c.output.length)
      let worst = 0
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - c.output[i]))
      assert.isAtMost(worst, 1e-5, `${h}x${w} to ${c.size}`)
    }
  })

  it("rounds the crop's offset half to even, as Python's round does", () => {
    assert.deepStrictEqual(resizeCropGeometry(9, 12, 16), { resized: { height: 16, width: 21 }, top: 0, left: 2 })
    assert.deepStrictEqual(resizeCropGeometry(30, 47, 20), { resized: { height: 20, width: 31 }, top: 0, left: 6 })
    assert.deepStrictEqual(resizeCropGeometry(480, 832, 224), { resized: { height: 224, width: 388 }, top: 0, left: 82 })
  })

  it("keeps the four taps of each position inside the frame, their weights summing to 1", () => {
    const taps = cubicTaps(5, 17)
    for (let k = 0; k < taps.count; k++) {
      let sum = 0
      for (let j = 0; j < 4; j++) {
        assert.isAtLeast(taps.index[4 * k + j], 0)
        assert.isAtMost(taps.index[4 * k + j], 4)
        sum += taps.weight[4 * k + j]
      }
      assert.approximately(sum, 1, 1e-6)
    }
  })
})

describe("CLIP's tokenizer file, read by the tokenizers library", () => {
  it.live("gives the ids of CLIP's tokenization rules: lowercase, its split pattern, byte-level BPE with </w>, 77 ids", () =>
    Effect.gen(function*() {
      const tokenizer = yield* Effect.promise(() => loadClipTokenizer(models.clip_tokenizer))
      for (const { ids, text } of reference.tokens) {
        assert.deepStrictEqual(Array.from(tokenizer.encode(text), Number), ids, JSON.stringify(text))
      }
    }))

  it.live("truncates a long prompt to 77 ids ending with the end token", () =>
    Effect.gen(function*() {
      const tokenizer = yield* Effect.promise(() => loadClipTokenizer(models.clip_tokenizer))
      const ids = tokenizer.encode("the art of painting ".repeat(60))
      assert.strictEqual(ids.length, CONTEXT_LENGTH)
      assert.strictEqual(Number(ids[0]), tokenizer.start)
      assert.strictEqual(Number(ids[CONTEXT_LENGTH - 1]), tokenizer.end)
      assert.isFalse(ids.slice(1, CONTEXT_LENGTH - 1).some((id) => Number(id) === tokenizer.end || id === 0n))
    }))
})

describe("CLIP metrics against FastVideo's definitions (small models, random weights)", () => {
  it.live("background consistency, aesthetic quality and appearance style are within 1e-4 of the reference path on each clip", () =>
    Effect.gen(function*() {
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate(reference.clips.map((c) => ({ video: clip(c.clip), text_prompt: c.prompt })), {
          metrics: ["vbench.background_consistency", "vbench.aesthetic_quality", "vbench.appearance_style"],
          modelBatch: 2,
          workers: 2
        })
      )
      reference.clips.forEach((c, i) => {
        const got = results.samples[i].metrics
        for (const name of ["background_consistency", "aesthetic_quality", "appearance_style"] as const) {
          const score = got[`vbench.${name}`].score
          assert.isNotNull(score, JSON.stringify(got[`vbench.${name}`]))
          assertRelative(score!, c[name], 1e-4, `${name} of ${c.clip}`)
        }
        assert.strictEqual(got["vbench.aesthetic_quality"].details.frames, c.frames)
      })
    }).pipe(Effect.provide(layerWith(models))))

  it.live("a sample without a text_prompt skips appearance style with the reason, and scores the others", () =>
    Effect.gen(function*() {
      const c = reference.clips[0]
      const results = yield* Evaluator.use((ev) =>
        ev.evaluate([{ video: clip(c.clip) }, { video: clip(c.clip), text_prompt: c.prompt }], {
          metrics: ["vbench.appearance_style", "vbench.background_consistency"]
        })
      )
      const first = results.samples[0].metrics
      assert.isNull(first["vbench.appearance_style"].score)
      assert.include(String(first["vbench.appearance_style"].details.skipped), "text_prompt")
      assertRelative(first["vbench.background_consistency"].score!, c.background_consistency, 1e-4, "background")
      assertRelative(results.samples[1].metrics["vbench.appearance_style"].score!, c.appearance_style, 1e-4, "style")
    }).pipe(Effect.provide(layerWith(models))))

  it.live("a constant video has background consistency 1", () =>
    Effect.gen(function*() {
      const sessions = makeSessionsUnsafe()
      const handlers = makeHandlers(sessions)
      const video = frameTensor(new Uint8Array(4 * 30 * 40 * 3).fill(77), 4, 30, 40)
      const reply = yield* (handlers.Compute({
        index: 0,
        input: { tensors: { video }, values: {} },
        sampleMetrics: ["vbench.background_consistency"],
        setMetrics: [],
        feeds: [],
        sources: metricSources([], null),
        models: {
          given: [{ name: "clip_b32_image", path: models.clip_b32_image, digest: "c1" }],
          settings: { threads: 1, batch: 3, providers: ["cpu"] }
        },
        giveBack: []
      } as never) as unknown as Effect.Effect<{ results: Record<string, { score: number | null }> }>)
      assert.approximately(reply.results["vbench.background_consistency"].score!, 1, 1e-12)
      yield* Effect.promise(() => sessions.releaseAll())
    }))

  it.live("frames go to the image model in batches of the batch setting, 224x224 each", () =>
    Effect.gen(function*() {
      const runs: Array<ReadonlyArray<number>> = []
      const features = yield* Effect.promise(() =>
        clipImageFeatures(frameTensor(new Uint8Array(5 * 24 * 32 * 3).fill(3), 5, 24, 32), {
          batch: 2,
          run: async (_model, data, dims) => {
            runs.push(dims)
            assert.strictEqual(data.length, dims.reduce((a, b) => a * b, 1))
            return { data: new Float32Array(dims[0] * 512).fill(1), dims: [dims[0], 512] }
          }
        }, clipB32ImageSpec)
      )
      assert.deepStrictEqual(runs, [[2, 3, 224, 224], [2, 3, 224, 224], [1, 3, 224, 224]])
      assert.strictEqual(features.length, 5)
    }))
})

describe("a model that is a file the metric reads itself", () => {
  it.live("is loaded once per thread, whatever the samples and calls, and a failed load is tried again", () =>
    Effect.gen(function*() {
      const sessions = makeSessionsUnsafe()
      let loads = 0
      let fail = true
      const spec = {
        name: "words",
        description: "a word list",
        input: { name: "text", dims: [] },
        outputs: [{ name: "ids", dims: [1] }],
        howToGet: "here",
        load: async (file: string) => {
          loads++
          if (fail) throw new Error(`cannot read ${file}`)
          return { file }
        }
      }
      const payload = { given: [{ name: "words", path: "/words.json", digest: "w1" }], settings: { threads: 1, batch: 1, providers: ["cpu"] } }
      const context = () => sessions.context({ name: "m", models: [spec] }, payload)
      const first = yield* Effect.promise(() => context().load!("words").then(() => "loaded", (e: Error) => e.message))
      assert.strictEqual(first, "cannot read /words.json")
      fail = false
      const loaded = yield* Effect.promise(() => Promise.all([context().load!("words"), context().load!("words"), context().load!("words")]))
      assert.deepStrictEqual(loaded, [{ file: "/words.json" }, { file: "/words.json" }, { file: "/words.json" }])
      assert.strictEqual(loads, 2)
      const unknown = yield* Effect.promise(() => context().load!("other").then(() => "loaded", (e: Error) => e.message))
      assert.include(unknown, "does not declare the model other")
      yield* Effect.promise(() => sessions.releaseAll())
    }))
})

const checks = makeChecker()
const settings = { threads: 1, batch: 2, providers: ["cpu"] as const }
const refusal = (metric: typeof backgroundConsistency, given: Record<string, string>) =>
  checks.check([backgroundConsistency, appearanceStyle], [metric], given, { ...settings, providers: [...settings.providers] }).pipe(Effect.flip)

describe("CLIP models are checked before anything is decoded", () => {
  it.live("an image model of the wrong size is a Signature error naming the model, what was expected and what was found", () =>
    Effect.gen(function*() {
      const error = yield* refusal(backgroundConsistency, { clip_b32_image: models.clip_l14_image })
      assert.instanceOf(error, ModelError)
      assert.strictEqual(error.reason, "Signature")
      assert.strictEqual(error.model, "clip_b32_image")
      assert.include(error.message, "\"image_embeds\" float32 [N, 512]")
      assert.include(error.message, "768")
    }))

  it.live("a text model whose input is not int64 token ids is refused", () =>
    Effect.gen(function*() {
      const given = { clip_b32_image: models.clip_b32_image, clip_b32_text: models.clip_b32_image, clip_tokenizer: models.clip_tokenizer }
      const error = yield* refusal(appearanceStyle, given)
      assert.strictEqual(error.reason, "Signature")
      assert.strictEqual(error.model, "clip_b32_text")
      assert.include(error.message, "\"input_ids\" int64 [N, 77]")
    }))

  it.live("a tokenizer file that is not JSON, or not CLIP's, is refused with the cause", () =>
    Effect.gen(function*() {
      const { dir, remove } = tempDir()
      const notJson = join(dir, "tokenizer.json")
      writeFileSync(notJson, "{ not json")
      const base = { clip_b32_image: models.clip_b32_image, clip_b32_text: models.clip_b32_text }
      const a = yield* refusal(appearanceStyle, { ...base, clip_tokenizer: notJson })
      assert.strictEqual(a.model, "clip_tokenizer")
      assert.strictEqual(a.file, notJson)
      assert.include(a.message, "not JSON")
      const json = JSON.parse(readFileSync(models.clip_tokenizer, "utf8")) as {
        model: { vocab: Record<string, number> }
        added_tokens: Array<{ content: string }>
      }
      delete json.model.vocab["<|startoftext|>"]
      json.added_tokens = json.added_tokens.filter((t) => t.content !== "<|startoftext|>")
      const noStart = join(dir, "no-start.json")
      writeFileSync(noStart, JSON.stringify(json))
      const b = yield* refusal(appearanceStyle, { ...base, clip_tokenizer: noStart })
      assert.include(b.message, "<|startoftext|>")
      const c = yield* refusal(appearanceStyle, { ...base, clip_tokenizer: models.clip_b32_text })
      assert.strictEqual(c.model, "clip_tokenizer")
      remove()
    }))

  it.live("appearance style without its tokenizer says how to give it", () =>
    Effect.gen(function*() {
      const error = yield* refusal(appearanceStyle, { clip_b32_image: models.clip_b32_image, clip_b32_text: models.clip_b32_text })
      assert.strictEqual(error.reason, "NotGiven")
      assert.strictEqual(error.model, "clip_tokenizer")
      assert.include(error.message, "--model clip_tokenizer=PATH")
    }))
})
