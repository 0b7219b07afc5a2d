// The one ffmpeg runner: how a run ended is data (exit code, signal), interruption leaves no process.
import { open as openFile } from "node:fs/promises"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as FfmpegProcess from "../src/FfmpegProcess.ts"
import { at, descendants, ffmpegPath, makeFifo } from "./helpers.ts"

/** Opens the FIFO for writing; resolves once a reader has opened it. */
const waitForReader = (fifo: string) =>
  Effect.acquireRelease(
    Effect.promise(() => openFile(fifo, "w")),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

const run = (binary: string, args: ReadonlyArray<string>, options?: FfmpegProcess.RunOptions) =>
  FfmpegProcess.run(binary, args, options).pipe(Effect.provide(NodeServices.layer))

describe("FfmpegProcess.run", () => {
  it.effect("an exit is its exit code, with stdout only when asked for", () =>
    Effect.gen(function*() {
      const version = yield* run(ffmpegPath, ["-hide_banner", "-version"], { stdout: true })
      assert.strictEqual(version.exitCode, 0)
      assert.isUndefined(version.signal)
      assert.match(new TextDecoder().decode(version.stdout), /^ffmpeg version \S+/)
      const quiet = yield* run(ffmpegPath, ["-hide_banner", "-version"])
      assert.isUndefined(quiet.stdout)
    }))

  it.effect("a failing ffmpeg is an outcome with its exit code and stderr, not an error", () =>
    Effect.gen(function*() {
      const outcome = yield* run(ffmpegPath, ["-hide_banner", "-nostdin", "-i", at("nothing-here.mp4"), "-f", "null", "-"])
      assert.strictEqual(outcome.exitCode, 1)
      assert.isUndefined(outcome.signal)
      assert.include(outcome.stderr, "No such file or directory")
    }))

  it.effect("a process ended by a signal has the signal as a field and no exit code", () =>
    Effect.gen(function*() {
      const terminated = yield* run("/bin/sh", ["-c", "kill -TERM $$"])
      assert.deepStrictEqual([terminated.exitCode, terminated.signal], [null, "SIGTERM"])
      const fifo = yield* makeFifo
      const before = descendants()
      const fiber = yield* Effect.forkChild(run(ffmpegPath, ["-nostdin", "-i", `file:${fifo}`, "-f", "null", "-"]))
      yield* waitForReader(fifo) // ffmpeg is running and has opened its input
      const spawned = descendants().filter((pid) => !before.includes(pid))
      assert.strictEqual(spawned.length, 1)
      process.kill(spawned[0], "SIGKILL")
      const killed = yield* Fiber.join(fiber)
      assert.deepStrictEqual([killed.exitCode, killed.signal], [null, "SIGKILL"])
    }).pipe(Effect.scoped))

  it.effect("interrupting a run kills its whole process group before the interrupt returns", () =>
    Effect.gen(function*() {
      const fifo = yield* makeFifo
      const before = descendants()
      // The script starts a `sleep` of its own, then blocks opening the FIFO.
      const fiber = yield* Effect.forkChild(run(at("spawns-child.sh"), ["-i", `file:${fifo}`]))
      yield* waitForReader(fifo)
      assert.strictEqual(descendants().filter((pid) => !before.includes(pid)).length, 2)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(descendants(), before, "a child process outlived the interruption")
    }).pipe(Effect.scoped))

  it.effect("a binary that cannot be started is SpawnFailed, keeping the platform's error as data", () =>
    Effect.gen(function*() {
      const before = descendants()
      const error = yield* Effect.flip(run("/nonexistent/ffmpeg", ["-version"]))
      assert.instanceOf(error, FfmpegProcess.SpawnFailed)
      assert.strictEqual(error.binary, "/nonexistent/ffmpeg")
      const cause = error.cause as { readonly _tag?: unknown; readonly reason?: { readonly _tag?: unknown } }
      assert.strictEqual(cause._tag, "PlatformError")
      assert.strictEqual(cause.reason?._tag, "NotFound")
      assert.include(error.message, "cannot run /nonexistent/ffmpeg")
      assert.deepStrictEqual(descendants(), before)
    }))

  it.effect("keeps the head and the tail of a long stderr", () =>
    Effect.gen(function*() {
      const outcome = yield* run("/bin/sh", ["-c", "printf start >&2; head -c 300000 /dev/zero | tr '\\0' x >&2; printf end >&2"])
      assert.strictEqual(outcome.exitCode, 0)
      assert.isTrue(outcome.stderr.startsWith("start"))
      assert.isTrue(outcome.stderr.endsWith("end"))
      assert.include(outcome.stderr, "\n[...]\n")
      // at most the 64 KiB head, the marker and the 16 KiB tail, whatever the size of the pipe's chunks
      assert.isAtMost(outcome.stderr.length, 80 * 1024 + 7)
    }))
})
