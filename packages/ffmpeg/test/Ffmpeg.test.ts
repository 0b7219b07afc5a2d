import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { Video } from "@vidpool/pool"
import { candidates, Ffmpeg, FfmpegNotFound, onPathUnsafe } from "../src/Ffmpeg.ts"
import { FfmpegDecoder } from "../src/FfmpegDecoder.ts"
import * as FfmpegProcess from "../src/FfmpegProcess.ts"
import { at, decode, ffmpegPath, Live } from "./helpers.ts"

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

  it.effect("layerPath pins a binary: its version, and the one a decoder runs, whatever FFMPEG_PATH says", () =>
    Effect.scoped(Effect.gen(function*() {
      // A wrapper that logs each run, then is the real ffmpeg; FFMPEG_PATH names another binary.
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-pinned-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const pinned = NodePath.join(dir, "ffmpeg")
      const runs = NodePath.join(dir, "runs")
      writeFileSync(pinned, `#!/bin/sh\necho "$*" >> '${runs}'\nexec '${ffmpegPath}' "$@"\n`)
      chmodSync(pinned, 0o755)
      const version = /^ffmpeg version (\S+)/.exec(execFileSync(ffmpegPath, ["-version"], { encoding: "utf8" }))![1]
      const env = ConfigProvider.layer(ConfigProvider.fromEnvRecord({ FFMPEG_PATH: "/bin/true" }))
      const Pinned = Ffmpeg.layerPath(pinned).pipe(Layer.provide(env))
      // A decoder over the pinned layer runs it, and gets the clip's frames through it.
      const Decoder = FfmpegDecoder.layerWith().pipe(Layer.provideMerge(Layer.mergeAll(Pinned, NodeServices.layer)))
      const [ffmpeg, tensor] = yield* Effect.provide(Effect.all([Ffmpeg.useSync((found) => found), decode(Video.file(at("h264.mp4")))]), Decoder)
      assert.deepStrictEqual({ ...ffmpeg }, { path: pinned, version, source: "FFMPEG_PATH" })
      assert.deepStrictEqual(tensor.shape, [20, 48, 64, 3])
      const direct = yield* Effect.provide(decode(Video.file(at("h264.mp4"))), Live)
      assert.deepStrictEqual(tensor.data, direct.data)
      const [check, ...decodes] = readFileSync(runs, "utf8").split("\n").filter((line) => line !== "")
      assert.strictEqual(check, "-hide_banner -version")
      assert.isAtLeast(decodes.length, 1)
      for (const line of decodes) assert.include(line, at("h264.mp4"))
    })))
})
