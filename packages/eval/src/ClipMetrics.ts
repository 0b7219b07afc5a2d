/**
 * The VBench metrics over CLIP features, by FastVideo's definitions: `vbench.background_consistency`
 * (ViT-B/32 image features), `vbench.aesthetic_quality` (ViT-L/14 and LAION's linear head) and
 * `vbench.appearance_style` (ViT-B/32 image and text features against the sample's prompt).
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { clipImageBatch } from "./internal/Bicubic.ts"
import { type ClipTokenizer, CONTEXT_LENGTH, loadClipTokenizer } from "./internal/ClipText.ts"
import { geometry } from "./Frames.ts"
import * as Metric from "./Metric.ts"
import { consistencyScore, l2Normalize } from "./ModelMetrics.ts"
import type { ModelSpec } from "./Models.ts"

const howToGet = "packages/eval/README.md, section Models"

/**
 * The values of CLIP's input frames, about: `(v - mean) / std` for `v` on [0, 1], a little wider
 * where the bicubic resize overshoots.
 *
 * @since 0.3.0
 * @category constants
 */
export const CLIP_PIXEL_RANGE: readonly [number, number] = [-1.8, 2.2]

/**
 * CLIP ViT-B/32's image encoder (with its projection): frames `[N, 3, 224, 224]` (CLIP's
 * preprocessing) in, 512 values out.
 *
 * @since 0.3.0
 * @category models
 */
export const clipB32ImageSpec: ModelSpec = {
  name: "clip_b32_image",
  description: "CLIP ViT-B/32's image encoder (OpenAI's ViT-B/32, encode_image, as ONNX)",
  input: { name: "pixel_values", dims: ["N", 3, 224, 224], range: CLIP_PIXEL_RANGE },
  outputs: [{ name: "image_embeds", dims: ["N", 512] }],
  howToGet
}

/**
 * CLIP ViT-B/32's text encoder (with its projection): 77 token ids `[N, 77]` (int64) in, 512
 * values out.
 *
 * @since 0.3.0
 * @category models
 */
export const clipB32TextSpec: ModelSpec = {
  name: "clip_b32_text",
  description: "CLIP ViT-B/32's text encoder (OpenAI's ViT-B/32, encode_text, as ONNX)",
  input: { name: "input_ids", dims: ["N", CONTEXT_LENGTH], type: "int64", range: [0, 49407] },
  outputs: [{ name: "text_embeds", dims: ["N", 512] }],
  howToGet
}

/**
 * CLIP's tokenizer file (`tokenizer.json`, the one CLIP ViT-B/32 comes with): a prompt in, 77
 * token ids out. Read by the tokenizers library, not run by ONNX Runtime.
 *
 * @since 0.3.0
 * @category models
 */
export const clipTokenizerSpec: ModelSpec = {
  name: "clip_tokenizer",
  description: "CLIP's tokenizer.json (byte-level BPE with <|startoftext|> and <|endoftext|>)",
  input: { name: "text", dims: [] },
  outputs: [{ name: "input_ids", dims: [CONTEXT_LENGTH], type: "int64" }],
  howToGet,
  load: loadClipTokenizer
}

/**
 * CLIP ViT-L/14's image encoder (with its projection): frames `[N, 3, 224, 224]` in, 768 values out.
 *
 * @since 0.3.0
 * @category models
 */
export const clipL14ImageSpec: ModelSpec = {
  name: "clip_l14_image",
  description: "CLIP ViT-L/14's image encoder (OpenAI's ViT-L/14, encode_image, as ONNX)",
  input: { name: "pixel_values", dims: ["N", 3, 224, 224], range: CLIP_PIXEL_RANGE },
  outputs: [{ name: "image_embeds", dims: ["N", 768] }],
  howToGet
}

/**
 * LAION's aesthetic predictor for ViT-L/14 (`sa_0_4_vit_l_14_linear.pth`, a linear layer 768 ->
 * 1): L2-normalised image features `[N, 768]` in, a score `[N, 1]` out.
 *
 * @since 0.3.0
 * @category models
 */
export const aestheticHeadSpec: ModelSpec = {
  name: "aesthetic_head",
  description: "LAION's aesthetic predictor head (sa_0_4_vit_l_14_linear.pth, exported by scripts/export_aesthetic_head.py)",
  input: { name: "image_embeds", dims: ["N", 768], range: [-1, 1] },
  outputs: [{ name: "score", dims: ["N", 1] }],
  howToGet
}

const FEATURES = "@vidpool/clip-features"
const SCORES = "@vidpool/clip-scores"

const videoOf = (input: Metric.MetricInput): VideoTensor => {
  const video = input.video
  if (!Metric.isTensor(video)) throw new Error(`field "video" is not a decoded video (${typeof video})`)
  return video
}

/**
 * CLIP image features of every frame of `video` by the model `spec`, L2-normalised: FastVideo's
 * `_clip_transform` (bicubic shorter side to 224, no antialiasing, centre crop 224, CLIP's mean
 * and std), `batch` frames a run.
 *
 * @since 0.3.0
 * @category features
 */
export const clipImageFeatures = async (
  video: VideoTensor,
  models: Metric.ModelContext,
  spec: ModelSpec
): Promise<Array<Float64Array>> => {
  const { frames } = geometry(video)
  const out: Array<Float64Array> = []
  const batch = Math.max(1, models.batch)
  for (let start = 0; start < frames; start += batch) {
    const count = Math.min(batch, frames - start)
    const result = await models.run(spec.name, clipImageBatch(video, start, count), [count, 3, 224, 224])
    const d = result.dims[result.dims.length - 1]
    for (let n = 0; n < count; n++) out.push(l2Normalize(result.data.subarray(n * d, (n + 1) * d)))
  }
  return out
}

/**
 * `vbench.background_consistency`: VBench's consistency score (as subject consistency) over CLIP
 * ViT-B/32 image features of every frame (FastVideo's definition).
 *
 * @since 0.3.0
 * @category metrics
 */
export const backgroundConsistency: Metric.SampleMetric = Metric.sample({
  name: "vbench.background_consistency",
  needs: ["video"],
  description: "VBench background consistency: cosine similarity of CLIP ViT-B/32 frame features to the previous " +
    "and the first frame, averaged (needs the model clip_b32_image)",
  models: [clipB32ImageSpec],
  prepare: async (input, models) => {
    const video = videoOf(input)
    if (geometry(video).frames === 0) return input
    return { ...input, [FEATURES]: await clipImageFeatures(video, models, clipB32ImageSpec) }
  },
  compute: (input) => {
    const name = "vbench.background_consistency"
    const features = input[FEATURES] as ReadonlyArray<Float64Array> | undefined
    if (features === undefined) return Metric.skipped(name, "the video has no frames")
    return Metric.result(name, consistencyScore(features), { frames: features.length, model: clipB32ImageSpec.name })
  }
})

const mean = (values: ReadonlyArray<number>): number => values.reduce((a, b) => a + b, 0) / values.length

/**
 * `vbench.aesthetic_quality`: LAION's aesthetic score of each frame's L2-normalised CLIP ViT-L/14
 * features, divided by 10, averaged over frames (FastVideo's definition).
 *
 * @since 0.3.0
 * @category metrics
 */
export const aestheticQuality: Metric.SampleMetric = Metric.sample({
  name: "vbench.aesthetic_quality",
  needs: ["video"],
  description: "VBench aesthetic quality: LAION's aesthetic head on L2-normalised CLIP ViT-L/14 frame features, " +
    "divided by 10, averaged (needs the models clip_l14_image and aesthetic_head)",
  models: [clipL14ImageSpec, aestheticHeadSpec],
  prepare: async (input, models) => {
    const video = videoOf(input)
    if (geometry(video).frames === 0) return input
    const features = await clipImageFeatures(video, models, clipL14ImageSpec)
    const scores: Array<number> = []
    const batch = Math.max(1, models.batch)
    for (let start = 0; start < features.length; start += batch) {
      const rows = features.slice(start, start + batch)
      const data = new Float32Array(rows.length * 768)
      rows.forEach((row, n) => data.set(row, n * 768))
      const result = await models.run(aestheticHeadSpec.name, data, [rows.length, 768])
      for (let n = 0; n < rows.length; n++) scores.push(Math.fround(result.data[n]) / 10)
    }
    return { ...input, [SCORES]: scores }
  },
  compute: (input) => {
    const name = "vbench.aesthetic_quality"
    const scores = input[SCORES] as ReadonlyArray<number> | undefined
    if (scores === undefined) return Metric.skipped(name, "the video has no frames")
    return Metric.result(name, mean(scores), { frames: scores.length, perFrame: scores, model: clipL14ImageSpec.name })
  }
})

/**
 * `vbench.appearance_style`: the cosine similarity of each frame's CLIP ViT-B/32 image features
 * with the features of the sample's `text_prompt` (CLIP's tokenizer, 77 tokens, truncated),
 * averaged over frames (FastVideo's definition).
 *
 * @since 0.3.0
 * @category metrics
 */
export const appearanceStyle: Metric.SampleMetric = Metric.sample({
  name: "vbench.appearance_style",
  needs: ["video", "text_prompt"],
  description: "VBench appearance style: cosine similarity of CLIP ViT-B/32 frame features with the text_prompt's " +
    "text features, averaged (needs the models clip_b32_image, clip_b32_text and clip_tokenizer)",
  models: [clipB32ImageSpec, clipB32TextSpec, clipTokenizerSpec],
  prepare: async (input, models) => {
    const video = videoOf(input)
    const prompt = input.text_prompt
    if (typeof prompt !== "string" || geometry(video).frames === 0) return input
    if (models.load === undefined || models.runIds === undefined) {
      throw new Error("this model context cannot load a tokenizer or run a text model")
    }
    const tokenizer = await models.load(clipTokenizerSpec.name) as ClipTokenizer
    const text = await models.runIds(clipB32TextSpec.name, tokenizer.encode(prompt), [1, CONTEXT_LENGTH])
    const textFeatures = l2Normalize(text.data.subarray(0, text.dims[text.dims.length - 1]))
    const images = await clipImageFeatures(video, models, clipB32ImageSpec)
    const sims = images.map((f) => {
      let dot = 0
      for (let i = 0; i < f.length; i++) dot += f[i] * textFeatures[i]
      return dot
    })
    return { ...input, [SCORES]: sims }
  },
  compute: (input) => {
    const name = "vbench.appearance_style"
    if (typeof input.text_prompt !== "string") {
      return Metric.skipped(name, `the field "text_prompt" is not text (${typeof input.text_prompt})`)
    }
    const sims = input[SCORES] as ReadonlyArray<number> | undefined
    if (sims === undefined) return Metric.skipped(name, "the video has no frames")
    return Metric.result(name, mean(sims), { frames: sims.length, perFrame: sims, model: clipB32ImageSpec.name })
  }
})

/**
 * The CLIP metrics, as the built-ins list them.
 *
 * @since 0.3.0
 * @category metrics
 */
export const clipMetrics: ReadonlyArray<Metric.Metric> = [backgroundConsistency, aestheticQuality, appearanceStyle]
