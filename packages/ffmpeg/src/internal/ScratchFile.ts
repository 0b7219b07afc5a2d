/**
 * Scratch files owned by a Scope: ffmpeg writes raw frames to one (on tmpfs when there is one),
 * the decoder reads it into the tensor with a few large reads off the main thread. On Linux the
 * file is unlinked as soon as it is opened and ffmpeg writes through `/proc/<pid>/fd/<fd>`, so
 * nothing is left behind even if the process is killed.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Effect } from "effect"
import type { Scope } from "effect"

/**
 * `/dev/shm` (memory-backed, so the frames never touch a disk) when it is a writable folder,
 * else the OS temp folder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultDirUnsafe = (): string => {
  try {
    Fs.accessSync("/dev/shm", Fs.constants.W_OK)
    if (Fs.statSync("/dev/shm").isDirectory()) return "/dev/shm"
  } catch {
    // no tmpfs here
  }
  return Os.tmpdir()
}

let counter = 0

const freshNameUnsafe = (dir: string, suffix: string) =>
  NodePath.join(dir, `vidpool-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}${suffix}`)

const unlink = (path: string) =>
  Effect.callback<void>((resume) => {
    Fs.unlink(path, () => resume(Effect.void))
  })

const close = (fd: number) =>
  Effect.callback<void>((resume) => {
    Fs.close(fd, () => resume(Effect.void))
  })

/** Whether another process (our ffmpeg) can reopen our descriptors through /proc. */
const procFds = (() => {
  try {
    return Fs.statSync(`/proc/${process.pid}/fd`).isDirectory()
  } catch {
    return false
  }
})()

/**
 * One scratch file: `fd` is open for reading and writing; ffmpeg writes to `path`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scratch {
  readonly fd: number
  /** `/proc/<pid>/fd/<fd>` for an unlinked file on Linux, else the file's name. */
  readonly path: string
  /** The name to remove when the file is closed, when it still has one. */
  readonly name: string | undefined
}

/**
 * Scratch files reused from one decode to the next, so ffmpeg overwrites pages tmpfs already holds
 * (run it with `-truncate 0`) instead of allocating and zeroing them for every video.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pool {
  /** A file for one decode; it may hold stale bytes from a previous one. Returned with the scope. */
  readonly acquire: Effect.Effect<Scratch, NodeJS.ErrnoException, Scope.Scope>
}

const create = (dir: string, suffix: string): Effect.Effect<Scratch, NodeJS.ErrnoException> =>
  Effect.callback((resume) => {
    const name = freshNameUnsafe(dir, suffix)
    Fs.open(name, "w+", 0o600, (error, fd) => {
      if (error !== null) return resume(Effect.fail(error))
      if (!procFds) return resume(Effect.succeed({ fd, path: name, name }))
      Fs.unlink(name, () => resume(Effect.succeed({ fd, path: `/proc/${process.pid}/fd/${fd}`, name: undefined })))
    })
  })

const discard = (scratch: Scratch) =>
  Effect.andThen(close(scratch.fd), scratch.name === undefined ? Effect.void : unlink(scratch.name))

/**
 * A pool of scratch files in `dir`, all closed (and so removed) when the scope closes. A file over
 * `keepBytes` is dropped after its decode instead of being kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePool = (dir: string, suffix: string, keepBytes: number): Effect.Effect<Pool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const free: Array<Scratch> = []
    let open = true
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        open = false
        return Effect.forEach(free.splice(0), discard, { discard: true })
      })
    )
    const release = (scratch: Scratch) =>
      Effect.flatMap(size(scratch.fd), (bytes) => {
        if (open && bytes <= keepBytes) {
          free.push(scratch)
          return Effect.void
        }
        return discard(scratch)
      })
    return {
      acquire: Effect.acquireRelease(
        Effect.suspend(() => {
          const reused = free.pop()
          return reused !== undefined ? Effect.succeed(reused) : create(dir, suffix)
        }),
        release
      )
    }
  })

/**
 * A small file holding `text`, for ffmpeg to read at the returned path. On Linux it is unlinked
 * before ffmpeg starts and read through `/proc/<pid>/fd/<fd>`, so a killed process leaves nothing;
 * elsewhere it is a named file removed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeText = (
  dir: string,
  suffix: string,
  text: string
): Effect.Effect<string, NodeJS.ErrnoException, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.flatMap(create(dir, suffix), (scratch) =>
      Effect.callback<Scratch, NodeJS.ErrnoException>((resume) => {
        Fs.write(scratch.fd, text, 0, "utf8", (error) => {
          if (error === null) return resume(Effect.succeed(scratch))
          resume(Effect.andThen(discard(scratch), Effect.fail(error)))
        })
      })),
    discard
  ).pipe(Effect.map((scratch) => scratch.path))

/**
 * The size in bytes of the open file `fd`; 0 if it cannot be read.
 *
 * @since 0.1.0
 * @category io
 */
export const size = (fd: number): Effect.Effect<number> =>
  Effect.callback((resume) => {
    Fs.fstat(fd, (error, stats) => resume(Effect.succeed(error === null ? stats.size : 0)))
  })

const readFully = (
  fd: number,
  target: Uint8Array,
  offset: number,
  length: number,
  position: number
): Effect.Effect<void, NodeJS.ErrnoException> =>
  Effect.callback((resume) => {
    const step = (done: number): void => {
      if (done === length) return resume(Effect.void)
      // One read moves at most ~2 GiB on Linux; loop for the rest.
      const chunk = Math.min(length - done, 0x7ffff000)
      Fs.read(fd, target, offset + done, chunk, position + done, (error, bytes) => {
        if (error !== null) return resume(Effect.fail(error))
        if (bytes === 0) {
          const eof: NodeJS.ErrnoException = new Error(`unexpected end of file at byte ${position + done}`)
          eof.code = "EOF"
          return resume(Effect.fail(eof))
        }
        step(done + bytes)
      })
    }
    step(0)
  })

/** Pieces of at least this size are read in parallel by libuv's threads. */
const pieceBytes = 4 * 1024 * 1024
const maxPieces = 4

/**
 * Reads runs of `[firstBlock, blockCount]` blocks of `blockBytes` from the open file `fd` into
 * `target`, back to back, with positioned reads done by libuv's thread pool (the main thread only
 * starts them); a large run is split into up to 4 pieces read at the same time.
 *
 * @since 0.1.0
 * @category io
 */
export const readBlocks = (
  fd: number,
  target: Uint8Array,
  blockBytes: number,
  blocks: ReadonlyArray<readonly [number, number]>
): Effect.Effect<void, NodeJS.ErrnoException> =>
  Effect.suspend(() => {
    const reads: Array<Effect.Effect<void, NodeJS.ErrnoException>> = []
    let offset = 0
    for (const [first, count] of blocks) {
      const length = count * blockBytes
      const pieces = Math.max(1, Math.min(maxPieces, Math.floor(length / pieceBytes)))
      const step = Math.ceil(length / pieces)
      for (let done = 0; done < length; done += step) {
        reads.push(readFully(fd, target, offset + done, Math.min(step, length - done), first * blockBytes + done))
      }
      offset += length
    }
    return Effect.all(reads, { concurrency: maxPieces, discard: true })
  })
