// The check every decoder makes of a path before FFmpeg opens it: real files, FIFOs, sockets,
// devices and symbolic link loops on this machine's file system, and a file system that never
// answers (file access given to the check) for the open bound.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { type DecodeError, describeReason, InputCheck, NotRegularFile } from "../src/index.ts"

const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-input-check-"))
const at = (name: string) => NodePath.join(dir, name)
Fs.writeFileSync(at("clip.mp4"), "not really a video, but a regular file\n")
execFileSync("mkfifo", [at("pipe.mp4")])
Fs.symlinkSync("loop.mp4", at("loop.mp4"))
Fs.symlinkSync("nowhere.mp4", at("dangling.mp4"))
Fs.mkdirSync(at("frames"))
for (const name of ["0.png", "1.jpg", "notes.txt"]) Fs.writeFileSync(at(`frames/${name}`), "image bytes")
Fs.mkdirSync(at("noimages"))
Fs.writeFileSync(at("noimages/readme.txt"), "")
// A folder whose second image is a FIFO, and one whose image is a folder named like an image.
Fs.mkdirSync(at("piped"))
Fs.writeFileSync(at("piped/0.png"), "image bytes")
execFileSync("mkfifo", [at("piped/1.png")])
Fs.mkdirSync(at("nested"))
Fs.mkdirSync(at("nested/0.png"))
process.on("exit", () => Fs.rmSync(dir, { recursive: true, force: true }))

const failure = (path: string, expected: InputCheck.Expected) => Effect.flip(InputCheck.check(path, expected))

/** The failure's reason and its whole message, which must be the same from every decoder. */
const assertRefused = (error: DecodeError, path: string, reason: DecodeError["reason"]) => {
  assert.strictEqual(error.path, path)
  assert.deepStrictEqual(error.reason, reason)
  assert.strictEqual(error.message, `Cannot decode ${path}: ${describeReason(reason)}`)
}

describe("InputCheck.check", () => {
  it.effect("a regular file is a file; a folder is its images in name order", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* InputCheck.check(at("clip.mp4"), "file"), { _tag: "File" })
      assert.deepStrictEqual(yield* InputCheck.check(at("frames"), "folder"), { _tag: "Folder", images: [at("frames/0.png"), at("frames/1.jpg")] })
      assert.deepStrictEqual(yield* InputCheck.check(at("frames"), "either"), { _tag: "Folder", images: [at("frames/0.png"), at("frames/1.jpg")] })
      assert.deepStrictEqual(yield* InputCheck.check(at("clip.mp4"), "either"), { _tag: "File" })
    }))

  it.effect("a FIFO is refused at once, even while a writer holds it open (nothing reads it)", () =>
    Effect.gen(function*() {
      // Read and write: opening it so does not wait for a reader, and keeps a writer on it.
      const writer = Fs.openSync(at("pipe.mp4"), "r+")
      try {
        assertRefused(yield* failure(at("pipe.mp4"), "file"), at("pipe.mp4"), new NotRegularFile({ kind: "FIFO" }))
        assertRefused(yield* failure(at("pipe.mp4"), "folder"), at("pipe.mp4"), new NotRegularFile({ kind: "FIFO" }))
        assertRefused(yield* failure(at("pipe.mp4"), "either"), at("pipe.mp4"), new NotRegularFile({ kind: "FIFO" }))
      } finally {
        Fs.closeSync(writer)
      }
    }))

  it.effect("a socket, a device, a symbolic link loop and a folder given as a file are refused, never opened", () =>
    Effect.gen(function*() {
      const server = Net.createServer()
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(at("socket.mp4"), resolve)))
      try {
        assertRefused(yield* failure(at("socket.mp4"), "file"), at("socket.mp4"), new NotRegularFile({ kind: "socket" }))
      } finally {
        server.close()
      }
      assertRefused(yield* failure("/dev/null", "file"), "/dev/null", new NotRegularFile({ kind: "character device" }))
      assertRefused(yield* failure(at("loop.mp4"), "file"), at("loop.mp4"), new NotRegularFile({ kind: "symbolic link loop" }))
      assertRefused(yield* failure(at("loop.mp4"), "either"), at("loop.mp4"), new NotRegularFile({ kind: "symbolic link loop" }))
      assertRefused(yield* failure(at("frames"), "file"), at("frames"), new NotRegularFile({ kind: "folder" }))
      const dangling = yield* failure(at("dangling.mp4"), "file")
      assert.strictEqual(dangling.reason._tag, "NotFound")
    }))

  it.effect("a folder's image that is not a regular file is refused, naming the image", () =>
    Effect.gen(function*() {
      assertRefused(yield* failure(at("piped"), "folder"), at("piped"), new NotRegularFile({ kind: "FIFO", image: "1.png" }))
      assertRefused(yield* failure(at("nested"), "folder"), at("nested"), new NotRegularFile({ kind: "folder", image: "0.png" }))
    }))

  it.effect("a file where a folder of images is expected, and a folder without images, are InvalidData saying so", () =>
    Effect.gen(function*() {
      const file = yield* failure(at("clip.mp4"), "folder")
      assert.strictEqual(file.reason._tag, "InvalidData")
      assert.include(file.message, "not a folder of images but a file (decode a video file with Video.file)")
      const empty = yield* failure(at("noimages"), "folder")
      assert.strictEqual(empty.reason._tag, "InvalidData")
      assert.include(empty.message, "no images")
    }))

  it.effect("leaves no descriptor open, after good paths and bad", () =>
    Effect.gen(function*() {
      // This process's descriptors open on the test's files (other tests of the run open their own).
      const descriptors = () =>
        Fs.readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return Fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
          } catch {
            return false
          }
        }).length
      const before = descriptors()
      assert.strictEqual(before, 0)
      for (let i = 0; i < 50; i++) {
        yield* InputCheck.check(at("clip.mp4"), "file")
        yield* InputCheck.check(at("frames"), "folder")
        yield* failure(at("pipe.mp4"), "file")
        yield* failure(at("piped"), "folder")
        yield* failure(at("loop.mp4"), "file")
      }
      // A call an earlier test abandoned closes its descriptor when it finishes: wait for the count
      // to come back (a leaked descriptor never does), for at most 10 s of real time.
      const deadline = Date.now() + 10_000
      while (descriptors() !== before && Date.now() < deadline) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      }
      assert.strictEqual(descriptors(), before)
    }))

  describe("the open bound", () => {
    const regular = Fs.statSync(at("clip.mp4"))
    const folder = Fs.statSync(at("frames"))
    /** File access whose calls named in `stuck` never answer; `abandoned` counts those given up. */
    const access = (stuck: "stat" | "readStart") => {
      const state = { abandoned: 0 }
      const never = Effect.callback<never>(() =>
        Effect.sync(() => {
          state.abandoned++
        })
      )
      const files: InputCheck.FileAccess = {
        stat: (path) => stuck === "stat" ? never : Effect.succeed(path.endsWith(".png") || path.endsWith(".mp4") ? regular : folder),
        readDirectory: () => Effect.succeed(["0.png", "1.png"]),
        readStart: () => stuck === "readStart" ? never : Effect.succeed(undefined)
      }
      return { state, check: InputCheck.makeCheck(files) }
    }

    it.effect("a file that opens but never gives data is a Timeout during open after openTimeout (30 s by default)", () =>
      Effect.gen(function*() {
        const { check, state } = access("readStart")
        const fiber = yield* Effect.forkChild(Effect.flip(check("/nfs/clip.mp4", "file")))
        yield* TestClock.adjust("29999 millis")
        assert.isUndefined(fiber.pollUnsafe(), "gave up before the bound")
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(InputCheck.defaultOpenTimeout, 30_000)
        assert.deepStrictEqual(error.reason._tag === "Timeout" ? [error.reason.millis, error.reason.during] : error.reason._tag, [30_000, "open"])
        assert.strictEqual(error.path, "/nfs/clip.mp4")
        // The call was given up (it closes what it opened when it answers).
        assert.strictEqual(state.abandoned, 1)
      }))

    it.effect("the bound is the openTimeout given, for a path that never answers and for each image of a folder", () =>
      Effect.gen(function*() {
        const stat = access("stat")
        const statFiber = yield* Effect.forkChild(Effect.flip(stat.check("/nfs/clip.mp4", "file", 500)))
        const read = access("readStart")
        const folderFiber = yield* Effect.forkChild(Effect.flip(read.check("/nfs/frames", "folder", 500)))
        yield* TestClock.adjust("500 millis")
        for (const fiber of [statFiber, folderFiber]) {
          const error = yield* Fiber.join(fiber)
          assert.strictEqual(error.reason._tag, "Timeout")
          assert.include(error.message, "no data within 500 ms of being opened")
        }
        assert.strictEqual(stat.state.abandoned, 1)
        assert.isAtLeast(read.state.abandoned, 1)
      }))
  })
})
