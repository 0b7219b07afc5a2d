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
import { DecodeError, DecodePlan, InputCheck, InvalidData } from "@vidpool/pool"
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

/**
 * The images of a folder, sorted by name (code point order), each checked to be a regular file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listImages = (path: string, openTimeout?: number): Effect.Effect<ReadonlyArray<string>, DecodeError> =>
  InputCheck.check(path, "folder", openTimeout).pipe(
    Effect.map((checked) => (checked._tag === "Folder" ? checked.images : []))
  )

const quote = (path: string): string => `'${path.replace(/'/g, `'\\''`)}'`

/** Whether a name can be written in a concat list: one line each, so no line break in it. */
const spellable = (path: string): boolean => !/[\r\n]/.test(path)

/** Whether ffmpeg can reopen a descriptor of this process through /proc. */
const procFds = (() => {
  try {
    return Fs.statSync(`/proc/${process.pid}/fd`).isDirectory()
  } catch {
    return false
  }
})()

/**
 * A file or folder the concat list cannot name (a line break in its name), held open and named
 * by its descriptor, `/proc/<pid>/fd/<fd>`, until the scope closes.
 */
const heldOpen = (folder: string, image: string): Effect.Effect<string, DecodeError, Scope.Scope> =>
  procFds
    ? Effect.acquireRelease(
      Effect.callback<number, NodeJS.ErrnoException>((resume) => {
        Fs.open(image, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK, (error, fd) =>
          resume(error === null ? Effect.succeed(fd) : Effect.fail(error)))
      }).pipe(Effect.catch((error) => fail(folder, InputCheck.reasonOfErrno(error)))),
      (fd) => Effect.callback<void>((resume) => Fs.close(fd, () => resume(Effect.void)))
    ).pipe(Effect.map((fd) => `/proc/${process.pid}/fd/${fd}`))
    : fail(
      folder,
      new InvalidData({
        detail: `${image} has a line break in its name, which ffmpeg's file list cannot hold on this system ` +
          `(rename it, or decode with the libav decoder)`
      })
    )

/**
 * Checks the path (`InputCheck.check`, within `openTimeout`) before anything is spawned and
 * returns the ffmpeg input arguments. A folder becomes a concat list in `scratchDir`, closed (and
 * so removed) with the scope; each of its inputs is opened with `-reinit_filter 0`, so a change of
 * image size does not restart the filters (their frame counts) midway.
 *
 * @since 0.1.0
 * @category constructors
 */
export const open = (
  path: string,
  source: Source | "either",
  scratchDir: string,
  openTimeout?: number
): Effect.Effect<Input, DecodeError, Scope.Scope> =>
  Effect.gen(function*() {
    const checked = yield* InputCheck.check(path, source, openTimeout)
    // `file:` so that a name with a colon ("clip:1.mp4") is not taken for a protocol.
    if (checked._tag === "File") return { args: ["-i", `file:${path}`], images: undefined, inputs: 1 }
    const images = checked.images
    // One concat list per run of images of one family: ffmpeg keeps one decoder per input.
    const runs: Array<Array<string>> = []
    let family: string | undefined
    for (const image of images) {
      const next = imageFamilies[NodePath.extname(image).toLowerCase()]
      if (next !== family || runs.length === 0) runs.push([])
      family = next
      runs[runs.length - 1].push(image)
    }
    // A folder whose own name the list cannot hold is named by one descriptor; an image whose
    // name it cannot hold, by its own.
    const folder = NodePath.resolve(path)
    const base = spellable(folder) ? folder : yield* heldOpen(path, folder)
    const args: Array<string> = []
    for (const run of runs) {
      const entries: Array<string> = []
      for (const image of run) {
        const name = NodePath.basename(image)
        const listed = spellable(name) ? NodePath.join(base, name) : yield* heldOpen(path, NodePath.join(folder, name))
        entries.push(`file ${quote(listed)}\n`)
      }
      const text = "ffconcat version 1.0\n" + entries.join("")
      // Unlinked at once (read through /proc), so nothing is left behind even if Node is killed.
      const list = yield* ScratchFile.makeText(scratchDir, ".txt", text).pipe(
        Effect.catch((error) => fail(path, InputCheck.reasonOfErrno(error)))
      )
      args.push("-reinit_filter", "0", "-f", "concat", "-safe", "0", "-i", `file:${list}`)
    }
    return { args, images: images.length, inputs: runs.length }
  })

/**
 * The filters that come first for a folder: every image scaled to the size of the first (as the
 * in-process decoder does; `first`, the header's size, is needed when the folder mixes image
 * formats), the inputs joined by ffmpeg's `concat` filter when it mixes them (for the head of a
 * `-filter_complex` chain), then timestamps set to image `k` at `k / folderFps` (the concat
 * demuxer gives images no duration, so their own timestamps do not count up). `undefined` for a
 * video file.
 *
 * @since 0.1.0
 * @category internals
 */
export const headFilters = (
  input: Input,
  first?: { readonly width: number; readonly height: number }
): string | undefined => {
  if (input.images === undefined) return undefined
  const timestamps = `setpts=N/${folderFps}/TB`
  // With -reinit_filter 0, `scale` keeps the size it first saw for every later frame.
  if (input.inputs <= 1) return `scale,${timestamps}`
  const size = first === undefined ? "" : `=${first.width}:${first.height}`
  const each = Array.from({ length: input.inputs }, (_, i) => `[${i}:v:0]scale${size},setsar=1[image${i}]`).join(";")
  const join = Array.from({ length: input.inputs }, (_, i) => `[image${i}]`).join("") +
    `concat=n=${input.inputs}:v=1:a=0`
  return `${each};${join},${timestamps}`
}
