import { execFileSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs"
import { open as openFile } from "node:fs/promises"
import * as Os from "node:os"
import { availableParallelism } from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { TestClock } from "effect/testing"
import { type DecodeError, describeReason, NotRegularFile, Video, VideoDecoder } from "@vidpool/pool"
import { Ffmpeg } from "../src/Ffmpeg.ts"
import { FfmpegDecoder } from "../src/FfmpegDecoder.ts"
import * as FfmpegProcess from "../src/FfmpegProcess.ts"
import { probe } from "../src/Probe.ts"
import { NodeServices } from "@effect/platform-node"
import * as DecodeCommand from "../src/internal/DecodeCommand.ts"
import {
  at,
  decode,
  descendants,
  failure,
  ffmpegPath,
  frameIndexOf,
  Live,
  makeFifo,
  makeStandIn,
  openDescriptors,
  openFileSizesUnder,
  openFilesUnder,
  pollUntil,
  withBinary,
  withScratchDir
} from "./helpers.ts"

/** Runs `body`, then checks this process has exactly the children it had before. */
const noStrayChildren = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = descendants()
    const result = yield* body
    assert.deepStrictEqual(descendants(), before, "a child process was left behind")
    return result
  })

const reasonOf = (error: DecodeError) => error.reason._tag

/** Opens the FIFO for writing; resolves once a reader (ffmpeg, or its stand-in) has opened it. */
const waitForReader = (fifo: string) =>
  Effect.acquireRelease(
    Effect.promise(() => openFile(fifo, "w")),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

describe("FfmpegDecoder on bad input", () => {
  it.effect("a missing file is NotFound, decided before spawning anything", () =>
    noStrayChildren(Effect.gen(function*() {
      // The binary does not exist: had the decoder spawned it, the reason would be ProcessFailed.
      const error = yield* failure(Video.file(at("nothing-here.mp4"))).pipe(
        Effect.provide(withBinary("/nonexistent/ffmpeg"))
      )
      assert.strictEqual(reasonOf(error), "NotFound")
      assert.strictEqual(error.path, at("nothing-here.mp4"))
      assert.include(error.message, "no such file")
    })))

  it.effect("a FIFO (a writer holding it open), a device or a symbolic link loop is refused by the decoder and by probe before anything is spawned", () =>
    noStrayChildren(Effect.gen(function*() {
      const fifo = yield* makeFifo
      // Read and write: a writer on the FIFO that never writes, opened without waiting for a reader.
      const writer = openSync(fifo, "r+")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(writer)))
      const loop = NodePath.join(NodePath.dirname(fifo), "loop.mp4")
      symlinkSync("loop.mp4", loop)
      // The binary does not exist: had anything been spawned, the reason would be ProcessFailed.
      const missingBinary = Layer.succeed(Ffmpeg, Ffmpeg.of({ path: "/nonexistent/ffmpeg", version: "test", source: "FFMPEG_PATH" }))
      for (const [path, kind] of [[fifo, "FIFO"], ["/dev/null", "character device"], [loop, "symbolic link loop"]] as const) {
        const decoded = yield* failure(Video.file(path)).pipe(Effect.provide(withBinary("/nonexistent/ffmpeg")))
        const probed = yield* Effect.flip(probe(path)).pipe(Effect.provide(missingBinary), Effect.provide(NodeServices.layer))
        for (const error of [decoded, probed]) {
          assert.deepStrictEqual(error.reason, new NotRegularFile({ kind }))
          assert.strictEqual(error.message, `Cannot decode ${path}: ${describeReason(new NotRegularFile({ kind }))}`)
        }
      }
    }).pipe(Effect.scoped)))

  it.effect("an unreadable file is PermissionDenied, decided before spawning anything", () =>
    noStrayChildren(Effect.gen(function*() {
      // Root reads everything; drop the effective uid for the duration of the check.
      const root = process.getuid?.() === 0
      const error = yield* Effect.acquireUseRelease(
        Effect.sync(() => root && process.seteuid!(65534)),
        () => failure(Video.file(at("unreadable.mp4"))).pipe(Effect.provide(withBinary("/nonexistent/ffmpeg"))),
        () => Effect.sync(() => root && process.seteuid!(0))
      )
      assert.strictEqual(reasonOf(error), "PermissionDenied")
      assert.strictEqual(error.path, at("unreadable.mp4"))
    })))

  layer(Live)((it) => {
    const invalidData = (name: string, detail: RegExp) =>
      noStrayChildren(Effect.gen(function*() {
        const error = yield* failure(Video.file(at(name)))
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.strictEqual(error.path, at(name))
        if (error.reason._tag === "InvalidData") assert.match(error.reason.detail, detail)
        return error
      }))

    it.effect("an empty file is InvalidData with ffmpeg's words", () =>
      invalidData("empty.mp4", /Invalid data found when processing input/))

    it.effect("a truncated file (index lost) is InvalidData", () => invalidData("truncated.mp4", /moov atom not found/))

    it.effect("random bytes are InvalidData", () => invalidData("random.mp4", /Invalid data|could not find codec|no video stream|matches no streams/i))

    it.effect("a text file is InvalidData", () => invalidData("text.mp4", /Invalid data|no video stream|matches no streams/i))

    it.effect("an audio-only file is InvalidData: no video stream", () => invalidData("audio.m4a", /matches no streams/))

    it.effect("a file cut short with its index intact is InvalidData, never a padded tensor", () =>
      Effect.gen(function*() {
        // ffmpeg exits 0 here after fewer frames than the header announces.
        const error = yield* invalidData("cut.mp4", /decoded \d+ frames but the file announces 50/)
        assert.include(error.message, "cut short")
      }))

    it.effect("a file with audio, cut short with its index intact, is InvalidData too", () =>
      invalidData("av-cut.mp4", /decoded \d+ frames but the file announces \d+; .*partial file/))

    it.effect("a folder with no images is InvalidData", () =>
      noStrayChildren(Effect.gen(function*() {
        const error = yield* failure(Video.folder(at("noimages")))
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.include(error.message, "no images")
      })))

    it.effect("a folder given as a file is NotRegularFile saying so", () =>
      Effect.gen(function*() {
        const error = yield* failure(Video.file(at("images")))
        assert.strictEqual(error.reason._tag, "NotRegularFile")
        assert.include(error.message, "Video.folder")
      }))

    it.effect("a tensor over maxBytes is TooLarge, with its size and the limit", () =>
      noStrayChildren(Effect.gen(function*() {
        const error = yield* failure(Video.file(at("h264.mp4"), { maxBytes: 100_000 }))
        assert.strictEqual(error.reason._tag, "TooLarge")
        if (error.reason._tag === "TooLarge") {
          assert.strictEqual(error.reason.limit, 100_000)
          assert.isAbove(error.reason.bytes, 100_000)
        }
        // The same clip with selected frames that fit is fine: 4 frames of 64x48x3.
        const tensor = yield* decode(Video.file(at("h264.mp4"), { maxBytes: 4 * 64 * 48 * 3, numFrames: 4 }))
        assert.deepStrictEqual(tensor.shape, [4, 48, 64, 3])
        const big = yield* failure(Video.file(at("h264.mp4"), { maxBytes: 4 * 64 * 48 * 3, numFrames: 5 }))
        assert.strictEqual(big.reason._tag, "TooLarge")
      })))

    it.effect("a given maxBytes is checked against the header: TooLarge before any frame is written", () =>
      noStrayChildren(withScratchDir((scratchDir) =>
        Effect.gen(function*() {
          const error = yield* failure(Video.file(at("index-large.mkv"), { maxBytes: 1_000_000 }))
          assert.strictEqual(error.reason._tag, "TooLarge")
          if (error.reason._tag === "TooLarge") assert.strictEqual(error.reason.bytes, 50 * 320 * 240 * 3)
          // No scratch file was even created: ffmpeg never started writing frames.
          assert.deepStrictEqual(openFileSizesUnder(scratchDir), [])
          const picked = yield* failure(Video.file(at("index-large.mkv"), { numFrames: 20, maxBytes: 1_000_000 }))
          assert.strictEqual(picked.reason._tag, "TooLarge")
          if (picked.reason._tag === "TooLarge") assert.strictEqual(picked.reason.bytes, 20 * 320 * 240 * 3)
          assert.deepStrictEqual(openFileSizesUnder(scratchDir), [])
        })
      )))

    it.effect("a cut-short file is InvalidData with numFrames too", () =>
      noStrayChildren(Effect.gen(function*() {
        const error = yield* failure(Video.file(at("cut.mp4"), { numFrames: 4 }))
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.include(error.message, "cut short")
      })))

    it.effect("invalid options are InvalidData naming the option", () =>
      Effect.gen(function*() {
        const error = yield* failure(Video.file(at("h264.mp4"), { numFrames: 0 }))
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.include(error.message, "numFrames")
      }))

    it.effect("ffmpeg killed by a signal mid-decode is ProcessFailed with the signal", () =>
      noStrayChildren(Effect.gen(function*() {
        const standIn = yield* makeStandIn()
        const before = descendants()
        const fiber = yield* Effect.forkChild(failure(Video.file(at("h264.mp4"))).pipe(Effect.provide(withBinary(standIn.binary))))
        yield* waitForReader(standIn.latch) // the decoder's process is running, held at the latch
        const spawned = descendants().filter((pid) => !before.includes(pid))
        assert.strictEqual(spawned.length, 1)
        process.kill(spawned[0], "SIGKILL")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error.reason._tag, "ProcessFailed")
        if (error.reason._tag === "ProcessFailed") assert.strictEqual(error.reason.signal, "SIGKILL")
        assert.include(error.message, "killed by SIGKILL")
      }).pipe(Effect.scoped)))

    it.effect("a decode over its timeout is Timeout, and its ffmpeg is gone", () =>
      noStrayChildren(Effect.gen(function*() {
        const standIn = yield* makeStandIn()
        const fiber = yield* Effect.forkChild(
          failure(Video.file(at("h264.mp4"), { timeout: 5_000 })).pipe(Effect.provide(withBinary(standIn.binary)))
        )
        yield* waitForReader(standIn.latch) // the decoder's process now waits as long as the latch is held
        yield* TestClock.adjust("5 seconds")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error.reason._tag, "Timeout")
        if (error.reason._tag === "Timeout") assert.strictEqual(error.reason.millis, 5_000)
        assert.include(error.message, "5000 ms")
      }).pipe(Effect.scoped)))

    it.effect("interrupting a decode kills its ffmpeg: gone once the interrupt returns", () =>
      noStrayChildren(Effect.gen(function*() {
        const standIn = yield* makeStandIn()
        const before = descendants()
        const fiber = yield* Effect.forkChild(decode(Video.file(at("h264.mp4"))).pipe(Effect.provide(withBinary(standIn.binary))))
        yield* waitForReader(standIn.latch)
        assert.strictEqual(descendants().length, before.length + 1)
        yield* Fiber.interrupt(fiber)
        // The interrupt waits for the process group to be killed and reaped: nothing is left now,
        // while the latch is still held (the process would otherwise wait on it forever).
        assert.deepStrictEqual(descendants(), before, "ffmpeg outlived the interrupt")
      }).pipe(Effect.scoped)))

    it.effect("a lone decode lets ffmpeg choose its threads; concurrent ones share the cores", () =>
      noStrayChildren(Effect.gen(function*() {
        const argsOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
        const standIn = yield* makeStandIn()
        const before = descendants()
        // One decoder for both decodes: it counts the decodes it runs.
        yield* Effect.gen(function*() {
          const a = yield* Effect.forkChild(decode(Video.file(at("h264.mp4"))))
          yield* waitForReader(standIn.latch)
          const [pidA] = descendants().filter((pid) => !before.includes(pid))
          const b = yield* Effect.forkChild(decode(Video.file(at("h264.mp4"))))
          // The latch is already open: the second process announces nothing, so look for it.
          const pidB = yield* pollUntil(() => descendants().find((pid) => !before.includes(pid) && pid !== pidA))
          assert.notInclude(argsOf(pidA), "-threads")
          const argsB = yield* pollUntil(() => {
            const args = argsOf(pidB)
            return args.includes("-i") ? args : undefined
          })
          assert.strictEqual(argsB[argsB.indexOf("-threads") + 1], String(Math.max(1, Math.floor(availableParallelism() / 2))))
          yield* Fiber.interrupt(a)
          yield* Fiber.interrupt(b)
        }).pipe(Effect.provide(withBinary(standIn.binary)))
      }).pipe(Effect.scoped)))

    it.effect("after 100 bad decodes in a row there is no extra child and no leaked handle", () =>
      noStrayChildren(Effect.gen(function*() {
        // Every descriptor this process holds (raw fds from fs.open included), with what it points
        // at, and the libuv handles (child processes, pipes).
        const census = () => ({
          fds: openDescriptors(),
          processes: process.getActiveResourcesInfo().filter((kind) => /Process|Pipe|FileHandle/.test(kind)).length
        })
        const bad = ["empty.mp4", "random.mp4", "text.mp4", "audio.m4a", "cut.mp4"]
        // One first, so the decoder's reusable scratch file (held open on purpose) already exists.
        yield* failure(Video.file(at(bad[0])))
        const before = census()
        for (let i = 0; i < 100; i++) {
          const error = yield* failure(Video.file(at(bad[i % bad.length])))
          assert.strictEqual(error.reason._tag, "InvalidData")
        }
        const after = census()
        assert.strictEqual(after.processes, before.processes)
        assert.deepStrictEqual(after.fds, before.fds, "a file descriptor was leaked")
      })))
  })

  it.live("a range ends ffmpeg's input soon after end: the decode's command over an input that never ends stops by itself", () =>
    noStrayChildren(Effect.gen(function*() {
      // The whole clip (60 frames, 2.4 s) goes into a FIFO whose write end stays open: ffmpeg sees
      // no end of input, so the run ends only if the filters the decoder builds for `end` stop it.
      // (The decoder itself refuses a FIFO; its command line is run here as it builds it.)
      const fifo = yield* makeFifo
      const scratchDir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-range-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(scratchDir, { recursive: true, force: true })))
      const args = [
        "-i",
        `file:${fifo}`,
        ...DecodeCommand.rawOutputArgs({
          chain: DecodeCommand.filters({ end: 1 }),
          inputs: 1,
          frameLimit: undefined,
          fileLimit: 1e9,
          pixelFormat: "rgb24",
          outPath: NodePath.join(scratchDir, "out.raw")
        })
      ]
      const ffmpeg = Ffmpeg.of({ path: ffmpegPath, version: "test", source: "FFMPEG_PATH" })
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const fiber = yield* Effect.forkChild(DecodeCommand.run(ffmpeg, spawner, fifo, args))
      const writer = yield* waitForReader(fifo)
      yield* Effect.promise(() => writer.write(readFileSync(at("index.mkv"))))
      const outcome = yield* Fiber.join(fiber).pipe(
        Effect.timeoutOrElse({
          duration: "30 seconds", // a guard against a hang, never reached when the filters work
          orElse: () => Effect.die(new Error("the run did not stop after end: ffmpeg waited for more input"))
        })
      )
      assert.strictEqual(outcome.exitCode, 0, outcome.stderr)
      // 25 frames of 32x24 rgb24: the first second.
      assert.strictEqual(statSync(NodePath.join(scratchDir, "out.raw")).size, 25 * 32 * 24 * 3)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))))

  it.effect("interrupting kills everything the decoder process started", () =>
    noStrayChildren(Effect.gen(function*() {
      const standIn = yield* makeStandIn({ child: true })
      const before = descendants()
      const fiber = yield* Effect.forkChild(
        decode(Video.file(at("h264.mp4"))).pipe(Effect.provide(withBinary(standIn.binary)))
      )
      yield* waitForReader(standIn.latch) // the stand-in has started its `sleep` grandchild by now
      assert.strictEqual(descendants().length, before.length + 2)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(descendants(), before, "ffmpeg or its child outlived the interrupt")
    }).pipe(Effect.scoped)))

  it.effect("leaves no scratch file behind, not even while decoding, and closes them all with the layer", () =>
    Effect.gen(function*() {
      const scratchDir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-scratch-"))
      // The stand-in waits at its latch, then runs ffmpeg: the first decodes run through at once.
      const standIn = yield* makeStandIn()
      const decoder = FfmpegDecoder.layerWith({}, { scratchDir }).pipe(
        Layer.provide(Layer.mergeAll(
          Layer.succeed(Ffmpeg, Ffmpeg.of({ path: standIn.binary, version: "test", source: "FFMPEG_PATH" })),
          NodeServices.layer
        ))
      )
      yield* Effect.gen(function*() {
        // Without its latch the stand-in runs ffmpeg at once.
        rmSync(standIn.latch)
        yield* decode(Video.file(at("h264.mp4")))
        yield* decode(Video.folder(at("images")))
        yield* failure(Video.file(at("cut.mp4")))
        yield* failure(Video.file(at("random.mp4")))
        execFileSync("mkfifo", [standIn.latch])
        const fiber = yield* Effect.forkChild(decode(Video.file(at("h264.mp4"))))
        yield* Effect.scoped(waitForReader(standIn.latch))
        // The decode's process is running, its output file ready: no name in the folder, even now.
        assert.deepStrictEqual(readdirSync(scratchDir), [])
        assert.isAtLeast(openFilesUnder(scratchDir).length, 1)
        yield* Fiber.interrupt(fiber)
        // one file is kept open for reuse while the decoder lives
        assert.deepStrictEqual(openFilesUnder(scratchDir).map((file) => file.endsWith(".raw (deleted)")), [true])
      }).pipe(Effect.scoped, Effect.provide(decoder))
      assert.deepStrictEqual(readdirSync(scratchDir), [])
      assert.deepStrictEqual(openFilesUnder(scratchDir), [])
      rmSync(scratchDir, { recursive: true })
    }).pipe(Effect.scoped))

  it.effect("an image folder's file list has no name while ffmpeg runs (decode and probe)", () =>
    Effect.gen(function*() {
      const scratchDir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-scratch-list-"))
      const config = ConfigProvider.layer(ConfigProvider.fromEnvRecord({ VIDPOOL_SCRATCH_DIR: scratchDir }))
      // The stand-in holds the run at its latch, the list written and open meanwhile.
      const standIn = yield* makeStandIn()
      const services = Layer.mergeAll(
        Layer.succeed(Ffmpeg, Ffmpeg.of({ path: standIn.binary, version: "test", source: "FFMPEG_PATH" })),
        NodeServices.layer
      )
      const folder = at("images")
      const check = <A, E>(run: Effect.Effect<A, E>) =>
        Effect.gen(function*() {
          const before = descendants()
          const fiber = yield* Effect.forkChild(run)
          yield* Effect.scoped(waitForReader(standIn.latch))
          // The process is running, given the list: the list is open but nameless.
          assert.deepStrictEqual(readdirSync(scratchDir), [])
          assert.isTrue(openFilesUnder(scratchDir).some((file) => /\.txt \(deleted\)$/.test(file)))
          yield* Fiber.interrupt(fiber)
          assert.deepStrictEqual(descendants(), before)
        })
      yield* check(decode(Video.folder(folder)).pipe(
        Effect.provide(FfmpegDecoder.layerWith().pipe(Layer.provide(services), Layer.provide(config)))
      ))
      // probe takes its scratch folder from the same config
      yield* check(probe(folder).pipe(Effect.provide(services), Effect.provide(config)))
      assert.deepStrictEqual(openFilesUnder(scratchDir), [])
      rmSync(scratchDir, { recursive: true })
    }).pipe(Effect.scoped))

  it.effect("the scratch folder can come from the VIDPOOL_SCRATCH_DIR config", () =>
    Effect.gen(function*() {
      const scratchDir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-scratch-config-"))
      const decoder = FfmpegDecoder.layerWith().pipe(
        Layer.provide(Layer.mergeAll(Ffmpeg.layerPath(ffmpegPath), NodeServices.layer)),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ VIDPOOL_SCRATCH_DIR: scratchDir })))
      )
      yield* Effect.gen(function*() {
        yield* decode(Video.file(at("h264.mp4")))
        assert.strictEqual(openFilesUnder(scratchDir).length, 1) // kept for the next decode
      }).pipe(Effect.provide(decoder))
      assert.deepStrictEqual(openFilesUnder(scratchDir), [])
      assert.deepStrictEqual(readdirSync(scratchDir), [])
      rmSync(scratchDir, { recursive: true })
    }))

  it.effect("a missing ffmpeg is the layer's FfmpegNotFound when the layer is built", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Ffmpeg.layerPath("/nonexistent/ffmpeg")).pipe(Effect.scoped, Effect.flip)
      assert.strictEqual(error._tag, "FfmpegNotFound")
      assert.deepStrictEqual(error.searched, ["the given path (/nonexistent/ffmpeg)"])
      assert.include(error.message, "FFMPEG_PATH")
      const decoder = FfmpegDecoder.layerWith().pipe(
        Layer.provide(Layer.mergeAll(Ffmpeg.layerPath("/nonexistent/ffmpeg"), NodeServices.layer))
      )
      const viaDecoder = yield* Effect.flip(Effect.scoped(Layer.build(decoder)))
      assert.strictEqual(viaDecoder._tag, "FfmpegNotFound")
      assert.isTrue(VideoDecoder.key.length > 0)
    }))

  it.effect("a binary gone after the layer was built is ProcessFailed keeping the spawn error as its cause", () =>
    noStrayChildren(Effect.gen(function*() {
      const error = yield* failure(Video.file(at("h264.mp4"))).pipe(Effect.provide(withBinary("/nonexistent/ffmpeg")))
      assert.strictEqual(error.reason._tag, "ProcessFailed")
      if (error.reason._tag !== "ProcessFailed") return
      assert.isNull(error.reason.exitCode)
      assert.isUndefined(error.reason.signal)
      assert.instanceOf(error.reason.cause, FfmpegProcess.SpawnFailed)
      if (error.reason.cause instanceof FfmpegProcess.SpawnFailed) {
        assert.strictEqual(error.reason.cause.binary, "/nonexistent/ffmpeg")
      }
      assert.include(error.message, "the decoder process failed: cannot run /nonexistent/ffmpeg")
    })))
})
