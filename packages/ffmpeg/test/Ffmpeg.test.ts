import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { candidates, Ffmpeg, FfmpegNotFound, onPath, onPathUnsafe } from "../src/Ffmpeg.ts"
import * as FfmpegProcess from "../src/FfmpegProcess.ts"
import { at, ffmpegPath } from "./helpers.ts"

const resolve = (env: Record<string, string>) =>
  Effect.gen(function*() {
    return yield* Ffmpeg
  }).pipe(Effect.provide(Ffmpeg.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))))

describe("Ffmpeg", () => {
  it("tries FFMPEG_PATH alone when set, else ffmpeg-static, @ffmpeg-installer, then PATH", () => {
    assert.deepStrictEqual(
      candidates({ configured: "/opt/ff", ffmpegStatic: "/s", installer: "/i", onPath: "/usr/bin/ffmpeg" }),
      [["FFMPEG_PATH", "/opt/ff"]]
    )
    assert.deepStrictEqual(
      candidates({ configured: " ", ffmpegStatic: "/s", installer: "/i", onPath: "/usr/bin/ffmpeg" }),
      [["ffmpeg-static", "/s"], ["@ffmpeg-installer", "/i"], ["PATH", "/usr/bin/ffmpeg"]]
    )
    assert.deepStrictEqual(
      candidates({ configured: undefined, ffmpegStatic: undefined, installer: "/i", onPath: undefined }),
      [["@ffmpeg-installer", "/i"], ["PATH", "ffmpeg"]]
    )
  })

  it("finds an executable on a PATH", () => {
    assert.strictEqual(onPathUnsafe("spawns-child.sh", `/nonexistent:${at("")}`), at("spawns-child.sh"))
    assert.isUndefined(onPathUnsafe("no-such-binary", at("")))
    assert.strictEqual(onPath, onPathUnsafe) // the 0.1 name
  })

  it.effect("uses what the install provides (ffmpeg-static or @ffmpeg-installer), with its version", () =>
    Effect.gen(function*() {
      const ffmpeg = yield* resolve({})
      // The install ships one of the two; falling through to PATH would mean it provided neither.
      assert.include(["ffmpeg-static", "@ffmpeg-installer"], ffmpeg.source)
      assert.match(ffmpeg.path, ffmpeg.source === "ffmpeg-static" ? /ffmpeg-static/ : /@ffmpeg-installer/)
      assert.strictEqual(ffmpeg.path, ffmpegPath)
      assert.match(ffmpeg.version, /\S+/)
    }))

  it.effect("FFMPEG_PATH wins when set", () =>
    Effect.gen(function*() {
      const ffmpeg = yield* resolve({ FFMPEG_PATH: ffmpegPath })
      assert.strictEqual(ffmpeg.source, "FFMPEG_PATH")
      assert.strictEqual(ffmpeg.path, ffmpegPath)
    }))

  it.effect("a FFMPEG_PATH that does not run is the layer's FfmpegNotFound, naming it, the fix and why", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve({ FFMPEG_PATH: at("text.mp4") }))
      assert.instanceOf(error, FfmpegNotFound)
      assert.strictEqual(error._tag, "FfmpegNotFound")
      assert.deepStrictEqual(error.searched, [`FFMPEG_PATH (${at("text.mp4")})`])
      assert.include(error.message, "set FFMPEG_PATH")
      // A file that is not executable cannot be started: the spawn error is kept, as data.
      assert.instanceOf(error.cause, FfmpegProcess.SpawnFailed)
      if (error.cause instanceof FfmpegProcess.SpawnFailed) assert.strictEqual(error.cause.binary, at("text.mp4"))
    }))

  it.effect("a binary that runs but is not ffmpeg is FfmpegNotFound without a spawn error", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(Ffmpeg.layerPath("/bin/true")).pipe(Effect.scoped, Effect.flip)
      assert.deepStrictEqual(error.searched, ["the given path (/bin/true)"])
      assert.isUndefined(error.cause)
    }))

  it.effect("layerPath pins a binary", () =>
    Effect.gen(function*() {
      const ffmpeg = yield* Effect.provide(Effect.gen(function*() {
        return yield* Ffmpeg
      }), Ffmpeg.layerPath(ffmpegPath))
      assert.strictEqual(ffmpeg.path, ffmpegPath)
    }))
})
