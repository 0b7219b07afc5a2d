// Shared by the test files: the fixtures folder, the decoder, and a census of child processes.
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import type { DecodeError, DecodeOptions, Video, VideoTensor } from "@vidpool/pool"
import { VideoDecoder } from "@vidpool/pool"
import { inject } from "vitest"
import { Ffmpeg, type FfmpegNotFound } from "../src/Ffmpeg.ts"
import { FfmpegDecoder } from "../src/FfmpegDecoder.ts"

export const fixtures = inject("fixtures")
export const ffmpegPath = inject("ffmpegPath")
export const at = (name: string) => NodePath.join(fixtures, name)

/** Decoder and probe services over the resolved ffmpeg. */
export const Live = FfmpegDecoder.layerWith().pipe(
  Layer.provideMerge(Layer.mergeAll(Ffmpeg.layerPath(ffmpegPath), NodeServices.layer))
)

/** The same decoder, but with ffmpeg at `path` (a missing one proves nothing was spawned). */
export const withBinary = (path: string, defaults: DecodeOptions = {}) =>
  FfmpegDecoder.layerWith(defaults).pipe(
    Layer.provide(Layer.mergeAll(
      Layer.succeed(Ffmpeg, Ffmpeg.of({ path, version: "test", source: "FFMPEG_PATH" })),
      NodeServices.layer
    ))
  )

export const decode = (video: Video): Effect.Effect<VideoTensor, DecodeError, VideoDecoder> =>
  Effect.gen(function*() {
    const decoder = yield* VideoDecoder
    return yield* decoder.decode(video)
  })

/** The failure of a decode that must fail. */
export const failure = (video: Video): Effect.Effect<DecodeError, VideoTensor, VideoDecoder> =>
  Effect.flip(decode(video))

/** Pids of every live descendant of this process (zombies excluded), from /proc. */
export const descendants = (): Array<number> => {
  const parents = new Map<number, Array<number>>()
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8")
    } catch {
      continue // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (fields[0] === "Z") continue
    const ppid = Number(fields[1])
    const list = parents.get(ppid) ?? []
    list.push(Number(name))
    parents.set(ppid, list)
  }
  const out: Array<number> = []
  const visit = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      out.push(child)
      visit(child)
    }
  }
  visit(process.pid)
  return out.sort((a, b) => a - b)
}

/** A fresh FIFO in a fresh folder, removed with the scope: ffmpeg blocks reading it until someone writes. */
export const makeFifo: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-fifo-"))
    const path = NodePath.join(dir, "input.mp4")
    execFileSync("mkfifo", [path])
    return path
  }),
  (path) => Effect.sync(() => rmSync(NodePath.dirname(path), { recursive: true, force: true }))
)

/**
 * A stand-in for ffmpeg in a fresh folder, removed with the scope: a script named `ffmpeg` that,
 * while the FIFO `latch` (in the same folder) exists, waits on it, then runs the real ffmpeg with
 * its arguments. So a decode of a regular file is certainly running, and stays so, while the test
 * holds the latch: opening it for writing returns once a stand-in waits on it, closing it lets
 * them go on; removing it lets the next ones run at once. With `child`, the stand-in first starts
 * a `sleep` of its own and, once let go, waits for it.
 */
export const makeStandIn = (options: { readonly child?: boolean } = {}): Effect.Effect<
  { readonly binary: string; readonly latch: string },
  never,
  Scope.Scope
> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-stand-in-"))
      const binary = NodePath.join(dir, "ffmpeg")
      const latch = NodePath.join(dir, "latch")
      execFileSync("mkfifo", [latch])
      writeFileSync(
        binary,
        `#!/bin/sh\n${options.child === true ? "sleep 1000 &\n" : ""}` +
          `if [ -p '${latch}' ]; then exec 3<'${latch}'; read -r _ <&3; exec 3<&-; fi\n` +
          (options.child === true ? "wait\n" : `exec '${ffmpegPath}' "$@"\n`)
      )
      chmodSync(binary, 0o755)
      return { binary, latch }
    }),
    ({ binary }) => Effect.sync(() => rmSync(NodePath.dirname(binary), { recursive: true, force: true }))
  )

/**
 * Waits until `found()` gives a value, looking every 10 ms of real time, for at most `millis`
 * (for what no event announces, such as a second process started while a latch is already open).
 */
export const pollUntil = <A>(found: () => A | undefined, millis = 10_000): Effect.Effect<A> =>
  Effect.promise(async () => {
    const deadline = Date.now() + millis
    for (;;) {
      const value = found()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`nothing found within ${millis} ms`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })

/** Every descriptor this process holds, as `fd -> target`, from /proc/self/fd (sorted by fd). */
export const openDescriptors = (): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`]
    } catch {
      return [] // the descriptor readdir itself used, closed by now
    }
  }).sort((a, b) => parseInt(a) - parseInt(b))

/** Files this process holds open under `dir` (deleted ones included), from /proc/self/fd. */
export const openFilesUnder = (dir: string): Array<string> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith(dir + NodePath.sep) ? [target] : []
    } catch {
      return []
    }
  })

/** Sizes in bytes of the files this process holds open under `dir` (deleted ones included). */
export const openFileSizesUnder = (dir: string): Array<number> =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + NodePath.sep) ? [statSync(`/proc/self/fd/${fd}`).size] : []
    } catch {
      return []
    }
  })

/** A decoder of its own writing to a fresh scratch folder, for `use`; the folder is removed after. */
export const withScratchDir = <A, E>(
  use: (scratchDir: string) => Effect.Effect<A, E, VideoDecoder>
): Effect.Effect<A, E | FfmpegNotFound> =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(NodePath.join(Os.tmpdir(), "vidpool-scratch-test-"))),
    (scratchDir) =>
      use(scratchDir).pipe(
        Effect.provide(FfmpegDecoder.layerWith({}, { scratchDir }).pipe(
          Layer.provide(Layer.mergeAll(Ffmpeg.layerPath(ffmpegPath), NodeServices.layer))
        ))
      ),
    (scratchDir) => Effect.sync(() => rmSync(scratchDir, { recursive: true, force: true }))
  )

/** Pixel value of frame `t`, row `y`, column `x`, channel `c` of a THWC tensor. */
export const pixel = (tensor: VideoTensor, t: number, y: number, x: number, c: number): number => {
  const [, h, w, ch] = tensor.shape
  return tensor.data[((t * h + y) * w + x) * ch + c]
}

export { frameIndexOf } from "../../pool/test/frameIndex.ts"
