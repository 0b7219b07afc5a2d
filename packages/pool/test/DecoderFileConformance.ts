// What every decoder that reads the file system does with what it finds there, as one reusable
// suite run against the in-process and the command-line decoder: paths that are not regular files
// (refused before anything opens them, with the same reason and message), any name the file
// system allows, and folders of images whose sizes and formats change.
import { assert, layer } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Effect, type Layer } from "effect"
import { type DecodeError, type DecodeOptions, describeReason, NotRegularFile, Video, VideoDecoder, type VideoTensor } from "../src/index.ts"
import { frameIndexOf } from "./frameIndex.ts"

/** The files the suite starts from (made with ffmpeg by the caller). */
export interface FileFixtures {
  /** A video file. */
  readonly clip: string
  /** A folder of frame-numbered images (`FfmpegFixtures`' `frameIndex` source), all 32x24. */
  readonly images: string
  /** Six frame-numbered images in one format, the first 32x24, later ones of other sizes. */
  readonly sizes: string
  /** Six frame-numbered images in several formats and sizes, the first 32x24. */
  readonly sizesMixed: string
}

const decode = (video: Video) => VideoDecoder.use((d) => d.decode(video))
const failure = (video: Video) => Effect.flip(decode(video))

const framesOf = (tensor: VideoTensor) => Array.from({ length: tensor.shape[0] }, (_, t) => frameIndexOf(tensor, t))

/** The whole message of a refusal: the same from every decoder. */
const assertRefused = (error: DecodeError, path: string, reason: DecodeError["reason"]) => {
  assert.strictEqual(error.path, path)
  assert.deepStrictEqual(error.reason, reason)
  assert.strictEqual(error.message, `Cannot decode ${path}: ${describeReason(reason)}`)
}

/** Names a file system allows and a list of files, a shell or a command line may not. */
const hostileNames = [
  "new\nline",
  "carriage\rreturn",
  "it's \"quoted\"",
  "back\\slash",
  "-leading dash",
  "spaces  and\ttab",
  "unicode ü 映像 🎞",
  "colon:1",
  "$dollar %d [brackets];semicolon,comma"
]

export const decoderFileConformance = (name: string, live: Layer.Layer<VideoDecoder, unknown>, fixtures: FileFixtures) => {
  const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-file-conformance-"))
  const at = (file: string) => NodePath.join(dir, file)
  process.on("exit", () => Fs.rmSync(dir, { recursive: true, force: true }))

  layer(live, { timeout: "120 seconds", excludeTestServices: true })(`${name} reads files as every decoder does`, (it) => {
    it.effect("refuses a FIFO at once, even while a writer holds it open, with NotRegularFile naming it", () =>
      Effect.gen(function*() {
        const fifo = at("pipe.mp4")
        execFileSync("mkfifo", [fifo])
        // Opened for reading and writing: a writer that never writes, without waiting for a reader.
        const writer = Fs.openSync(fifo, "r+")
        try {
          assertRefused(yield* failure(Video.file(fifo)), fifo, new NotRegularFile({ kind: "FIFO" }))
          assertRefused(yield* failure(Video.folder(fifo)), fifo, new NotRegularFile({ kind: "FIFO" }))
          assertRefused(yield* failure(Video.file(fifo, { numFrames: 4, width: 16, height: 16 })), fifo, new NotRegularFile({ kind: "FIFO" }))
        } finally {
          Fs.closeSync(writer)
        }
      }))

    it.effect("refuses a socket, a device, a symbolic link loop and a folder given as a video file", () =>
      Effect.gen(function*() {
        const server = Net.createServer()
        const socket = at("socket.mp4")
        yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(socket, resolve)))
        try {
          assertRefused(yield* failure(Video.file(socket)), socket, new NotRegularFile({ kind: "socket" }))
        } finally {
          server.close()
        }
        assertRefused(yield* failure(Video.file("/dev/null")), "/dev/null", new NotRegularFile({ kind: "character device" }))
        const loop = at("loop.mp4")
        Fs.symlinkSync("loop.mp4", loop)
        assertRefused(yield* failure(Video.file(loop)), loop, new NotRegularFile({ kind: "symbolic link loop" }))
        assertRefused(yield* failure(Video.folder(loop)), loop, new NotRegularFile({ kind: "symbolic link loop" }))
        assertRefused(yield* failure(Video.file(fixtures.images)), fixtures.images, new NotRegularFile({ kind: "folder" }))
      }))

    it.effect("refuses a folder whose image is not a regular file, naming the image", () =>
      Effect.gen(function*() {
        const piped = at("piped")
        Fs.mkdirSync(piped)
        Fs.copyFileSync(NodePath.join(fixtures.images, "frame_0000.png"), NodePath.join(piped, "0.png"))
        execFileSync("mkfifo", [NodePath.join(piped, "1.png")])
        const writer = Fs.openSync(NodePath.join(piped, "1.png"), "r+")
        try {
          assertRefused(yield* failure(Video.folder(piped)), piped, new NotRegularFile({ kind: "FIFO", image: "1.png" }))
        } finally {
          Fs.closeSync(writer)
        }
        const nested = at("nested")
        Fs.mkdirSync(NodePath.join(nested, "0.png"), { recursive: true })
        assertRefused(yield* failure(Video.folder(nested)), nested, new NotRegularFile({ kind: "folder", image: "0.png" }))
        const looped = at("looped")
        Fs.mkdirSync(looped)
        Fs.symlinkSync("0.png", NodePath.join(looped, "0.png"))
        assertRefused(yield* failure(Video.folder(looped)), looped, new NotRegularFile({ kind: "symbolic link loop", image: "0.png" }))
      }))

    it.effect("a video file given as a folder of images is InvalidData saying so", () =>
      Effect.gen(function*() {
        const error = yield* failure(Video.folder(fixtures.clip))
        assert.strictEqual(error.reason._tag, "InvalidData")
        assert.strictEqual(
          error.message,
          `Cannot decode ${fixtures.clip}: not a readable video: not a folder of images but a file (decode a video file with Video.file)`
        )
      }))

    it.effect("openTimeout is checked like every option, and a file that answers within it decodes", () =>
      Effect.gen(function*() {
        for (const openTimeout of [0, -1, Number.NaN]) {
          const error = yield* failure(Video.file(fixtures.clip, { openTimeout }))
          assert.strictEqual(error.reason._tag, "InvalidData")
          assert.include(error.message, "option openTimeout must be a positive number")
        }
        const tensor = yield* decode(Video.folder(fixtures.images, { openTimeout: 5_000 }))
        assert.strictEqual(tensor.shape[0], 6)
      }))

    it.effect("decodes a video under any name the file system allows, as under a plain one", () =>
      Effect.gen(function*() {
        const plain = yield* decode(Video.file(fixtures.clip, { maxFrames: 3 }))
        const videos = at("videos")
        Fs.mkdirSync(videos)
        for (const hostile of hostileNames) {
          const file = NodePath.join(videos, `${hostile}.mp4`)
          Fs.copyFileSync(fixtures.clip, file)
          const tensor = yield* decode(Video.file(file, { maxFrames: 3 }))
          assert.deepStrictEqual(tensor.shape, plain.shape, JSON.stringify(hostile))
          assert.isTrue(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).equals(
            Buffer.from(plain.data.buffer, plain.data.byteOffset, plain.data.byteLength)
          ), JSON.stringify(hostile))
          // A size asks the header first: the same name goes through that run too.
          const sized = yield* decode(Video.file(file, { maxFrames: 1, width: 16, height: 12 }))
          assert.deepStrictEqual(sized.shape, [1, 12, 16, 3], JSON.stringify(hostile))
        }
      }))

    it.effect("decodes a folder of images, and its images, under any names the file system allows", () =>
      Effect.gen(function*() {
        const plain = yield* decode(Video.folder(fixtures.images))
        // The folder's own name is hostile too (a line break in it included).
        const folder = at(`frames ${hostileNames[0]} ${hostileNames[2]}`)
        Fs.mkdirSync(folder)
        const sources = Fs.readdirSync(fixtures.images).filter((file) => file.endsWith(".png")).sort()
        sources.forEach((source, k) =>
          // The digit first keeps the order of the frames (names are decoded in code point order).
          Fs.copyFileSync(NodePath.join(fixtures.images, source), NodePath.join(folder, `${k} ${hostileNames[k % hostileNames.length]}.png`))
        )
        const tensor = yield* decode(Video.folder(folder))
        assert.deepStrictEqual(tensor.shape, plain.shape)
        assert.deepStrictEqual(framesOf(tensor), framesOf(plain))
        assert.deepStrictEqual(framesOf(tensor), sources.map((_, k) => k))
        const picked = yield* decode(Video.folder(folder, { numFrames: 2, width: 16, height: 12 }))
        assert.deepStrictEqual(framesOf(picked), [0, sources.length - 1])
      }))

    for (const [what, key] of [["in one format", "sizes"], ["across formats", "sizesMixed"]] as const) {
      it.effect(`a folder of images of several sizes ${what} decodes at the first image's size, every frame in its place`, () =>
        Effect.gen(function*() {
          const folder = fixtures[key]
          const all = yield* decode(Video.folder(folder))
          assert.deepStrictEqual(all.shape, [6, 24, 32, 3])
          assert.deepStrictEqual(framesOf(all), [0, 1, 2, 3, 4, 5])
          assert.deepStrictEqual(all.timestamps!.map((t) => Math.round(t * 25)), [0, 1, 2, 3, 4, 5])
          assert.strictEqual(all.source.width, 32)
          assert.strictEqual(all.source.height, 24)
          // Frames picked after a change of size are the frames asked for (no count restarts).
          const options: ReadonlyArray<readonly [DecodeOptions, ReadonlyArray<number>]> = [
            [{ numFrames: 3 }, [0, 2, 5]],
            [{ start: 3 / 25 }, [3, 4, 5]],
            [{ maxFrames: 4 }, [0, 1, 2, 3]],
            [{ fps: 12.5 }, [0, 2, 4]]
          ]
          for (const [given, expected] of options) {
            const tensor = yield* decode(Video.folder(folder, given))
            assert.deepStrictEqual(framesOf(tensor), expected, JSON.stringify(given))
            assert.deepStrictEqual(tensor.timestamps!.map((t) => Math.round(t * 25)), expected, JSON.stringify(given))
          }
          const sized = yield* decode(Video.folder(folder, { width: 8, height: 6 }))
          assert.deepStrictEqual(sized.shape, [6, 6, 8, 3])
          assert.deepStrictEqual(framesOf(sized), [0, 1, 2, 3, 4, 5])
        }))
    }
  })
}
