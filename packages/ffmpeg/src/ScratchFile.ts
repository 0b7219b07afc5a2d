/**
 * Scratch files owned by a Scope: ffmpeg writes raw frames to one (on tmpfs when there is one),
 * the decoder reads it into the tensor with a few large reads off the main thread, and the scope
 * removes it.
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
export const defaultDir = (): string => {
  try {
    Fs.accessSync("/dev/shm", Fs.constants.W_OK)
    if (Fs.statSync("/dev/shm").isDirectory()) return "/dev/shm"
  } catch {
    // no tmpfs here
  }
  return Os.tmpdir()
}

let counter = 0

const unlink = (path: string) =>
  Effect.callback<void>((resume) => {
    Fs.unlink(path, () => resume(Effect.void))
  })

/**
 * A fresh path in `dir`, removed (if anything created it) when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dir: string, suffix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      NodePath.join(dir, `vidpool-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}${suffix}`)
    ),
    unlink
  )

/**
 * Scratch files reused from one decode to the next, so ffmpeg overwrites pages tmpfs already holds
 * (run it with `-truncate 0`) instead of allocating and zeroing them for every video.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pool {
  /** A file for one decode; it may hold stale bytes from a previous one. Returned with the scope. */
  readonly acquire: Effect.Effect<string, never, Scope.Scope>
}

/**
 * A pool of scratch files in `dir`, all removed when the scope closes. A file over `keepBytes`
 * is removed after its decode instead of being kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePool = (dir: string, suffix: string, keepBytes: number): Effect.Effect<Pool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const free: Array<string> = []
    let open = true
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        open = false
        return Effect.forEach(free.splice(0), unlink, { discard: true })
      })
    )
    const fresh = () =>
      NodePath.join(dir, `vidpool-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}${suffix}`)
    const release = (path: string) =>
      Effect.flatMap(size(path), (bytes) => {
        if (open && bytes <= keepBytes) {
          free.push(path)
          return Effect.void
        }
        return unlink(path)
      })
    return {
      acquire: Effect.acquireRelease(Effect.sync(() => free.pop() ?? fresh()), release)
    }
  })

/**
 * Writes `text` to `path`.
 *
 * @since 0.1.0
 * @category io
 */
export const writeText = (path: string, text: string): Effect.Effect<void, NodeJS.ErrnoException> =>
  Effect.callback((resume) => {
    Fs.writeFile(path, text, (error) => resume(error === null ? Effect.void : Effect.fail(error)))
  })

/**
 * The size of the file at `path` in bytes; 0 when it does not exist.
 *
 * @since 0.1.0
 * @category io
 */
export const size = (path: string): Effect.Effect<number> =>
  Effect.callback((resume) => {
    Fs.stat(path, (error, stats) => resume(Effect.succeed(error === null ? stats.size : 0)))
  })

/** Opens `path` for reading, closing it with the scope. */
const open = (path: string): Effect.Effect<number, NodeJS.ErrnoException, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<number, NodeJS.ErrnoException>((resume) => {
      Fs.open(path, "r", (error, fd) => resume(error === null ? Effect.succeed(fd) : Effect.fail(error)))
    }),
    (fd) => Effect.callback<void>((resume) => Fs.close(fd, () => resume(Effect.void)))
  )

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
 * Reads runs of `[firstBlock, blockCount]` blocks of `blockBytes` from the file into `target`,
 * back to back. The reads are done by libuv's thread pool (the main thread only starts them); a
 * large run is split into up to 4 pieces read at the same time.
 *
 * @since 0.1.0
 * @category io
 */
export const readBlocks = (
  path: string,
  target: Uint8Array,
  blockBytes: number,
  blocks: ReadonlyArray<readonly [number, number]>
): Effect.Effect<void, NodeJS.ErrnoException> =>
  Effect.scoped(Effect.gen(function*() {
    const fd = yield* open(path)
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
    yield* Effect.all(reads, { concurrency: maxPieces, discard: true })
  }))
