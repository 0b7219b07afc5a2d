/**
 * Turns a path into ffmpeg input arguments, after checking it exists and can be read: a video
 * file as it is, a folder of images as a concat list in name order.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import type { Scope } from "effect"
import { DecodeError, DecodePlan, InvalidData, NotFound, PermissionDenied } from "@vidpool/pool"
import type { Source } from "@vidpool/pool"
import * as ScratchFile from "./ScratchFile.ts"

/**
 * Image extensions read from a folder, and the decoder family of each (`DecodePlan.imageFamilies`).
 * A folder may mix them: each run of consecutive images of one family is one ffmpeg input, and
 * the runs are joined.
 *
 * @since 0.1.0
 * @category models
 */
export const imageFamilies = DecodePlan.imageFamilies

/**
 * @since 0.1.0
 * @category models
 */
export interface Input {
  /** Arguments that open the input, ending with `-i <something>`. */
  readonly args: ReadonlyArray<string>
  /** For a folder: how many images it holds (the frames the decode must produce). */
  readonly images: number | undefined
  /** How many ffmpeg inputs the arguments open (a folder mixing image formats opens several). */
  readonly inputs: number
}

/**
 * The rate a folder of images decodes at.
 *
 * @since 0.1.0
 * @category constants
 */
export const folderFps = 25

const fail = (path: string, reason: DecodeError["reason"]) => Effect.fail(new DecodeError({ path, reason }))

const fromErrno = (path: string, error: NodeJS.ErrnoException) => {
  const reason = DecodePlan.errnoReason(error)
  switch (reason._tag) {
    case "NotFound":
      return fail(path, new NotFound({}))
    case "PermissionDenied":
      return fail(path, new PermissionDenied({}))
    case "InvalidData":
      return fail(path, new InvalidData({ detail: reason.detail, cause: error }))
  }
}

const stat = (path: string) =>
  Effect.callback<Fs.Stats, NodeJS.ErrnoException>((resume) => {
    Fs.stat(path, (error, stats) => resume(error === null ? Effect.succeed(stats) : Effect.fail(error)))
  })

/** Opening without blocking proves read permission (a FIFO would otherwise wait for a writer). */
const checkReadable = (path: string) =>
  Effect.callback<void, NodeJS.ErrnoException>((resume) => {
    Fs.open(path, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK, (error, fd) => {
      if (error !== null) return resume(Effect.fail(error))
      Fs.close(fd, () => resume(Effect.void))
    })
  })

const readDir = (path: string) =>
  Effect.callback<Array<string>, NodeJS.ErrnoException>((resume) => {
    Fs.readdir(path, (error, names) => resume(error === null ? Effect.succeed(names) : Effect.fail(error)))
  })

/**
 * The images of a folder, sorted by name (code point order).
 *
 * @since 0.1.0
 * @category constructors
 */
export const listImages = (path: string): Effect.Effect<ReadonlyArray<string>, DecodeError> =>
  Effect.gen(function*() {
    const names = yield* readDir(path).pipe(Effect.catch((error) => fromErrno(path, error)))
    const images = DecodePlan.imagesOf(names)
    if (images.length === 0) return yield* fail(path, new InvalidData({ detail: DecodePlan.noImages }))
    return images.map((name) => NodePath.join(path, name))
  })

const quote = (path: string): string => `'${path.replace(/'/g, `'\\''`)}'`

/**
 * Checks the path (before anything is spawned) and returns the ffmpeg input arguments. A folder
 * becomes a concat list in `scratchDir`, closed (and so removed) with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const open = (
  path: string,
  source: Source,
  scratchDir: string
): Effect.Effect<Input, DecodeError, Scope.Scope> =>
  Effect.gen(function*() {
    const stats = yield* stat(path).pipe(Effect.catch((error) => fromErrno(path, error)))
    if (source === "file" || !stats.isDirectory()) {
      if (stats.isDirectory()) {
        return yield* fail(path, new InvalidData({ detail: "this is a folder; decode it with Video.folder" }))
      }
      if (stats.isFile()) {
        yield* checkReadable(path).pipe(Effect.catch((error) => fromErrno(path, error)))
      }
      // `file:` so that a name with a colon ("clip:1.mp4") is not taken for a protocol.
      return { args: ["-i", `file:${path}`], images: undefined, inputs: 1 }
    }
    const images = yield* listImages(path)
    // One concat list per run of images of one family: ffmpeg keeps one decoder per input.
    const runs: Array<Array<string>> = []
    let family: string | undefined
    for (const image of images) {
      const next = imageFamilies[NodePath.extname(image).toLowerCase()]
      if (next !== family || runs.length === 0) runs.push([])
      family = next
      runs[runs.length - 1].push(image)
    }
    const args: Array<string> = []
    for (const run of runs) {
      const text = "ffconcat version 1.0\n" +
        run.map((image) => `file ${quote(NodePath.resolve(image))}\n`).join("")
      // Unlinked at once (read through /proc), so nothing is left behind even if Node is killed.
      const list = yield* ScratchFile.makeText(scratchDir, ".txt", text).pipe(
        Effect.catch((error) => fromErrno(path, error))
      )
      args.push("-f", "concat", "-safe", "0", "-i", `file:${list}`)
    }
    return { args, images: images.length, inputs: runs.length }
  })

/**
 * The filters that come first for a folder: the inputs joined by ffmpeg's `concat` filter when
 * the folder mixes image formats (for the head of a `-filter_complex` chain), then timestamps set
 * to image `k` at `k / folderFps` (the concat demuxer gives images no duration, so their own
 * timestamps do not count up). `undefined` for a video file.
 *
 * @since 0.1.0
 * @category internals
 */
export const headFilters = (input: Input): string | undefined => {
  if (input.images === undefined) return undefined
  const timestamps = `setpts=N/${folderFps}/TB`
  if (input.inputs <= 1) return timestamps
  const join = Array.from({ length: input.inputs }, (_, i) => `[${i}:v:0]`).join("") +
    `concat=n=${input.inputs}:v=1:a=0`
  return `${join},${timestamps}`
}
