import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { candidates, Ffmpeg, onPath } from "../src/Ffmpeg.ts"
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
    assert.strictEqual(onPath("spawns-child.sh", `/nonexistent:${at("")}`), at("spawns-child.sh"))
    assert.isUndefined(onPath("no-such-binary", at("")))
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

  it.effect("a FFMPEG_PATH that does not run is FfmpegNotFound naming it and the fix", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolve({ FFMPEG_PATH: at("text.mp4") }))
      assert.strictEqual(error.reason._tag, "FfmpegNotFound")
      assert.strictEqual(error.path, "ffmpeg")
      if (error.reason._tag === "FfmpegNotFound") assert.include(error.reason.searched[0], at("text.mp4"))
      assert.include(error.message, "set FFMPEG_PATH")
    }))

  it.effect("layerPath pins a binary", () =>
    Effect.gen(function*() {
      const ffmpeg = yield* Effect.provide(Effect.gen(function*() {
        return yield* Ffmpeg
      }), Ffmpeg.layerPath(ffmpegPath))
      assert.strictEqual(ffmpeg.path, ffmpegPath)
    }))
})
