/**
 * Refuses an output path that would write over something that is not one of vidpool's outputs:
 * an input (video, reference, manifest), any video or image, or a file of other content.
 *
 * @since 0.3.0
 */
import { Effect, FileSystem, Option } from "effect"
import { DecodePlan } from "@vidpool/pool"
import type * as Format from "../Format.ts"
import * as HtmlReport from "./HtmlReport.ts"
import { InputError } from "../InputError.ts"
import { videoExtensions } from "../Inputs.ts"

/**
 * How each format's output opens: an existing file that does not open so was not written by
 * vidpool in that format. The opening is enough whatever the file's size (only its first 64 KiB
 * are read); an empty file may be written over.
 *
 * @since 0.3.0
 * @category constants
 */
export const openings: Readonly<Record<Format.Format, RegExp>> = {
  table: /^#\s+video\b/,
  json: /^\{\n {2}"complete": (true|false),/,
  jsonl: /^\{"type":"(settings|sample|run)"/,
  csv: /^index,video[,\r\n]/
}

const headBytes = 64 * 1024

const fileId = (info: FileSystem.File.Info): string | undefined =>
  Option.isSome(info.ino) ? `${info.dev}:${info.ino.value}` : undefined

const extensionOf = (file: string): string => {
  const name = file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1)
  const dot = name.lastIndexOf(".")
  return dot > 0 ? name.slice(dot).toLowerCase() : ""
}

/** The first of `sources` that is the file `id` (the same device and inode: a link to it too). */
const sameAs = Effect.fnUntraced(function*(id: string, sources: ReadonlyArray<string>) {
  const fs = yield* FileSystem.FileSystem
  const ids = yield* Effect.forEach(
    sources,
    (source) => fs.stat(source).pipe(Effect.map(fileId), Effect.orElseSucceed(() => undefined)),
    { concurrency: 16 }
  )
  const at = ids.indexOf(id)
  return at < 0 ? undefined : sources[at]
})

/** The first bytes of a regular file, as text. */
const head = (file: string) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const handle = yield* fs.open(file, { flag: "r" })
    const bytes = yield* handle.readAlloc(headBytes)
    return Option.match(bytes, { onNone: () => "", onSome: (b) => new TextDecoder().decode(b) })
  }))

/**
 * Why `out` must not be written over, or `undefined` when it may be: missing, a folder
 * (`Output.prepare` says why that cannot be one), empty, or vidpool's own output in `format`.
 * `sources` are the run's inputs, references and manifests.
 */
const problem = Effect.fnUntraced(function*(out: string, format: Format.Format | "html", sources: ReadonlyArray<string>) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(out).pipe(Effect.option)
  if (Option.isNone(info) || info.value.type === "Directory") return undefined
  // The output is renamed onto its path at the end: that would replace a device or a pipe.
  if (info.value.type !== "File") return `it is not a regular file (${info.value.type}; without --out the results go to stdout)`
  const id = fileId(info.value)
  const input = id === undefined ? undefined : yield* sameAs(id, sources)
  if (input !== undefined) return input === out ? "it is an input of this run" : `it is the same file as the input ${input}`
  const extension = extensionOf(out)
  if (videoExtensions.includes(extension) || DecodePlan.imageFamilies[extension] !== undefined) {
    return `it is a video or image (${extension}; a pattern after -o gives --out its first match)`
  }
  if (Number(info.value.size) === 0) return undefined
  const text = yield* head(out).pipe(Effect.orElseSucceed(() => ""))
  return format === "html"
    ? HtmlReport.opening.test(text) ? undefined : "it is not a report of vidpool's"
    : openings[format].test(text) ? undefined : `it is not vidpool's ${format} output`
})

/**
 * Checks that the run may write `out` in `format` (`"html"`: the report of `--report`): an
 * existing file there must be a regular file, empty or vidpool's own output in that format, and neither a video or image nor one of `sources` (the
 * inputs, references and manifests; compared by device and inode, so a link to one is one).
 * Fails with an `InputError` naming the file and why, before anything is written or decoded.
 *
 * @example
 * ```ts
 * import * as OutputGuard from "./OutputGuard.ts"
 *
 * // fails: clips/a.mp4: --out would write over it: it is an input of this run; ...
 * OutputGuard.check("clips/a.mp4", "table", ["clips/a.mp4"])
 * ```
 *
 * @since 0.3.0
 * @category validation
 */
export const check = Effect.fnUntraced(function*(
  out: string,
  format: Format.Format | "html",
  sources: ReadonlyArray<string>,
  flag: "--out" | "--report" = "--out"
) {
  const why = yield* problem(out, format, sources)
  if (why === undefined) return
  return yield* InputError.about(out, `${flag} would write over it: ${why}; give ${flag} a new file (or one of vidpool's results)`)
})

/**
 * The files a run reads: the command's arguments (files, manifests) and every sample's video and
 * reference.
 *
 * @since 0.3.0
 * @category constructors
 */
export const sourcesOf = (
  args: ReadonlyArray<string>,
  inputs: ReadonlyArray<{ readonly video: string; readonly reference?: string | undefined }>
): Array<string> => {
  const all = new Set(args)
  for (const input of inputs) {
    all.add(input.video)
    if (input.reference !== undefined) all.add(input.reference)
  }
  return [...all]
}
