/**
 * `vbench.dynamic_degree`, FastVideo's definition: RAFT optical flow between frames 8 per second
 * apart, each pair's largest 5% of flow magnitudes averaged, and the clip dynamic (1) when enough
 * pairs pass a threshold scaled to the frame size. The stride comes from the clip's own frame rate.
 *
 * @since 0.3.0
 */
import type { VideoTensor } from "@vidpool/pool"
import { geometry } from "./Frames.ts"
import * as Metric from "./Metric.ts"
import type { ModelSpec } from "./Models.ts"
import { framePlanes } from "./Preprocess.ts"

/**
 * RAFT as `vbench.dynamic_degree` runs it: frame pairs `[N, 2, 3, H, W]` on [-1, 1] (H and W
 * multiples of 8) in, the final flow `[N, 2, H, W]` in pixels out.
 *
 * @since 0.3.0
 * @category models
 */
export const raftSpec: ModelSpec = {
  name: "raft",
  description: "RAFT optical flow (torchvision's raft_large with the raft-things weights, 20 refinements, " +
    "exported to ONNX by scripts/export_raft.py)",
  input: { name: "frames", dims: ["N", 2, 3, "H", "W"], range: [-1, 1] },
  outputs: [{ name: "flow", dims: ["N", 2, "H", "W"] }],
  howToGet: "packages/eval/README.md, section Models"
}

/**
 * The rate the flow is computed at: frames `round(fps / 8)` apart.
 *
 * @since 0.3.0
 * @category constants
 */
export const FLOW_FPS = 8

/**
 * The smallest padded side RAFT takes: its coarsest correlation level is 1/64 of the frame, and a
 * level of one pixel gives NaN flows (torchvision's RAFT states 128 as its minimum size).
 *
 * @since 0.3.0
 * @category constants
 */
export const MIN_SIDE = 128

/**
 * The most float32 values one run's input may hold (128 MB).
 *
 * @since 0.3.0
 * @category constants
 */
export const MAX_RUN_VALUES = 2 ** 25

const MAGNITUDES = "@vidpool/flow-magnitudes"

/**
 * Python's `round`: halves to the even neighbour (`round(2.5)` is 2), as FastVideo's stride
 * and count rule round.
 *
 * @since 0.3.0
 * @category kernels
 */
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x)
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/**
 * The frame stride of a clip at `fps`: `max(1, round(fps / 8))`.
 *
 * @since 0.3.0
 * @category kernels
 */
export const strideOf = (fps: number): number => Math.max(1, roundHalfEven(fps / FLOW_FPS))

/**
 * RAFT's `InputPadder` (sintel mode): each side padded up to a multiple of 8, split around the
 * frame (the odd pixel after it), by repeating the edge.
 *
 * @since 0.3.0
 * @category geometry
 */
export interface Padding {
  readonly top: number
  readonly bottom: number
  readonly left: number
  readonly right: number
  readonly height: number
  readonly width: number
}

/**
 * @since 0.3.0
 * @category geometry
 */
export const paddingOf = (height: number, width: number): Padding => {
  const padH = (8 - (height % 8)) % 8
  const padW = (8 - (width % 8)) % 8
  const top = Math.floor(padH / 2)
  const left = Math.floor(padW / 2)
  return { top, bottom: padH - top, left, right: padW - left, height: height + padH, width: width + padW }
}

/**
 * Frame pairs as one `[N, 2, 3, H', W']` float32 batch on [-1, 1], each frame padded by repeating
 * its edges to `pad`'s size.
 *
 * @since 0.3.0
 * @category batches
 */
export const pairBatch = (video: VideoTensor, pairs: ReadonlyArray<readonly [number, number]>, pad: Padding): Float32Array => {
  const { height, width } = geometry(video)
  const plane = pad.height * pad.width
  const out = new Float32Array(pairs.length * 2 * 3 * plane)
  const scratch = new Float32Array(3 * height * width)
  pairs.forEach((pair, n) => {
    for (let k = 0; k < 2; k++) {
      framePlanes(video, pair[k], scratch, 0, 2, -1)
      for (let c = 0; c < 3; c++) {
        const src = c * height * width
        const dst = ((2 * n + k) * 3 + c) * plane
        for (let y = 0; y < pad.height; y++) {
          const sy = Math.min(height - 1, Math.max(0, y - pad.top))
          const row = src + sy * width
          const o = dst + y * pad.width
          for (let x = 0; x < pad.width; x++) out[o + x] = scratch[row + Math.min(width - 1, Math.max(0, x - pad.left))]
        }
      }
    }
  })
  return out
}

/**
 * VBench's score of one flow field (`[2, H, W]` at `offset`): the mean of the largest 5% of the
 * magnitudes (at least one value).
 *
 * @since 0.3.0
 * @category kernels
 */
export const topMagnitude = (flow: Float32Array, offset: number, height: number, width: number): number => {
  const plane = height * width
  const rad = new Float32Array(plane)
  for (let p = 0; p < plane; p++) {
    const u = flow[offset + p]
    const v = flow[offset + plane + p]
    rad[p] = Math.sqrt(u * u + v * v)
  }
  rad.sort()
  const cut = Math.max(1, Math.floor(plane * 0.05))
  let sum = 0
  for (let i = plane - cut; i < plane; i++) sum += rad[i]
  return sum / cut
}

/**
 * FastVideo's verdict from the pairs' scores: the threshold `6 * min(H, W) / 256` (of the frame
 * before padding), `round(4 * n / 16)` pairs needed above it (n the frames used), dynamic (1) when
 * that many are, else 0.
 *
 * @since 0.3.0
 * @category kernels
 */
export const verdict = (perPair: ReadonlyArray<number>, framesUsed: number, height: number, width: number) => {
  const threshold = 6 * (Math.min(height, width) / 256)
  const countNeeded = roundHalfEven(4 * (framesUsed / 16))
  const countAbove = perPair.filter((s) => s > threshold).length
  return { score: countAbove >= countNeeded ? 1 : 0, threshold, countAbove, countNeeded }
}

/**
 * The frame pairs of one model run: the batch setting, or fewer where RAFT's correlation volume
 * (`N (H/8)^2 (W/8)^2` values, capped at 2^30 as FastVideo does) or the input would be too large.
 *
 * @since 0.3.0
 * @category batches
 */
export const pairsPerRun = (batch: number, pad: Padding): number => {
  const h8 = Math.max(1, Math.floor(pad.height / 8))
  const w8 = Math.max(1, Math.floor(pad.width / 8))
  const corr = Math.floor(2 ** 30 / (h8 * h8 * w8 * w8))
  const input = Math.floor(MAX_RUN_VALUES / (6 * pad.height * pad.width))
  return Math.max(1, Math.min(batch, corr, input))
}

/**
 * The plan of a clip: its stride and the frames used, or why it cannot be scored.
 *
 * @since 0.3.0
 * @category kernels
 */
export const planOf = (video: VideoTensor): { readonly interval: number; readonly indices: ReadonlyArray<number> } | string => {
  const { frames, height, width } = geometry(video)
  if (!(video.fps > 0) || !Number.isFinite(video.fps)) {
    return "the clip's frame rate is unknown, so the stride of its 8 fps optical flow cannot be set"
  }
  const interval = strideOf(video.fps)
  const indices: Array<number> = []
  for (let t = 0; t < frames; t += interval) indices.push(t)
  if (indices.length < 2) {
    return `needs at least 2 frames at the 8 fps stride (every ${interval}th frame of a ${video.fps} fps clip; got ${frames} frames)`
  }
  const pad = paddingOf(height, width)
  if (pad.height < MIN_SIDE || pad.width < MIN_SIDE) {
    return `frames of ${width}x${height} are smaller than the ${MIN_SIDE}x${MIN_SIDE} RAFT takes`
  }
  return { interval, indices }
}

/**
 * The score of each pair of consecutive used frames, in runs of `pairsPerRun` pairs.
 *
 * @since 0.3.0
 * @category features
 */
export const flowScores = async (
  video: VideoTensor,
  indices: ReadonlyArray<number>,
  models: Metric.ModelContext
): Promise<Array<number>> => {
  const { height, width } = geometry(video)
  const pad = paddingOf(height, width)
  const pairs: Array<readonly [number, number]> = []
  for (let i = 0; i + 1 < indices.length; i++) pairs.push([indices[i], indices[i + 1]])
  const per = pairsPerRun(models.batch, pad)
  const out: Array<number> = []
  for (let start = 0; start < pairs.length; start += per) {
    const chunk = pairs.slice(start, start + per)
    const result = await models.run(raftSpec.name, pairBatch(video, chunk, pad), [chunk.length, 2, 3, pad.height, pad.width])
    const size = 2 * pad.height * pad.width
    if (result.data.length < chunk.length * size) {
      throw new Error(`the model gave ${result.data.length} flow values for ${chunk.length} pairs of ${pad.width}x${pad.height}`)
    }
    for (let n = 0; n < chunk.length; n++) out.push(topMagnitude(result.data, n * size, pad.height, pad.width))
  }
  return out
}

/**
 * `vbench.dynamic_degree`: 1 when the clip moves by VBench's rule over RAFT flow at 8 fps, else 0
 * (FastVideo's definition, with the clip's frame rate read from the file).
 *
 * @since 0.3.0
 * @category metrics
 */
export const dynamicDegree: Metric.SampleMetric = Metric.sample({
  name: "vbench.dynamic_degree",
  needs: ["video"],
  description: "VBench dynamic degree: RAFT flow between frames round(fps / 8) apart, the mean of each pair's top 5% " +
    "magnitudes; 1 when round(n / 4) pairs pass 6 * min(H, W) / 256, else 0 (needs the model raft)",
  models: [raftSpec],
  prepare: async (input, models) => {
    const video = input.video
    if (!Metric.isTensor(video)) return input
    const plan = planOf(video)
    if (typeof plan === "string") return input
    return { ...input, [MAGNITUDES]: await flowScores(video, plan.indices, models) }
  },
  compute: (input) => {
    const name = "vbench.dynamic_degree"
    const video = input.video
    if (!Metric.isTensor(video)) return Metric.skipped(name, `field "video" is not a decoded video (${typeof video})`)
    const plan = planOf(video)
    if (typeof plan === "string") return Metric.skipped(name, plan, { fps: video.fps })
    const perPair = input[MAGNITUDES] as ReadonlyArray<number> | undefined
    if (perPair === undefined) return Metric.skipped(name, "no flow was computed")
    const { height, width } = geometry(video)
    const { score, ...rule } = verdict(perPair, plan.indices.length, height, width)
    return Metric.result(name, score, {
      perPair,
      ...rule,
      fps: video.fps,
      interval: plan.interval,
      framesUsed: plan.indices.length,
      model: raftSpec.name
    })
  }
})
