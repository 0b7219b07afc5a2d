import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Video, VideoPool, VideoTensor } from "@vidpool/pool"
import { grayOf } from "../src/FfmpegDecoder.ts"
import { probe } from "../src/Probe.ts"
import { at, decode, fixtures, frameIndexOf, Live, openFileSizesUnder, pixel, withScratchDir } from "./helpers.ts"

const indicesOf = (tensor: VideoTensor) => Array.from({ length: tensor.shape[0] }, (_, t) => frameIndexOf(tensor, t))
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe("FfmpegDecoder", () => {
  layer(Live)((it) => {
    describe("containers and codecs: exact frame counts and sizes", () => {
      for (const [name, frames, fps] of [
        ["h264.mp4", 20, 25],
        ["vp9.webm", 20, 25],
        ["ffv1.mkv", 20, 25],
        ["anim.gif", 12, 10]
      ] as const) {
        it.effect(name, () =>
          Effect.gen(function*() {
            const tensor = yield* decode(Video.file(at(name)))
            assert.deepStrictEqual(tensor.shape, [frames, 48, 64, 3])
            assert.strictEqual(tensor.layout, "THWC")
            assert.strictEqual(tensor.dtype, "uint8")
            assert.instanceOf(tensor.data, Uint8Array)
            assert.strictEqual(tensor.fps, fps)
            assert.strictEqual(tensor.source.frameCount, frames)
            // Real pictures, not a zero-filled buffer: the last frame has many distinct values.
            assert.isAbove(new Set(tensor.data.subarray(-64 * 48 * 3)).size, 8)
          }))
      }
    })

    it.effect("a clip whose audio outlasts its video decodes completely (not mistaken for cut short)", () =>
      Effect.gen(function*() {
        const tensor = yield* decode(Video.file(at("long-audio.mp4")))
        assert.deepStrictEqual(tensor.shape, [25, 96, 128, 3])
        assert.closeTo(tensor.source.duration ?? 0, 2, 0.1)
      }))

    describe("frame selection, checked frame by frame on a clip whose pixels encode their index", () => {
      const clip = (options: Parameters<typeof Video.file>[1]) => decode(Video.file(at("index.mkv"), options))

      it.effect("all frames, in order, exactly", () =>
        Effect.gen(function*() {
          const tensor = yield* clip({})
          assert.deepStrictEqual(tensor.shape, [60, 24, 32, 3])
          assert.deepStrictEqual(indicesOf(tensor), range(0, 60))
        }))

      it.effect("a large output (read in parallel pieces) lands in place, frame by frame", () =>
        Effect.gen(function*() {
          const tensor = yield* decode(Video.file(at("index-large.mkv")))
          assert.deepStrictEqual(tensor.shape, [50, 240, 320, 3])
          assert.deepStrictEqual(indicesOf(tensor), range(0, 50))
        }))

      it.effect("numFrames spreads frames uniformly, ends included", () =>
        Effect.gen(function*() {
          assert.deepStrictEqual(indicesOf(yield* clip({ numFrames: 4 })), [0, 19, 39, 59])
          assert.deepStrictEqual(indicesOf(yield* clip({ numFrames: 1 })), [0])
          // More frames than the clip has: the clip as it is, as FastVideo's extract_frames.
          assert.deepStrictEqual(indicesOf(yield* clip({ numFrames: 90 })), range(0, 60))
          // Asked to repeat: some repeat, none is invented.
          const many = indicesOf(yield* clip({ numFrames: 90, repeatFrames: true }))
          assert.strictEqual(many.length, 90)
          assert.deepStrictEqual([...new Set(many)], range(0, 60))
        }))

      it.effect("fps resamples: each output frame is the source frame on screen at k / fps", () =>
        Effect.gen(function*() {
          const ten = yield* clip({ fps: 10 })
          assert.strictEqual(ten.fps, 10)
          assert.deepStrictEqual(indicesOf(ten), range(0, 24).map((k) => Math.floor(k * 2.5)))
          const fifty = yield* clip({ fps: 50 })
          assert.deepStrictEqual(indicesOf(fifty), range(0, 120).map((k) => Math.floor(k / 2)))
        }))

      it.effect("start/end keep the frames shown in [start, end)", () =>
        Effect.gen(function*() {
          assert.deepStrictEqual(indicesOf(yield* clip({ start: 1, end: 1.4 })), range(25, 35))
          assert.deepStrictEqual(indicesOf(yield* clip({ start: 2 })), range(50, 60))
          assert.deepStrictEqual(indicesOf(yield* clip({ end: 0.2 })), range(0, 5))
        }))

      it.effect("numFrames and fps are picked inside ffmpeg: the scratch output holds only those frames", () =>
        withScratchDir((scratchDir) =>
          Effect.gen(function*() {
            const frameBytes = 320 * 240 * 3
            // 50 frames of 320x240 would be 11.5 MB; 2 frames fit the limit, and only they are written.
            const two = yield* decode(Video.file(at("index-large.mkv"), { numFrames: 2, maxBytes: 2 * frameBytes }))
            assert.deepStrictEqual(indicesOf(two), [0, 49])
            assert.deepStrictEqual(openFileSizesUnder(scratchDir), [2 * frameBytes])
            const five = yield* decode(Video.file(at("index-large.mkv"), { fps: 5 }))
            assert.deepStrictEqual(indicesOf(five), [0, 5, 10, 15, 20, 25, 30, 35, 40, 45])
            assert.deepStrictEqual(openFileSizesUnder(scratchDir), [10 * frameBytes])
            // Upsampling repeats frames when reading: ffmpeg writes each once.
            const up = yield* decode(Video.file(at("index.mkv"), { fps: 50, start: 2 }))
            assert.deepStrictEqual(indicesOf(up), range(0, 20).map((k) => 50 + Math.floor(k / 2)))
          })
        ))

      it.effect("a clip shorter than its container (audio outlasts it) still gets numFrames right", () =>
        Effect.gen(function*() {
          // The header announces 2 s (50 frames); the video has 25: picked again from what it holds.
          const tensor = yield* decode(Video.file(at("long-audio.mp4"), { numFrames: 3 }))
          assert.deepStrictEqual(tensor.shape, [3, 96, 128, 3])
          assert.strictEqual(tensor.source.frameCount, 25)
          assert.closeTo(tensor.fps, 25 * 2 / 24, 1e-9)
        }))

      it.effect("maxFrames applies after the other selections", () =>
        Effect.gen(function*() {
          assert.deepStrictEqual(indicesOf(yield* clip({ maxFrames: 7 })), range(0, 7))
          assert.deepStrictEqual(indicesOf(yield* clip({ start: 1, fps: 5, maxFrames: 3 })), [25, 30, 35])
          assert.deepStrictEqual(indicesOf(yield* clip({ start: 1, end: 2, numFrames: 3 })), [25, 37, 49])
        }))
    })

    describe("output formats equal the transformed rgb24/uint8/THWC output", () => {
      const base = () => decode(Video.file(at("h264.mp4")))

      it.effect("float32 is uint8 / 255", () =>
        Effect.gen(function*() {
          const bytes = yield* base()
          const floats = yield* decode(Video.file(at("h264.mp4"), { dtype: "float32" }))
          assert.instanceOf(floats.data, Float32Array)
          assert.strictEqual(floats.dtype, "float32")
          assert.deepStrictEqual(floats.shape, bytes.shape)
          for (let i = 0; i < bytes.data.length; i++) {
            if (floats.data[i] !== Math.fround(bytes.data[i] / 255)) assert.fail(`element ${i} differs`)
          }
        }))

      it.effect("TCHW is the THWC tensor with channels moved first (uint8 and float32)", () =>
        Effect.gen(function*() {
          const thwc = yield* base()
          for (const dtype of ["uint8", "float32"] as const) {
            const tchw = yield* decode(Video.file(at("h264.mp4"), { layout: "TCHW", dtype }))
            assert.deepStrictEqual(tchw.shape, [20, 3, 48, 64])
            const scale = dtype === "uint8" ? 1 : 255
            for (let t = 0; t < 20; t++) {
              for (let c = 0; c < 3; c++) {
                for (let y = 0; y < 48; y += 5) {
                  for (let x = 0; x < 64; x += 3) {
                    const got = Math.round(tchw.data[((t * 3 + c) * 48 + y) * 64 + x] * scale)
                    if (got !== pixel(thwc, t, y, x, c)) assert.fail(`t=${t} c=${c} y=${y} x=${x} differs`)
                  }
                }
              }
            }
            const dims = VideoTensor.dimensions(tchw)
            assert.deepStrictEqual(dims, { frames: 20, channels: 3, height: 48, width: 64 })
          }
        }))

      it.effect("gray is exactly grayOf (BT.601) of the rgb24 output, resized or not", () =>
        Effect.gen(function*() {
          for (const [name, options] of [["h264.mp4", {}], ["vp9.webm", { width: 40, height: 30 }], ["anim.gif", {}]] as const) {
            const rgb = yield* decode(Video.file(at(name), options))
            const gray = yield* decode(Video.file(at(name), { ...options, pixelFormat: "gray" }))
            assert.deepStrictEqual(gray.shape, [rgb.shape[0], rgb.shape[1], rgb.shape[2], 1])
            for (let p = 0; p < gray.data.length; p++) {
              const expected = grayOf(rgb.data[p * 3], rgb.data[p * 3 + 1], rgb.data[p * 3 + 2])
              if (gray.data[p] !== expected) assert.fail(`${name}: pixel ${p} is ${gray.data[p]}, expected ${expected}`)
            }
            assert.isAbove(new Set(gray.data).size, 8)
          }
        }))
    })

    describe("resize", () => {
      for (const [resize, shape] of [
        ["exact", [20, 32, 32, 3]],
        ["fit", [20, 24, 32, 3]],
        ["crop", [20, 32, 32, 3]]
      ] as const) {
        it.effect(`${resize} to 32x32`, () =>
          Effect.gen(function*() {
            const tensor = yield* decode(Video.file(at("h264.mp4"), { width: 32, height: 32, resize }))
            assert.deepStrictEqual(tensor.shape, shape)
          }))
      }
      it.effect("one side given keeps the aspect ratio", () =>
        Effect.gen(function*() {
          assert.deepStrictEqual((yield* decode(Video.file(at("h264.mp4"), { width: 32 }))).shape, [20, 24, 32, 3])
          assert.deepStrictEqual((yield* decode(Video.file(at("h264.mp4"), { height: 24 }))).shape, [20, 24, 32, 3])
        }))
      it.effect("crop keeps the center: the crop equals the middle of the fit-to-height resize", () =>
        Effect.gen(function*() {
          const cropped = yield* decode(Video.file(at("plain.mov"), { width: 48, height: 48, resize: "crop" }))
          const scaled = yield* decode(Video.file(at("plain.mov"), { width: 64, height: 48 }))
          assert.deepStrictEqual(cropped.shape, [5, 48, 48, 3])
          let same = 0
          for (let y = 0; y < 48; y++) for (let x = 0; x < 48; x++) if (pixel(cropped, 0, y, x, 0) === pixel(scaled, 0, y, x + 8, 0)) same++
          assert.strictEqual(same, 48 * 48)
        }))
    })

    it.effect("a rotated clip decodes upright: 90 degrees clockwise of the stored frames", () =>
      Effect.gen(function*() {
        const plain = yield* decode(Video.file(at("plain.mov")))
        const rotated = yield* decode(Video.file(at("rotated.mov")))
        assert.deepStrictEqual(plain.shape, [5, 48, 64, 3])
        assert.deepStrictEqual(rotated.shape, [5, 64, 48, 3])
        assert.strictEqual(rotated.source.rotation, 90)
        for (let t = 0; t < 5; t++) {
          for (let y = 0; y < 64; y++) {
            for (let x = 0; x < 48; x++) {
              for (let c = 0; c < 3; c++) {
                // Turning clockwise: output row y, column x comes from stored row (H-1-x), column y.
                if (pixel(rotated, t, y, x, c) !== pixel(plain, t, 47 - x, y, c)) assert.fail(`t=${t} y=${y} x=${x}`)
              }
            }
          }
        }
      }))

    it.effect("an image folder decodes as a video, in name order", () =>
      Effect.gen(function*() {
        const tensor = yield* decode(Video.folder(at("images")))
        assert.deepStrictEqual(tensor.shape, [6, 24, 32, 3])
        assert.deepStrictEqual(indicesOf(tensor), range(0, 6))
        assert.deepStrictEqual(indicesOf(yield* decode(Video.folder(at("images"), { numFrames: 3 }))), [0, 2, 5])
        // image k is shown at k / 25 s
        assert.deepStrictEqual(indicesOf(yield* decode(Video.folder(at("images"), { start: 0.1 }))), [3, 4, 5])
        assert.deepStrictEqual(indicesOf(yield* decode(Video.folder(at("images"), { end: 0.1, numFrames: 2 }))), [0, 2])
      }))

    it.effect("a relative path with a colon is a file, not a protocol (decode and probe)", () =>
      Effect.gen(function*() {
        // From the fixtures folder, "clip:1.mp4" is what ffmpeg would read as protocol "clip".
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            const previous = process.cwd()
            process.chdir(fixtures)
            return previous
          }),
          (previous) => Effect.sync(() => process.chdir(previous))
        )
        const tensor = yield* decode(Video.file("clip:1.mp4"))
        assert.deepStrictEqual(tensor.shape, [20, 48, 64, 3])
        assert.strictEqual(tensor.source.path, "clip:1.mp4")
        const info = yield* probe("clip:1.mp4")
        assert.strictEqual(info.frameCount, 20)
      }).pipe(Effect.scoped))

    it.effect("a folder mixing png, bmp and jpg decodes in name order, every image once", () =>
      Effect.gen(function*() {
        const tensor = yield* decode(Video.folder(at("mixed")))
        assert.deepStrictEqual(tensor.shape, [8, 24, 32, 3])
        assert.strictEqual(tensor.fps, 25)
        // png, png, bmp, bmp, png, bmp, png: exact; the last is a lossy jpg copy of frame 6.
        assert.deepStrictEqual(indicesOf(tensor).slice(0, 7), range(0, 7))
        const last = yield* decode(Video.folder(at("mixed"), { start: 0.26 }))
        assert.deepStrictEqual(last.shape, [1, 24, 32, 3])
        assert.closeTo(pixel(last, 0, 10, 10, 0), 6, 3)
        assert.deepStrictEqual(indicesOf(yield* decode(Video.folder(at("mixed"), { numFrames: 3, end: 0.26 }))), [0, 3, 6])
        const info = yield* probe(at("mixed"))
        assert.strictEqual(info.frameCount, 8)
      }))

    describe("probe agrees with the decode", () => {
      for (const name of ["h264.mp4", "vp9.webm", "ffv1.mkv", "anim.gif", "index.mkv", "rotated.mov", "choppy.mp4", "images"]) {
        it.effect(name, () =>
          Effect.gen(function*() {
            const info = yield* probe(at(name))
            const tensor = yield* decode(name === "images" ? Video.folder(at(name)) : Video.file(at(name)))
            const [frames, height, width] = tensor.shape
            assert.deepStrictEqual(
              { width: info.width, height: info.height, frameCount: info.frameCount, fps: info.fps, rotation: info.rotation },
              { width, height, frameCount: frames, fps: tensor.fps, rotation: tensor.source.rotation }
            )
            assert.strictEqual(info.codec, tensor.source.codec)
            assert.isAbove(info.duration, 0)
            assert.isTrue(info.ffmpeg.path.length > 0)
          }))
      }
      it.effect("probe reports codec, pixel format, duration and rotation", () =>
        Effect.gen(function*() {
          const info = yield* probe(at("h264.mp4"))
          assert.strictEqual(info.codec, "h264")
          assert.strictEqual(info.pixelFormat, "yuv420p")
          assert.closeTo(info.duration, 0.8, 0.001)
          assert.strictEqual((yield* probe(at("rotated.mov"))).rotation, 90)
          assert.strictEqual((yield* probe(at("vp9.webm"))).codec, "vp9")
          const missing = yield* Effect.flip(probe(at("nothing.mp4")))
          assert.strictEqual(missing.reason._tag, "NotFound")
          const audio = yield* Effect.flip(probe(at("audio.m4a")))
          assert.strictEqual(audio.reason._tag, "InvalidData")
        }))
    })

    it.effect("through a VideoPool: every sample decoded, other fields untouched", () =>
      Effect.gen(function*() {
        const names = ["h264.mp4", "vp9.webm", "ffv1.mkv", "anim.gif", "h264.mp4", "index.mkv"]
        const samples = names.map((name, i) => ({ video: Video.file(at(name), { width: 32, height: 24 }), id: i }))
        const pool = yield* VideoPool.use((_) => _.open(samples, { loaderThreads: 2, maxSize: 3 }))
        const seen: Array<number> = []
        while (true) {
          const next = yield* pool.take
          if (Option.isNone(next)) break
          const [index, sample] = next.value
          assert.strictEqual(sample.id, index)
          assert.deepStrictEqual(sample.video.shape.slice(1), [24, 32, 3])
          seen.push(index)
        }
        assert.deepStrictEqual(seen.sort((a, b) => a - b), range(0, 6))
      }).pipe(Effect.scoped, Effect.provide(VideoPool.layer.pipe(Layer.provide(Live)))))
  })
})
