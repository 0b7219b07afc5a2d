/**
 * What every decoder (and `probe`) checks of a path before FFmpeg opens it: a regular file, or a
 * folder of images that are regular files, readable, each answering within `openTimeout`.
 *
 * @since 0.3.0
 */
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import { Duration, Effect } from "effect"
import { DecodeError, type FileKind, InvalidData, NotFound, NotRegularFile, PermissionDenied, type Reason, Timeout } from "./DecodeError.ts"
import { errnoReason, imagesOf, noImages } from "./DecodePlan.ts"

/**
 * How long opening an input may take by default, in milliseconds: 30 s (the `openTimeout`
 * decode option). A local file answers at once; a file on a stalled network file system never
 * does.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultOpenTimeout = 30_000

/**
 * What a checked path is: a video file, or a folder and its images in decode order.
 *
 * @since 0.3.0
 * @category models
 */
export type Checked =
  | { readonly _tag: "File" }
  | { readonly _tag: "Folder"; readonly images: ReadonlyArray<string> }

/**
 * What the caller asks for: a video file (`Video.file`), a folder of images (`Video.folder`),
 * or whichever the path is (`probe`).
 *
 * @since 0.3.0
 * @category models
 */
export type Expected = "file" | "folder" | "either"

/**
 * What the file system says a path is, when it is not a regular file (`undefined` when it is).
 *
 * @since 0.3.0
 * @category kinds
 */
export const kindOf = (stats: Fs.Stats): FileKind | undefined =>
  stats.isFile()
    ? undefined
    : stats.isDirectory()
    ? "folder"
    : stats.isFIFO()
    ? "FIFO"
    : stats.isSocket()
    ? "socket"
    : stats.isCharacterDevice()
    ? "character device"
    : stats.isBlockDevice()
    ? "block device"
    : "special file"

/**
 * The reason a failed file system call gives a decode (see `DecodePlan.errnoReason`), keeping
 * the error as the cause of an `InvalidData`.
 *
 * @since 0.3.0
 * @category kinds
 */
export const reasonOfErrno = (error: NodeJS.ErrnoException): Reason => {
  const reason = errnoReason(error)
  switch (reason._tag) {
    case "NotFound":
      return new NotFound({})
    case "PermissionDenied":
      return new PermissionDenied({})
    case "NotRegularFile":
      return new NotRegularFile({ kind: reason.kind })
    case "InvalidData":
      return new InvalidData({ detail: reason.detail, cause: error })
  }
}

/**
 * The file system calls of a check. Each one that is interrupted leaves its call to finish (a
 * call in Node's thread pool cannot be stopped) and frees what it opened when it does.
 *
 * @since 0.3.0
 * @category models
 */
export interface FileAccess {
  readonly stat: (path: string) => Effect.Effect<Fs.Stats, NodeJS.ErrnoException>
  readonly readDirectory: (path: string) => Effect.Effect<ReadonlyArray<string>, NodeJS.ErrnoException>
  /**
   * Opens the file without blocking (a FIFO would wait for a writer), checks what the descriptor
   * is (the path may have changed since it was looked at) and, for a regular file, reads its first
   * byte; then closes it. Succeeds with the kind when it is not a regular file.
   */
  readonly readStart: (path: string) => Effect.Effect<FileKind | undefined, NodeJS.ErrnoException>
}

const closeQuietly = (fd: number) => Fs.close(fd, () => {})

/**
 * The file system calls of a check, made with `node:fs`.
 *
 * @since 0.3.0
 * @category file access
 */
export const nodeAccess: FileAccess = {
  stat: (path) =>
    Effect.callback((resume) => {
      Fs.stat(path, (error, stats) => resume(error === null ? Effect.succeed(stats) : Effect.fail(error)))
    }),
  readDirectory: (path) =>
    Effect.callback((resume) => {
      Fs.readdir(path, (error, names) => resume(error === null ? Effect.succeed(names) : Effect.fail(error)))
    }),
  readStart: (path) =>
    Effect.callback((resume) => {
      let abandoned = false
      const answer = (result: Effect.Effect<FileKind | undefined, NodeJS.ErrnoException>) => {
        if (!abandoned) resume(result)
      }
      Fs.open(path, Fs.constants.O_RDONLY | Fs.constants.O_NONBLOCK, (error, fd) => {
        if (error !== null) return answer(Effect.fail(error))
        const done = (result: Effect.Effect<FileKind | undefined, NodeJS.ErrnoException>) =>
          Fs.close(fd, () => answer(result))
        if (abandoned) return closeQuietly(fd)
        Fs.fstat(fd, (error, stats) => {
          if (error !== null) return done(Effect.fail(error))
          const kind = kindOf(stats)
          if (kind !== undefined || abandoned) return done(Effect.succeed(kind))
          Fs.read(fd, Buffer.alloc(1), 0, 1, 0, (error) => done(error === null ? Effect.succeed(undefined) : Effect.fail(error)))
        })
      })
      return Effect.sync(() => {
        abandoned = true
      })
    })
}

/**
 * A check over the given file system calls (`check` is this over `nodeAccess`).
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeCheck = (access: FileAccess) =>
(
  path: string,
  expected: Expected,
  openTimeout: number = defaultOpenTimeout
): Effect.Effect<Checked, DecodeError> => {
  const fail = (reason: Reason) => Effect.fail(new DecodeError({ path, reason }))
  /** One call within the bound; a call that fails is the reason its error gives. */
  const bounded = <A>(call: Effect.Effect<A, NodeJS.ErrnoException>, image?: string): Effect.Effect<A, DecodeError> =>
    call.pipe(
      Effect.catch((error) => {
        const reason = reasonOfErrno(error)
        return fail(reason._tag === "NotRegularFile" && image !== undefined ? new NotRegularFile({ kind: reason.kind, image }) : reason)
      }),
      Effect.timeoutOrElse({
        duration: Duration.millis(openTimeout),
        orElse: () => fail(new Timeout({ millis: openTimeout, during: "open" }))
      })
    )
  const notRegular = (kind: FileKind, image: string | undefined) =>
    fail(new NotRegularFile({ kind, ...(image !== undefined ? { image } : {}) }))
  /**
   * The first byte of a file already seen to be a regular file (a device is never opened: opening
   * some has effects), or why it cannot be read.
   */
  const start = (file: string, image?: string) =>
    bounded(access.readStart(file), image).pipe(
      Effect.flatMap((kind) => kind === undefined ? Effect.void : notRegular(kind, image))
    )
  const image = (name: string) => {
    const file = NodePath.join(path, name)
    return bounded(access.stat(file), name).pipe(
      Effect.flatMap((stats) => {
        const kind = kindOf(stats)
        return kind === undefined ? start(file, name) : notRegular(kind, name)
      })
    )
  }
  return Effect.gen(function*() {
    const stats = yield* bounded(access.stat(path))
    const kind = kindOf(stats)
    if (kind !== "folder") {
      if (kind !== undefined) return yield* fail(new NotRegularFile({ kind }))
      if (expected === "folder") {
        return yield* fail(new InvalidData({ detail: "not a folder of images but a file (decode a video file with Video.file)" }))
      }
      yield* start(path)
      return { _tag: "File" } as const
    }
    if (expected === "file") return yield* fail(new NotRegularFile({ kind: "folder" }))
    const names = imagesOf(yield* bounded(access.readDirectory(path)))
    if (names.length === 0) return yield* fail(new InvalidData({ detail: noImages }))
    yield* Effect.forEach(names, image, { concurrency: 4, discard: true })
    return { _tag: "Folder", images: names.map((name) => NodePath.join(path, name)) } as const
  })
}

/**
 * Checks `path` before it is opened: a regular file (or, for a folder, every image) that can be
 * read and gives its first byte within `openTimeout` milliseconds. Fails with the `DecodeError`
 * every decoder gives for it: `NotFound`, `PermissionDenied`, `NotRegularFile` (a FIFO, socket,
 * device, symbolic link loop, or a folder where a file is expected), `InvalidData` (no images, a
 * file where a folder is expected), `Timeout` with `during: "open"`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { InputCheck } from "@vidpool/pool"
 *
 * const program = InputCheck.check("clips/a.mp4", "file").pipe(
 *   Effect.catchReason("DecodeError", "NotRegularFile", (reason) => Effect.log(`skipped: a ${reason.kind}`))
 * )
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const check = makeCheck(nodeAccess)
