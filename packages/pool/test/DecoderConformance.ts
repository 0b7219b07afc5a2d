// The contract every `VideoDecoder` keeps, as one reusable suite: run against the in-process
// decoder, the command-line decoder and `VideoDecoder.layerTest`, each given a clip it can decode
// (a real file made with ffmpeg, or the fake clip of the test layer) and a path that does not
// exist.
import { assert, layer } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { Effect, type Layer } from "effect"
import { DecodePlan, type DecodeError, type DecodeOptions, Video, VideoDecoder, VideoTensor } from "../src/index.ts"

/** A clip the decoder under test reads: its path and what its header says. */
export interface ConformanceClip {
  readonly path: string
  readonly frames: number
  readonly width: number
  readonly height: number
  readonly fps: number
}

const decode = (path: string, options: DecodeOptions = {}) => VideoDecoder.use((d) => d.decode(Video.file(path, options)))
const failure = (path: string, options: DecodeOptions = {}) => Effect.flip(decode(path, options))

export const decoderConformance = (
  name: string,
  live: Layer.Layer<VideoDecoder, unknown>,
  clip: ConformanceClip,
  missing: string
) =>
  layer(live, { timeout: "60 seconds", excludeTestServices: true })(`${name} keeps the VideoDecoder contract`, (it) => {
    it.effect("decodes every frame as THWC uint8 rgb24 at the header's size and rate, with a timestamp per frame", () =>
      Effect.gen(function*() {
        const t = yield* decode(clip.path)
        assert.deepStrictEqual(t.shape, [clip.frames, clip.height, clip.width, 3])
        assert.strictEqual(t.layout, "THWC")
        assert.strictEqual(t.dtype, "uint8")
        assert.instanceOf(t.data, Uint8Array)
        assert.strictEqual(t.data.length, clip.frames * clip.height * clip.width * 3)
        assert.closeTo(t.fps, clip.fps, 1e-6)
        assert.strictEqual(t.timestamps!.length, clip.frames)
        assert.closeTo(t.timestamps![0], 0, 1e-6)
        for (let i = 1; i < clip.frames; i++) assert.closeTo(t.timestamps![i] - t.timestamps![i - 1], 1 / clip.fps, 2e-3)
        assert.strictEqual(t.source.path, clip.path)
        assert.strictEqual(t.source.width, clip.width)
        assert.strictEqual(t.source.height, clip.height)
      }))

    it.effect("gray is one channel, exactly the BT.601 gray of the rgb24 frames", () =>
      Effect.gen(function*() {
        const rgb = yield* decode(clip.path, { maxFrames: 2 })
        const gray = yield* decode(clip.path, { maxFrames: 2, pixelFormat: "gray" })
        assert.deepStrictEqual(gray.shape, [2, clip.height, clip.width, 1])
        for (let p = 0; p < gray.data.length; p++) {
          const expected = DecodePlan.grayOf(rgb.data[p * 3], rgb.data[p * 3 + 1], rgb.data[p * 3 + 2])
          if (gray.data[p] !== expected) assert.fail(`pixel ${p}: gray ${gray.data[p]}, expected ${expected}`)
        }
      }))

    it.effect("float32 is the uint8 tensor divided by 255; TCHW holds the same pixels planar", () =>
      Effect.gen(function*() {
        const bytes = yield* decode(clip.path, { maxFrames: 2 })
        const float = yield* decode(clip.path, { maxFrames: 2, dtype: "float32" })
        const planar = yield* decode(clip.path, { maxFrames: 2, layout: "TCHW" })
        assert.instanceOf(float.data, Float32Array)
        assert.deepStrictEqual(planar.shape, [2, 3, clip.height, clip.width])
        const { height: H, width: W } = VideoTensor.dimensions(bytes)
        for (let i = 0; i < bytes.data.length; i++) {
          if (Math.abs(float.data[i] - bytes.data[i] / 255) > 1e-7) assert.fail(`float element ${i}`)
        }
        for (let t = 0; t < 2; t++) {
          for (let c = 0; c < 3; c++) {
            for (let p = 0; p < H * W; p++) {
              if (planar.data[((t * 3 + c) * H * W) + p] !== bytes.data[(t * H * W + p) * 3 + c]) assert.fail(`TCHW frame ${t} channel ${c} pixel ${p}`)
            }
          }
        }
      }))

    it.effect("resizes exactly, to fit (keeping the aspect ratio) and to cover then crop", () =>
      Effect.gen(function*() {
        const exact = yield* decode(clip.path, { maxFrames: 1, width: 32, height: 20 })
        assert.deepStrictEqual(exact.shape, [1, 20, 32, 3])
        const fit = yield* decode(clip.path, { maxFrames: 1, width: 40, height: 40, resize: "fit" })
        const fitSize = DecodePlan.outputSize(clip.width, clip.height, { width: 40, height: 40, resize: "fit" })
        assert.deepStrictEqual(fit.shape, [1, fitSize.height, fitSize.width, 3])
        assert.isTrue(fitSize.width === 40 || fitSize.height === 40)
        const crop = yield* decode(clip.path, { maxFrames: 1, width: 30, height: 30, resize: "crop" })
        assert.deepStrictEqual(crop.shape, [1, 30, 30, 3])
        const wide = yield* decode(clip.path, { maxFrames: 1, width: clip.width / 2 })
        assert.deepStrictEqual(wide.shape, [1, clip.height / 2, clip.width / 2, 3])
      }))

    it.effect("selects frames: numFrames spread over the clip, an fps, maxFrames, a start/end range", () =>
      Effect.gen(function*() {
        const four = yield* decode(clip.path, { numFrames: 4 })
        assert.strictEqual(four.shape[0], 4)
        assert.closeTo(four.timestamps![3], (clip.frames - 1) / clip.fps, 2e-3)
        const half = yield* decode(clip.path, { fps: clip.fps / 2 })
        assert.strictEqual(half.shape[0], Math.ceil(clip.frames / 2))
        assert.closeTo(half.fps, clip.fps / 2, 1e-9)
        const three = yield* decode(clip.path, { maxFrames: 3 })
        assert.strictEqual(three.shape[0], 3)
        const start = 4 / clip.fps
        const end = 10 / clip.fps
        const range = yield* decode(clip.path, { start, end })
        assert.strictEqual(range.shape[0], 6)
        assert.closeTo(range.timestamps![0], start, 2e-3)
      }))

    it.effect("refuses a missing file (NotFound), a bad option (InvalidData naming it), a tensor over maxBytes (TooLarge with its size)", () =>
      Effect.gen(function*() {
        const gone: DecodeError = yield* failure(missing)
        assert.strictEqual(gone.reason._tag, "NotFound")
        assert.strictEqual(gone.path, missing)
        const bad = yield* failure(clip.path, { width: -1 })
        assert.strictEqual(bad.reason._tag, "InvalidData")
        assert.include(bad.message, "width")
        const big = yield* failure(clip.path, { maxBytes: 1000 })
        assert.strictEqual(big.reason._tag, "TooLarge")
        if (big.reason._tag === "TooLarge") {
          assert.strictEqual(big.reason.bytes, clip.frames * clip.width * clip.height * 3)
          assert.strictEqual(big.reason.limit, 1000)
        }
      }))

    it.effect("numFrames over the clip's frame count keeps the clip as it is (FastVideo); repeatFrames gives exactly numFrames", () =>
      Effect.gen(function*() {
        const kept = yield* decode(clip.path, { numFrames: clip.frames * 3 })
        assert.strictEqual(kept.shape[0], clip.frames)
        assert.closeTo(kept.fps, clip.fps, 1e-6)
        const huge = yield* decode(clip.path, { numFrames: 99999999999 })
        assert.strictEqual(huge.shape[0], clip.frames)
        const repeated = yield* decode(clip.path, { numFrames: clip.frames * 2, repeatFrames: true })
        assert.strictEqual(repeated.shape[0], clip.frames * 2)
        const frame = clip.height * clip.width * 3
        // Frame 0 is repeated: the first two tensor frames are the same picture.
        assert.deepStrictEqual(repeated.data.subarray(0, frame), repeated.data.subarray(frame, 2 * frame))
      }))

    it.effect("options that multiply the size are refused at once with the tensor's true size, before anything is allocated", () =>
      Effect.gen(function*() {
        const frameBytes = clip.width * clip.height * 3
        const fast = yield* failure(clip.path, { fps: 1e8 })
        assert.strictEqual(fast.reason._tag, "TooLarge")
        if (fast.reason._tag === "TooLarge") {
          assert.strictEqual(fast.reason.bytes, Math.ceil(clip.frames * 1e8 / clip.fps) * frameBytes)
          assert.strictEqual(fast.reason.limit, DecodePlan.defaultMaxBytes)
        }
        const absurd = yield* failure(clip.path, { fps: 1e300 })
        assert.strictEqual(absurd.reason._tag, "TooLarge")
        const wide = yield* failure(clip.path, { width: 10000, height: 10000 })
        assert.strictEqual(wide.reason._tag, "TooLarge")
        if (wide.reason._tag === "TooLarge") assert.strictEqual(wide.reason.bytes, clip.frames * 10000 * 10000 * 3)
        const repeated = yield* failure(clip.path, { numFrames: 99999999999, repeatFrames: true })
        assert.strictEqual(repeated.reason._tag, "TooLarge")
        if (repeated.reason._tag === "TooLarge") assert.strictEqual(repeated.reason.bytes, 99999999999 * frameBytes)
        // Within the budget but more frames than a tensor may list: refused too, naming the count.
        const many = yield* failure(clip.path, { numFrames: 5_000_000, repeatFrames: true, width: 1, height: 1, pixelFormat: "gray" })
        assert.strictEqual(many.reason._tag, "InvalidData")
        assert.include(many.message, "5000000 frames")
        const impossible = yield* failure(clip.path, { width: 100000, height: 100000 })
        assert.strictEqual(impossible.reason._tag, "InvalidData")
        assert.include(impossible.message, "width must be at most")
      }))

    it.effect("fuzz: every numeric option drawn from hostile and ordinary values ends in a tensor or a typed DecodeError", () =>
      Effect.gen(function*() {
        // A fixed seed: the same draws on every run (xorshift32).
        let seed = 0x9e3779b9
        const next = () => {
          seed ^= seed << 13
          seed ^= seed >>> 17
          seed ^= seed << 5
          return (seed >>> 0) / 2 ** 32
        }
        const hostile = [0, -1, -0.5, 0.5, NaN, Infinity, 1e300, 1e8]
        const pick = (ordinary: ReadonlyArray<number>) => {
          const pool = next() < 0.5 ? hostile : ordinary
          return pool[Math.floor(next() * pool.length)]
        }
        const drawn = (p: number, value: () => number) => (next() < p ? value() : undefined)
        const runs = 40
        for (let k = 0; k < runs; k++) {
          const entries = {
            width: drawn(0.4, () => pick([16, 33, 64])),
            height: drawn(0.4, () => pick([12, 48, 50])),
            numFrames: drawn(0.4, () => pick([1, 4, clip.frames + 5])),
            fps: drawn(0.4, () => pick([5, clip.fps, 60])),
            start: drawn(0.3, () => pick([0, 0.1, 0.3])),
            end: drawn(0.3, () => pick([0.2, 0.5, 100])),
            maxFrames: drawn(0.3, () => pick([1, 3, 1000])),
            maxBytes: drawn(0.3, () => pick([1000, 1e6, 1e9])),
            timeout: drawn(0.2, () => pick([10_000, 30_000]))
          }
          const options: DecodeOptions = Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined))
          const exit = yield* Effect.exit(decode(clip.path, options))
          const label = JSON.stringify(options, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))
          if (exit._tag === "Failure") {
            // Never a defect or an interruption: a DecodeError with a reason a caller can read.
            const error = exit.cause.reasons.find((r) => r._tag === "Fail")
            assert.isDefined(error, `${label}: ${String(exit.cause)}`)
            const reason = (error as { readonly error: DecodeError }).error.reason._tag
            assert.include(["InvalidData", "TooLarge"], reason, label)
          } else {
            const t = exit.value
            assert.strictEqual(t.data.length, t.shape.reduce((a, b) => a * b, 1), label)
            assert.isAtMost(t.data.byteLength, options.maxBytes ?? DecodePlan.defaultMaxBytes, label)
            assert.isAbove(t.shape[0], 0, label)
          }
        }
        // The stated memory bound: the whole test process peaked under 1 GiB (no option sized
        // memory before it was checked).
        const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))
        if (peak !== null) assert.isBelow(Number(peak[1]) * 1024, 1024 ** 3)
      }), 120_000)
  })
