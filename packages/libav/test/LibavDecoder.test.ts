import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Pool } from "effect"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
import { type DecodeError, TensorBuffers, Video, VideoDecoder, type VideoTensor } from "@vidpool/pool"
import * as DecodeThreads from "../src/internal/DecodeThreads.ts"
import * as Slab from "../src/internal/Slab.ts"
import { at, decode, decodeFile, failure, ffmpegPath, Live, untilOpen } from "./helpers.ts"

const scratch = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-libav-test-"))
const made = (name: string) => NodePath.join(scratch, name)
const ffmpeg = (args: ReadonlyArray<string>) => execFileSync(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-y", ...args])

// A 60 s clip with a keyframe every 2 s, a lossless RGB clip, and a variable-frame-rate clip:
// 50 frames, the first 25 at 25 fps, the rest 0.1 s apart.
ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x48:r=25", "-frames:v", "1500", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", made("long60.mp4")])
ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=96x64:r=10", "-frames:v", "12", "-c:v", "png", made("rgb.mkv")])
for (const turn of [90, 180, 270]) {
  ffmpeg(["-i", made("rgb.mkv"), "-c", "copy", "-metadata:s:v:0", `rotate=${turn}`, made(`rot${turn}.mov`)])
}
ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x48:r=25", "-frames:v", "50", "-vf", "setpts='if(lt(N,25),N/25,1+(N-25)/10)/TB'",
  "-vsync", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", made("vfr.mp4")])

execFileSync("mkfifo", [made("pipe.mp4")])
// The same 30 frames at 30 fps in containers that announce less: MPEG-TS, and a raw H.264 stream
// (no duration, no index, no seeking).
ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x48:r=30", "-frames:v", "30", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", made("a30.mp4")])
ffmpeg(["-i", made("a30.mp4"), "-c", "copy", made("a30.ts")])
ffmpeg(["-i", made("a30.mp4"), "-c", "copy", "-f", "h264", made("a30.h264")])

const reasonOf = (error: DecodeError) => error.reason._tag

/** The descriptors this process has open. */
const openDescriptors = () => readdirSync("/proc/self/fd").length

const Ffmpeg = FfmpegDecoder.layer

describe("LibavDecoder", () => {
  layer(Live, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    describe("on bad input, the same reasons as the command-line decoder", () => {
      const cases: ReadonlyArray<readonly [string, Video, string, RegExp]> = [
        ["a missing file", Video.file(at("nothing-here.mp4")), "NotFound", /no such file/],
        ["an empty file", Video.file(at("empty.mp4")), "InvalidData", /Invalid data/],
        ["a truncated file (index lost)", Video.file(at("truncated.mp4")), "InvalidData", /Invalid data|moov/],
        ["random bytes", Video.file(at("random.mp4")), "InvalidData", /Invalid data|no video stream|decoded no frame/],
        ["a text file", Video.file(at("text.mp4")), "InvalidData", /Invalid data|no video stream/],
        ["an audio-only file", Video.file(at("audio.m4a")), "InvalidData", /no video stream/],
        ["a file cut short with its index intact", Video.file(at("cut.mp4")), "InvalidData", /decoded \d+ frames but the file announces 50; the file is cut short/],
        ["a file with audio cut short with its index intact", Video.file(at("av-cut.mp4")), "InvalidData", /cut short/],
        ["a folder with no images", Video.folder(at("noimages")), "InvalidData", /no images/],
        ["a folder given as a file", Video.file(at("images")), "NotRegularFile", /is a folder, not a video file .*Video\.folder/],
        ["a named pipe", Video.file(made("pipe.mp4")), "NotRegularFile", /is a FIFO \(named pipe\), not a regular file/],
        ["a tensor over maxBytes", Video.file(at("h264.mp4"), { maxBytes: 100_000 }), "TooLarge", /100000|limit/]
      ]
      for (const [what, video, reason, detail] of cases) {
        it.effect(`${what} is ${reason}, naming the file`, () =>
          Effect.gen(function*() {
            const error = yield* failure(video)
            assert.strictEqual(reasonOf(error), reason, error.message)
            assert.strictEqual(error.path, video.path)
            assert.match(error.message, detail)
          }))
      }

      it.effect("an unreadable file is PermissionDenied", () =>
        Effect.gen(function*() {
          const root = process.getuid?.() === 0
          const error = yield* Effect.acquireUseRelease(
            Effect.sync(() => root && process.seteuid!(65534)),
            () => failure(Video.file(at("unreadable.mp4"))),
            () => Effect.sync(() => root && process.seteuid!(0))
          )
          assert.strictEqual(reasonOf(error), "PermissionDenied")
        }))

      it.effect("after 100 bad decodes in a row, descriptors and memory are flat", () =>
        Effect.gen(function*() {
          const bad = [at("text.mp4"), at("cut.mp4"), at("empty.mp4"), at("nothing-here.mp4")]
          for (let i = 0; i < 8; i++) yield* failure(Video.file(bad[i % bad.length]))
          const fds = openDescriptors()
          const rss = process.memoryUsage().rss
          for (let i = 0; i < 100; i++) yield* failure(Video.file(bad[i % bad.length]))
          assert.isAtMost(openDescriptors(), fds + 2)
          assert.isBelow(process.memoryUsage().rss - rss, 64 * 1024 ** 2)
        }))
    })

    it.effect("start seeks to the keyframe at or before it: start 50, end 51 on a 60 s clip decodes about one GOP plus a second", () =>
      Effect.gen(function*() {
        const t = yield* decodeFile(made("long60.mp4"), { start: 50, end: 51 })
        assert.strictEqual(t.shape[0], 25)
        assert.closeTo(t.timestamps![0], 50, 1e-6)
        assert.closeTo(t.timestamps![24], 50.96, 1e-6)
        // One GOP (50 frames) before the start at most, the 25 frames of the range, and the
        // frames the decoder delivers before it sees that the range ended.
        assert.isAtMost(t.source.decodedFrames!, 50 + 25 + 8)
        const all = yield* decodeFile(made("long60.mp4"), { start: 50, end: 51, maxFrames: 5 })
        assert.strictEqual(all.shape[0], 5)
      }))

    it.effect("a variable-frame-rate clip gives the frames really in the stream, with their timestamps", () =>
      Effect.gen(function*() {
        const t = yield* decodeFile(made("vfr.mp4"))
        // 50 frames: 25 at 25 fps, then 25 at about 10 fps (0.1 s on the source's 1/25 s grid).
        assert.strictEqual(t.shape[0], 50)
        const steps = t.timestamps!.slice(1).map((x, i) => Math.round((x - t.timestamps![i]) * 1000))
        assert.deepStrictEqual(steps.slice(0, 25), Array(25).fill(40))
        assert.isTrue(steps.slice(25).every((step) => step === 80 || step === 120), steps.join(" "))
        assert.closeTo(t.timestamps![49], 3.4, 1e-3)
      }))

    it.effect("decodes a folder of images (png, bmp and jpg mixed) as a clip at 25 fps, in name order", () =>
      Effect.gen(function*() {
        const t = yield* decode(Video.folder(at("mixed")))
        assert.deepStrictEqual(t.shape, [8, 24, 32, 3])
        assert.strictEqual(t.fps, 25)
        assert.closeTo(t.timestamps![7], 7 / 25, 1e-9)
        const last = yield* decode(Video.folder(at("mixed"), { start: 0.26 }))
        assert.deepStrictEqual(last.shape, [1, 24, 32, 3])
      }))

  })

  it.live("an interrupted decode stops at its next frame and its thread decodes the next video", () =>
    Effect.scoped(Effect.gen(function*() {
      // One thread, asked directly: the only one to open the clip (no check of the path before).
      const pool = yield* DecodeThreads.makePool(1, Slab.defaultBytes, yield* TensorBuffers.make())
      const thread = yield* Effect.scoped(Pool.get(pool))
      // The real clock is what is measured here. The whole clip first (1500 frames): what an
      // interruption that did not stop the thread would wait for, at most.
      const begun = performance.now()
      assert.strictEqual((yield* thread.decode(Video.file(made("long60.mp4")), {}, 1)).shape[0], 1500)
      const whole = performance.now() - begun
      const fiber = yield* Effect.forkChild(thread.decode(Video.file(made("long60.mp4")), {}, 1))
      // The thread has the clip open: it is decoding it, and far from done.
      yield* untilOpen(made("long60.mp4"))
      const started = performance.now()
      yield* Fiber.interrupt(fiber)
      const stopped = performance.now() - started
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)), "interrupted before the decode ended")
      // Stopped at a frame, not at the end of the clip. The bound the benchmark measures is 100 ms;
      // a thread that did not stop would be ended after the cancel grace (1 s): 900 ms tells the
      // two apart on a loaded machine.
      assert.isBelow(stopped, whole / 2, `stopped in ${stopped} ms; the whole clip takes ${whole} ms`)
      assert.isBelow(stopped, 900)
      assert.isFalse(thread.dead())
      const next = yield* Effect.scoped(Effect.flatMap(Pool.get(pool), (t) => Effect.as(t.decode(Video.file(at("h264.mp4")), {}, 1), t)))
      assert.strictEqual(next, thread, "the same thread decodes the next video")
    })))

  describe("against the command-line decoder", () => {
    const compare = (a: VideoTensor, b: VideoTensor) => {
      assert.deepStrictEqual(a.shape, b.shape)
      let max = 0
      let sum = 0
      for (let i = 0; i < a.data.length; i++) {
        const d = Math.abs(a.data[i] - b.data[i])
        sum += d
        if (d > max) max = d
      }
      return { max, mean: sum / a.data.length }
    }
    const pair = (video: Video) =>
      Effect.all([
        VideoDecoder.use((d) => d.decode(video)).pipe(Effect.provide(Live)),
        VideoDecoder.use((d) => d.decode(video)).pipe(Effect.provide(Ffmpeg))
      ])

    layer(Layer.empty, { timeout: "120 seconds", excludeTestServices: true })((it) => {
      it.effect("gives identical uint8 rgb24 frames on a lossless RGB clip, also in gray, float32 and TCHW", () =>
        Effect.gen(function*() {
          for (const options of [{}, { pixelFormat: "gray" as const }, { dtype: "float32" as const }, { layout: "TCHW" as const }]) {
            const [libav, cli] = yield* pair(Video.file(made("rgb.mkv"), options))
            assert.deepStrictEqual(compare(libav, cli), { max: 0, mean: 0 }, JSON.stringify(options))
          }
        }))

      it.effect("keeps the same frames for every selection, also where the header announces no count or the file cannot seek", () =>
        Effect.gen(function*() {
          const selections = [{}, { numFrames: 4 }, { fps: 10 }, { maxFrames: 7 }, { start: 0.03, end: 0.07 }, { start: 0.13, end: 0.27 }, { start: 0.5 }, { start: 0.5, end: 0.6, numFrames: 2 }]
          for (const name of ["a30.mp4", "a30.ts", "a30.h264"]) {
            for (const options of selections) {
              // A raw stream's rate is a guess from its header for the command-line decoder (28.75
              // here), so its times differ: see the next test.
              if (name === "a30.h264" && ("fps" in options || "start" in options)) continue
              const [libav, cli] = yield* pair(Video.file(made(name), options))
              assert.deepStrictEqual(libav.shape, cli.shape, `${name} ${JSON.stringify(options)}`)
              assert.isBelow(compare(libav, cli).mean, 3, `${name} ${JSON.stringify(options)}`)
            }
          }
        }))

      it.effect("takes a raw stream's frame rate from its frames' timestamps, and starts it where asked though it cannot seek", () =>
        Effect.gen(function*() {
          const all = yield* VideoDecoder.use((d) => d.decode(Video.file(made("a30.h264")))).pipe(Effect.provide(Live))
          assert.closeTo(all.fps, 30, 1e-6)
          const tenth = yield* VideoDecoder.use((d) => d.decode(Video.file(made("a30.h264"), { fps: 10 }))).pipe(Effect.provide(Live))
          assert.strictEqual(tenth.shape[0], 10)
          const late = yield* VideoDecoder.use((d) => d.decode(Video.file(made("a30.h264"), { start: 0.5 }))).pipe(Effect.provide(Live))
          assert.strictEqual(late.shape[0], 15)
          assert.closeTo(late.timestamps![0], 0.5, 1e-3)
        }))

      it.effect("gives the same frames for a folder of lossless images", () =>
        Effect.gen(function*() {
          const [libav, cli] = yield* pair(Video.folder(at("mixed"), { maxFrames: 7 }))
          assert.deepStrictEqual(compare(libav, cli), { max: 0, mean: 0 })
        }))

      it.effect("agrees within 3 levels on average on lossy H.264 (the YUV to RGB conversion of two FFmpeg versions)", () =>
        Effect.gen(function*() {
          const [libav, cli] = yield* pair(Video.file(at("h264.mp4")))
          const { mean } = compare(libav, cli)
          assert.isBelow(mean, 3)
        }))

      it.effect("rotates as the command-line decoder does: the same frames on a lossless clip", () =>
        Effect.gen(function*() {
          for (const turn of [90, 180, 270]) {
            const [libav, cli] = yield* pair(Video.file(made(`rot${turn}.mov`), { maxFrames: 2 }))
            assert.strictEqual(libav.source.rotation, cli.source.rotation, `rot${turn}`)
            assert.deepStrictEqual(compare(libav, cli), { max: 0, mean: 0 }, `rot${turn}`)
          }
        }))
    })
  })

  describe("decode threads", () => {
    {
      it.live("a thread that dies is a ProcessFailed for its sample, and the pool replaces it", () =>
        Effect.scoped(Effect.gen(function*() {
          const pool = yield* DecodeThreads.makePool(1, Slab.defaultBytes, yield* TensorBuffers.make())
          const thread = yield* Effect.scoped(Pool.get(pool))
          const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
            const t = yield* Effect.orDie(Pool.get(pool))
            return yield* t.decode(Video.file(made("long60.mp4")), {}, 1).pipe(
              Effect.onExit(() => (t.dead() ? Pool.invalidate(pool, t) : Effect.void))
            )
          })))
          // The thread has the clip open: the sample is in flight on it.
          yield* untilOpen(made("long60.mp4"))
          yield* thread.terminate
          const error = yield* Effect.flip(Fiber.join(fiber))
          assert.strictEqual(error.reason._tag, "ProcessFailed")
          const fresh = yield* Effect.scoped(Effect.flatMap(Pool.get(pool), (t) => t.decode(Video.file(at("h264.mp4")), {}, 1)))
          assert.strictEqual(fresh.shape[0], 20)
        })))
    }
  })
})

process.on("exit", () => rmSync(scratch, { recursive: true, force: true }))
