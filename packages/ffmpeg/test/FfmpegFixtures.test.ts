// The pure argument builders, run through the one runner (FfmpegFixtures.run over FfmpegProcess).
import { mkdtempSync, rmSync } from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Video } from "@vidpool/pool"
import { clipArgs, degradeArgs, FixtureFailed, rotateArgs, run as runFixture, runFfmpeg } from "../src/FfmpegFixtures.ts"
import { probe } from "../src/Probe.ts"
import { at, decode, ffmpegPath, Live } from "./helpers.ts"

/** Runs ffmpeg with `commonArgs` and `args`; fails unless it exits 0. */
const run = (args: ReadonlyArray<string>) => runFixture(ffmpegPath, args)

/** A fresh folder, removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-fixtures-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("FfmpegFixtures runs", () => {
  it.effect("a failed run is FixtureFailed with the exit code as a field and ffmpeg's words", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(runFixture(ffmpegPath, ["-i", at("nothing-here.mp4"), "-f", "null", "-"])).pipe(
        Effect.provide(Live)
      )
      assert.instanceOf(error, FixtureFailed)
      assert.strictEqual(error.exitCode, 1)
      assert.isUndefined(error.signal)
      assert.include(error.stderr, "No such file or directory")
      assert.include(error.message, "nothing-here.mp4")
    }))

  it("runFfmpeg, the Promise form, rejects with the same error", async () => {
    const error = await runFfmpeg(ffmpegPath, ["-i", at("nothing-here.mp4"), "-f", "null", "-"]).then(
      () => undefined,
      (error: unknown) => error
    )
    assert.instanceOf(error, FixtureFailed)
    if (error instanceof FixtureFailed) assert.strictEqual(error.exitCode, 1)
  })

  it("runFfmpeg on a binary that cannot start keeps the spawn error as the cause", async () => {
    const error = await runFfmpeg("/nonexistent/ffmpeg", ["-version"]).then(() => undefined, (error: unknown) => error)
    assert.instanceOf(error, FixtureFailed)
    if (error instanceof FixtureFailed) {
      assert.isNull(error.exitCode)
      assert.strictEqual((error.cause as { readonly _tag?: unknown })._tag, "SpawnFailed")
    }
  })
})

describe("FfmpegFixtures argument builders", () => {
  layer(Live)((it) => {
    it.effect("clipArgs makes the clip its options describe", () =>
      Effect.gen(function*() {
        const out = NodePath.join(yield* tempDir, "clip.mp4")
        yield* run(clipArgs(out, { source: "mandelbrot", width: 48, height: 32, fps: 10, frames: 7, crf: 30 }))
        const info = yield* probe(out)
        assert.deepStrictEqual(
          { width: info.width, height: info.height, fps: info.fps, frameCount: info.frameCount, codec: info.codec },
          { width: 48, height: 32, fps: 10, frameCount: 7, codec: "h264" }
        )
      }))

    it.effect("rotateArgs tags a copy to be shown turned, without re-encoding it", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const stored = NodePath.join(dir, "stored.mov")
        const turned = NodePath.join(dir, "turned.mov")
        yield* run(clipArgs(stored, { width: 48, height: 32, frames: 3, codec: "png" }))
        yield* run(rotateArgs(stored, turned, 270))
        const info = yield* probe(turned)
        assert.deepStrictEqual(
          { width: info.width, height: info.height, rotation: info.rotation, codec: info.codec, frameCount: info.frameCount },
          { width: 32, height: 48, rotation: 270, codec: "png", frameCount: 3 }
        )
      }))

    it.effect("degradeArgs drops every n-th frame and damages the rest as asked", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const clean = NodePath.join(dir, "clean.mkv")
        const choppy = NodePath.join(dir, "choppy.mp4")
        const blurred = NodePath.join(dir, "blurred.mp4")
        yield* run(clipArgs(clean, { codec: "ffv1", width: 32, height: 24, frames: 9 }))
        yield* run(degradeArgs(clean, choppy, { dropEvery: 3, crf: 18 }))
        yield* run(degradeArgs(clean, blurred, { blur: 3, downscale: 4, noise: 20 }))
        const choppyInfo = yield* probe(choppy)
        assert.deepStrictEqual(
          { width: choppyInfo.width, height: choppyInfo.height, frameCount: choppyInfo.frameCount, codec: choppyInfo.codec },
          { width: 32, height: 24, frameCount: 6, codec: "h264" }
        )
        // Blur, down-and-up scaling and noise keep the size and the frames but change the pixels.
        const source = yield* decode(Video.file(clean))
        const damaged = yield* decode(Video.file(blurred))
        assert.deepStrictEqual(damaged.shape, source.shape)
        let differing = 0
        for (let i = 0; i < source.data.length; i++) if (Math.abs(source.data[i] - damaged.data[i]) > 8) differing++
        assert.isAbove(differing, source.data.length / 10)
      }))
  })
})
