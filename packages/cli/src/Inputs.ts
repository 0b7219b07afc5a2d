/**
 * Turns the command's inputs (video files, folders of videos, `.jsonl` manifests) into the list
 * of samples to evaluate, checking every path before any video is decoded.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Path } from "effect"
import type { PlatformError } from "effect"
import { DecodePlan, type DecodeOptions, describeReason, type FileKind, InputCheck, NotRegularFile, Video } from "@vidpool/pool"
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
 * and the other fields of its manifest line (a prompt, labels...) passed through untouched. A
 * path that names a folder of images is a video made of them (`Video.folder`).
 *
 * @since 0.1.0
 * @category models
 */
export interface InputSample {
  readonly video: string
  readonly reference?: string
  readonly fields: Readonly<Record<string, unknown>>
  /** Which of `video` and `reference` are folders of images. */
  readonly folders?: ReadonlyArray<"video" | "reference">
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CollectOptions {
  /** A folder holding, for each video, the reference of the same file name. */
  readonly reference?: string | undefined
  /**
   * `"record"` (default): a path that cannot be read (missing, unreadable, a folder with no
   * images named like a video) stays a sample, whose decode records the error while the others
   * are scored. `"fail"`: every such path is named in one error, before anything runs.
   */
  readonly onError?: "record" | "fail" | undefined
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

/**
 * Why a path given as a video cannot be used, in the words the decoders use for it (so a row
 * recorded with `--on-error record`, the line of `--on-error fail` and `probe` say the same).
 */
const describeVideoPathError = (error: PlatformError.PlatformError): string => {
  const cause = error.reason.cause
  const errno = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause as NodeJS.ErrnoException
    : undefined
  return errno !== undefined ? describeReason(InputCheck.reasonOfErrno(errno)) : describeFsError(error)
}

/** What a path is when it is neither a regular file nor a folder (see `InputCheck.kindOf`). */
const specialKinds: Partial<Record<FileSystem.File.Type, FileKind>> = {
  FIFO: "FIFO",
  Socket: "socket",
  CharacterDevice: "character device",
  BlockDevice: "block device",
  SymbolicLink: "special file",
  Unknown: "special file"
}

const statOrFail = (fs: FileSystem.FileSystem, path: string) =>
  fs.stat(path).pipe(Effect.mapError((error) => InputError.about(path, describeFsError(error))))

/** What a path names: a file, a folder of videos, a folder of images, or why it cannot be used. */
type Found =
  | { readonly _tag: "file" }
  | {
    readonly _tag: "videos"
    /** Every entry named like a video but a folder, in name order. */
    readonly videos: ReadonlyArray<string>
    /** Those of them that cannot be decoded, and why (they stay samples: their decode says it). */
    readonly unusable: ReadonlyArray<{ readonly path: string; readonly detail: string }>
  }
  | { readonly _tag: "images" }
  | { readonly _tag: "unusable"; readonly detail: string; readonly folder: boolean }

/**
 * What a path is, looked at without opening it (a FIFO would block the run, opening a device can
 * have effects): a readable file, a folder, or why a decoder would refuse it, in its words.
 */
const look = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* Effect.result(fs.stat(file))
  if (info._tag === "Failure") return { _tag: "unusable", detail: describeVideoPathError(info.failure) } as const
  if (info.success.type === "Directory") return { _tag: "folder" } as const
  const special = specialKinds[info.success.type]
  if (special !== undefined) return { _tag: "unusable", detail: describeReason(new NotRegularFile({ kind: special })) } as const
  const readable = yield* Effect.result(fs.access(file, { readable: true }))
  return readable._tag === "Failure"
    ? { _tag: "unusable", detail: describeVideoPathError(readable.failure) } as const
    : { _tag: "file" } as const
})

const inspect = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const seen = yield* look(file)
  if (seen._tag === "file") return { _tag: "file" } satisfies Found as Found
  if (seen._tag === "unusable") return { _tag: "unusable", detail: seen.detail, folder: false } satisfies Found as Found
  const names = yield* Effect.result(fs.readDirectory(file))
  if (names._tag === "Failure") return { _tag: "unusable", detail: describeVideoPathError(names.failure), folder: true } satisfies Found as Found
  const videos: Array<string> = []
  const unusable: Array<{ readonly path: string; readonly detail: string }> = []
  for (const name of names.success.filter(isVideoName).sort(compareNames)) {
    const entry = path.join(file, name)
    const kind = yield* look(entry)
    if (kind._tag === "folder") continue
    videos.push(entry)
    if (kind._tag === "unusable") unusable.push({ path: entry, detail: kind.detail })
  }
  if (videos.length > 0) return { _tag: "videos", videos, unusable } satisfies Found as Found
  if (DecodePlan.imagesOf(names.success).length > 0) return { _tag: "images" } satisfies Found as Found
  return {
    _tag: "unusable",
    folder: true,
    detail: `no videos in this folder (looked for ${videoExtensions.join(" ")}), and no images (png, jpg, jpeg, bmp, webp)`
  } satisfies Found as Found
})

/** The bad inputs of a run with `onError: "fail"`, named together once every input is read. */
const gather = (problems: ReadonlyArray<string>) =>
  problems.length === 0
    ? Effect.void
    : Effect.fail(
      problems.length === 1
        ? InputError.usage(problems[0])
        : InputError.usage(`${problems.length} inputs cannot be used: ${problems.join("; ")}`)
    )

/**
 * Reads a `.jsonl` manifest: one JSON object per line with a `video` path and optionally a
 * `reference` path (both relative to the manifest's folder unless absolute) and any other fields.
 * Blank lines are skipped; every other problem names its line. A path naming a folder is a video
 * made of its images; one that cannot be read is kept as a sample (its decode records why),
 * unless `onError` is `"fail"`, when every such line is named in one error.
 *
 * @since 0.1.0
 * @category constructors
 */
export const readManifest = Effect.fnUntraced(function*(manifest: string, onError: "record" | "fail" = "record") {
  const samples: Array<InputSample> = []
  const problems: Array<string> = []
  yield* readManifestInto(manifest, onError, samples, problems)
  yield* gather(problems)
  return samples
})

const readManifestInto = Effect.fnUntraced(function*(
  manifest: string,
  onError: "record" | "fail",
  samples: Array<InputSample>,
  problems: Array<string>
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const text = yield* fs.readFileString(manifest).pipe(
    Effect.mapError((error) => InputError.about(manifest, describeFsError(error)))
  )
  const base = path.dirname(manifest)
  const resolve = (p: string) => path.isAbsolute(p) ? p : path.join(base, p)
  const lines = text.split(/\r?\n/)
  const before = samples.length
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
    const paths = { video: resolve(video), reference: reference === undefined ? undefined : resolve(reference) }
    const folders: Array<"video" | "reference"> = []
    for (const key of ["video", "reference"] as const) {
      const file = paths[key]
      if (file === undefined) continue
      const found = yield* inspect(file)
      if (found._tag === "unusable" && onError === "fail") problems.push(`${manifest}:${n}: ${key} ${file}: ${found.detail}`)
      if (found._tag === "videos") {
        const detail = "is a folder of videos; a manifest line names one video (a file, or a folder of images)"
        if (onError === "fail") problems.push(`${manifest}:${n}: ${key} ${file} ${detail}`)
        else return yield* InputError.at(manifest, n, `${key} ${file} ${detail}`)
      }
      if (found._tag === "images" || (found._tag === "unusable" && found.folder)) folders.push(key)
    }
    samples.push({
      video: paths.video,
      ...(paths.reference !== undefined ? { reference: paths.reference } : {}),
      fields,
      ...(folders.length > 0 ? { folders } : {})
    })
  }
  if (samples.length === before) return yield* InputError.about(manifest, "the manifest holds no samples")
})

/**
 * Reads the videos of one folder (not its subfolders), sorted by file name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const readFolder = Effect.fnUntraced(function*(folder: string) {
  const found = yield* inspect(folder)
  if (found._tag === "videos") return found.videos
  return yield* InputError.about(
    folder,
    found._tag === "unusable" ? found.detail : `no videos in this folder (looked for ${videoExtensions.join(" ")})`
  )
})

const compareNames = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/**
 * Collects the samples named by the command's inputs, in order: a file is one sample, a folder
 * gives its videos sorted by name (or, holding images and no videos, is one video made of them),
 * a `.jsonl` file is a manifest. With `reference`, every sample without a reference is paired
 * with the file of the same name in that folder. A path that cannot be read is handled as
 * `onError` says (see `CollectOptions`).
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
  const onError = options.onError ?? "record"
  const samples: Array<InputSample> = []
  const problems: Array<string> = []
  for (const input of inputs) {
    const found = yield* inspect(input)
    const folder = found._tag === "unusable" && found.folder
    if (found._tag === "videos") {
      for (const video of found.videos) samples.push({ video, fields: {} })
      if (onError === "fail") for (const entry of found.unusable) problems.push(`${entry.path}: ${entry.detail}`)
    } else if (found._tag === "images") {
      samples.push({ video: input, fields: {}, folders: ["video"] })
    } else if (found._tag === "file" && input.toLowerCase().endsWith(".jsonl")) {
      yield* readManifestInto(input, onError, samples, problems)
    } else if (found._tag === "file") {
      samples.push({ video: input, fields: {} })
    } else if (folder && !isVideoName(input)) {
      // A folder with neither videos nor images is no sample at all, whatever onError says.
      problems.push(`${input}: ${found.detail}`)
    } else if (onError === "fail") {
      problems.push(`${input}: ${found.detail}`)
    } else {
      // Kept: its decode fails with the reason (NotFound, PermissionDenied, InvalidData), recorded.
      samples.push({ video: input, fields: {}, ...(folder ? { folders: ["video" as const] } : {}) })
    }
  }
  yield* gather(problems)
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
    const isImages = (yield* inspect(reference))._tag === "images"
    paired.push({
      ...sample,
      reference,
      ...(isImages ? { folders: [...(sample.folders ?? []), "reference" as const] } : {})
    })
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
  const video = (key: "video" | "reference", path: string) =>
    input.folders?.includes(key) === true ? Video.folder(path, decode) : Video.file(path, decode)
  const sample: Record<string, unknown> = { ...input.fields, video: video("video", input.video) }
  if (input.reference !== undefined) sample.reference = video("reference", input.reference)
  return sample
}
