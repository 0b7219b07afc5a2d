/**
 * Turns the command's inputs (video files, folders of videos, `.jsonl` manifests) into the list
 * of samples to evaluate, checking every path before any video is decoded.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path } from "effect"
import type { PlatformError } from "effect"
import { type DecodeOptions, Video } from "@vidpool/pool"
import { InputError } from "./InputError.ts"

/**
 * The file name endings read as videos when a folder is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const videoExtensions: ReadonlyArray<string> = [
  ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".ogv", ".y4m"
]

/**
 * One sample to evaluate, before it becomes `Video` values: the paths as the user will see them,
 * and the other fields of its manifest line (a prompt, labels...) passed through untouched.
 *
 * @since 0.1.0
 * @category models
 */
export interface InputSample {
  readonly video: string
  readonly reference?: string
  readonly fields: Readonly<Record<string, unknown>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CollectOptions {
  /** A folder holding, for each video, the reference of the same file name. */
  readonly reference?: string | undefined
}

const isVideoName = (name: string): boolean => {
  const lower = name.toLowerCase()
  return videoExtensions.some((ext) => lower.endsWith(ext))
}

const describeFsError = (error: PlatformError.PlatformError): string => {
  const reason = error.reason
  if (reason._tag === "BadArgument") return reason.description ?? "cannot be read"
  switch (reason._tag) {
    case "NotFound":
      return "no such file or folder"
    case "PermissionDenied":
      return "permission denied"
    default:
      return reason.description ?? `cannot be read (${reason._tag})`
  }
}

const statOrFail = (fs: FileSystem.FileSystem, path: string) =>
  fs.stat(path).pipe(Effect.mapError((error) => InputError.about(path, describeFsError(error))))

/**
 * Reads a `.jsonl` manifest: one JSON object per line with a `video` path and optionally a
 * `reference` path (both relative to the manifest's folder unless absolute) and any other fields.
 * Blank lines are skipped; every other problem names its line.
 *
 * @since 0.1.0
 * @category constructors
 */
export const readManifest = Effect.fnUntraced(function*(manifest: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const text = yield* fs.readFileString(manifest).pipe(
    Effect.mapError((error) => InputError.about(manifest, describeFsError(error)))
  )
  const base = path.dirname(manifest)
  const resolve = (p: string) => path.isAbsolute(p) ? p : path.join(base, p)
  const lines = text.split(/\r?\n/)
  const samples: Array<InputSample> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line.length === 0) continue
    const n = i + 1
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      return yield* InputError.at(manifest, n, `not valid JSON (${(error as Error).message})`)
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return yield* InputError.at(manifest, n, `expected a JSON object such as {"video": "clip.mp4"}`)
    }
    const { video, reference, ...fields } = value as Record<string, unknown>
    if (typeof video !== "string" || video.length === 0) {
      return yield* InputError.at(manifest, n, `"video" must be a path (a non-empty string)`)
    }
    if (reference !== undefined && (typeof reference !== "string" || reference.length === 0)) {
      return yield* InputError.at(manifest, n, `"reference" must be a path (a non-empty string)`)
    }
    const sample: InputSample = reference === undefined
      ? { video: resolve(video), fields }
      : { video: resolve(video), reference: resolve(reference), fields }
    for (const [key, file] of [["video", sample.video], ["reference", sample.reference]] as const) {
      if (file === undefined) continue
      const info = yield* fs.stat(file).pipe(
        Effect.mapError((error) => InputError.at(manifest, n, `${key} ${file}: ${describeFsError(error)}`))
      )
      if (info.type === "Directory") {
        return yield* InputError.at(manifest, n, `${key} ${file} is a folder, not a video file`)
      }
    }
    samples.push(sample)
  }
  if (samples.length === 0) return yield* InputError.about(manifest, "the manifest holds no samples")
  return samples
})

/**
 * Reads the videos of one folder (not its subfolders), sorted by file name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const readFolder = Effect.fnUntraced(function*(folder: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const names = yield* fs.readDirectory(folder).pipe(
    Effect.mapError((error) => InputError.about(folder, describeFsError(error)))
  )
  const videos: Array<string> = []
  for (const name of names.filter(isVideoName).sort(compareNames)) {
    const file = path.join(folder, name)
    const info = yield* statOrFail(fs, file)
    if (info.type === "File") videos.push(file)
  }
  if (videos.length === 0) {
    return yield* InputError.about(folder, `no videos in this folder (looked for ${videoExtensions.join(" ")})`)
  }
  return videos
})

const compareNames = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/**
 * Collects the samples named by the command's inputs, in order: a file is one sample, a folder
 * gives its videos sorted by name, a `.jsonl` file is a manifest. With `reference`, every sample
 * without a reference is paired with the file of the same name in that folder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const collect = Effect.fnUntraced(function*(
  inputs: ReadonlyArray<string>,
  options: CollectOptions = {}
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const samples: Array<InputSample> = []
  for (const input of inputs) {
    const info = yield* statOrFail(fs, input)
    if (info.type === "Directory") {
      for (const video of yield* readFolder(input)) samples.push({ video, fields: {} })
    } else if (input.toLowerCase().endsWith(".jsonl")) {
      samples.push(...(yield* readManifest(input)))
    } else {
      samples.push({ video: input, fields: {} })
    }
  }
  const folder = options.reference
  if (folder === undefined) return samples
  const info = yield* statOrFail(fs, folder)
  if (info.type !== "Directory") return yield* InputError.about(folder, "--reference must be a folder")
  const paired: Array<InputSample> = []
  for (const sample of samples) {
    if (sample.reference !== undefined) {
      paired.push(sample)
      continue
    }
    const reference = path.join(folder, path.basename(sample.video))
    const exists = yield* fs.exists(reference).pipe(Effect.orElseSucceed(() => false))
    if (!exists) {
      return yield* InputError.about(
        sample.video,
        `no reference for it: ${reference} does not exist (--reference pairs files by name)`
      )
    }
    paired.push({ ...sample, reference })
  }
  return paired
})

/**
 * The record given to the Evaluator for one input: `video` and `reference` as `Video` values with
 * the decode options, and every other field as it was.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toSample = (input: InputSample, decode: DecodeOptions): Record<string, unknown> => {
  const sample: Record<string, unknown> = { ...input.fields, video: Video.file(input.video, decode) }
  if (input.reference !== undefined) sample.reference = Video.file(input.reference, decode)
  return sample
}
