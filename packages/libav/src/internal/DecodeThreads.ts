/**
 * The decode worker threads: each runs node-av in its own thread and decodes one video at a time.
 * A thread is a pooled resource (effect's `Pool`), owned by the layer's scope; a thread that
 * dies is a `ProcessFailed` for its sample and is replaced.
 *
 * @since 0.2.0
 */
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { Data, Deferred, Duration, Effect, Pool, type Scope } from "effect"
import {
  DecodeError,
  InvalidData,
  NotFound,
  PermissionDenied,
  ProcessFailed,
  TooLarge,
  type TensorBuffersShape,
  type Video,
  VideoTensor
} from "@vidpool/pool"
import type { DecodeOptions } from "@vidpool/pool"
import type { DecodeWorkerData } from "./DecodeWorkerMain.ts"
import type { DecodeFailure, DecodeRequest, DecodeSuccess, WorkerMessage } from "./Protocol.ts"
import * as Slab from "./Slab.ts"

import { LibavUnavailable } from "../LibavUnavailable.ts"

export { LibavUnavailable }

const require = createRequire(import.meta.url)

/**
 * The compiled entry of a decode thread, resolved through the package's own `exports` (so the
 * lookup works from `dist/`, from a bundle that inlined this module, and from the sources under a
 * test runner).
 *
 * @since 0.2.0
 * @category spawning
 */
export const workerEntry = (): string => require.resolve("@vidpool/libav/decode-worker")

/**
 * One decode thread.
 *
 * @since 0.2.0
 * @category models
 */
export interface DecodeThread {
  /** The FFmpeg version of the addon the thread loaded. */
  readonly ffmpeg: string
  /**
   * Decodes one video on this thread (a folder's `images` listed and checked by the caller, see
   * `InputCheck`); interruption stops the decode at its next frame.
   */
  readonly decode: (
    video: Video,
    options: DecodeOptions,
    threads: number,
    images?: ReadonlyArray<string>
  ) => Effect.Effect<VideoTensor, DecodeError>
  /** Whether the thread died (it is then replaced). */
  readonly dead: () => boolean
  /**
   * Ends the thread: it leaves at its next frame (or at once when idle); a decode running on it
   * fails with `ProcessFailed`.
   */
  readonly terminate: Effect.Effect<void>
}

class ThreadDied extends Data.TaggedError("ThreadDied")<{ readonly detail: string }> {}

const reasonOf = (failure: DecodeFailure): DecodeError["reason"] => {
  switch (failure._tag) {
    case "NotFound":
      return new NotFound({})
    case "PermissionDenied":
      return new PermissionDenied({})
    case "InvalidData":
      return new InvalidData({ detail: failure.detail })
    case "TooLarge":
      return new TooLarge({ bytes: failure.bytes, limit: failure.limit })
  }
}

/** How long an interrupted decode may take to notice its cancel flag before its thread is ended. */
const cancelGrace = Duration.millis(1000)

/**
 * Who holds each slab slot now (a token per tensor), so that a release that comes late does
 * nothing: `lend` marks a tensor's data as the slot's memory in `buffers` (the decoder's free
 * list), and returns its release.
 */
const makeLender = (states: Int32Array, buffers: TensorBuffersShape) => {
  const holders: Array<object | undefined> = []
  return (data: Uint8Array | Float32Array, slot: number): () => void => {
    const holder = {}
    holders[slot] = holder
    const release = () => {
      if (holders[slot] !== holder) return
      holders[slot] = undefined
      Atomics.store(states, slot, 0)
    }
    buffers.lendUnsafe(data, release)
    return release
  }
}

/** A started decode thread as `spawn` drives it: its messages routed by request id, its death and its end. */
interface Thread {
  readonly worker: Worker
  /** The answer of each request waiting for one, by id (a thread's death answers them all). */
  readonly waiting: Map<number, (message: WorkerMessage | ThreadDied) => void>
  /** Why the thread died, once it did. */
  readonly died: () => string | undefined
  readonly markDead: (detail: string) => void
  /** The cell a running decode checks between frames (cleared before each request). */
  readonly cancelCell: Int32Array
  readonly terminate: Effect.Effect<void>
}

/**
 * Starts the worker of a decode thread, ended when the current Scope closes, and waits for it to
 * load node-av (its FFmpeg version).
 */
const startThread = (slots: SharedArrayBuffer, slabBytes: number) =>
  Effect.gen(function*() {
    const control = new SharedArrayBuffer(4)
    // The thread runs one decode at a time, and a decode's interruption waits for its answer, so
    // one cancel cell serves every request (cleared before each).
    const cancel = new SharedArrayBuffer(4)
    const workerData: DecodeWorkerData = { control, cancel, slots, slabBytes }
    const worker = new Worker(workerEntry(), { workerData })
    const exited = Deferred.makeUnsafe<void>()
    worker.once("exit", () => Deferred.doneUnsafe(exited, Effect.void))
    // Ending a thread: ask it to leave (it checks between frames, and when idle), and end it by
    // force only if it does not within the grace period.
    const terminate = Effect.suspend(() => {
      Atomics.store(new Int32Array(control), 0, 1)
      worker.postMessage("exit")
      return Deferred.await(exited).pipe(
        Effect.timeoutOrElse({ duration: cancelGrace, orElse: () => Effect.promise(() => worker.terminate()) }),
        Effect.asVoid
      )
    })
    yield* Effect.addFinalizer(() => terminate)
    let died: string | undefined
    const waiting = new Map<number, (message: WorkerMessage | ThreadDied) => void>()
    const ready = yield* Deferred.make<string, LibavUnavailable>()
    const onMessage = (message: WorkerMessage) => {
      switch (message._tag) {
        case "ready":
          Deferred.doneUnsafe(ready, Effect.succeed(message.ffmpeg))
          break
        case "unavailable":
          Deferred.doneUnsafe(ready, Effect.fail(new LibavUnavailable({ detail: message.detail })))
          break
        case "done":
          waiting.get(message.id)?.(message)
          break
      }
    }
    const onGone = (detail: string) => {
      died ??= detail
      Deferred.doneUnsafe(ready, Effect.fail(new LibavUnavailable({ detail })))
      for (const resume of waiting.values()) resume(new ThreadDied({ detail }))
      waiting.clear()
    }
    worker.on("message", onMessage)
    worker.on("error", (error) => onGone(`the decode thread failed: ${error.message}`))
    worker.on("exit", (code) => onGone(`the decode thread exited with code ${code}`))
    const ffmpeg = yield* Deferred.await(ready)
    const thread: Thread = {
      worker,
      waiting,
      died: () => died,
      markDead: (detail) => {
        died ??= detail
      },
      cancelCell: new Int32Array(cancel),
      terminate
    }
    return { ffmpeg, thread }
  })

/**
 * A request's answer from `thread`: the tensor (its slab memory lent through `lend`), the
 * decode's failure, or "cancelled". Interrupted, the request asks the thread to stop at its next
 * frame, and ends the thread if it does not within the grace period; a tensor nobody will
 * receive goes back at once.
 */
const requestUnsafe = (
  thread: Thread,
  request: DecodeRequest,
  buffers: TensorBuffersShape,
  lend: (data: Uint8Array | Float32Array, slot: number) => () => void
) =>
  Effect.callback<DecodeSuccess | DecodeFailure | "cancelled", ThreadDied>((resume) => {
    const { id, spare } = request
    // Made only when the decode is interrupted: completed by its answer.
    let settled: Deferred.Deferred<void> | undefined
    let answered = false
    let interrupted = false
    thread.waiting.set(id, (message) => {
      thread.waiting.delete(id)
      answered = true
      if (settled !== undefined) Deferred.doneUnsafe(settled, Effect.void)
      if (message instanceof ThreadDied) resume(Effect.fail(message))
      else if (message._tag === "done") {
        if (message.spare !== undefined) buffers.giveUnsafe(new Uint8Array(message.spare))
        const result = message.result
        if (typeof result === "object" && "data" in result && result.slot !== undefined) {
          const release = lend(result.data, result.slot)
          if (interrupted) release()
        }
        resume(Effect.succeed(result))
      }
    })
    const died = thread.died()
    if (died !== undefined) {
      thread.waiting.delete(id)
      return resume(Effect.fail(new ThreadDied({ detail: died })))
    }
    Atomics.store(thread.cancelCell, 0, 0)
    thread.worker.postMessage(request, spare === undefined ? [] : [spare])
    return Effect.suspend(() => {
      interrupted = true
      if (answered) return Effect.void
      Atomics.store(thread.cancelCell, 0, 1)
      settled = Deferred.makeUnsafe<void>()
      return Deferred.await(settled).pipe(
        Effect.timeoutOrElse({
          duration: cancelGrace,
          orElse: () =>
            Effect.suspend(() => {
              thread.markDead("the decode thread did not stop when asked")
              return thread.terminate
            })
        })
      )
    })
  })

/**
 * Starts a decode thread, owned by the current Scope (closing it ends the thread), and waits for
 * it to load node-av. Its tensors live in a slab of at most `slabBytes` (see `Slab`), lent
 * through `buffers`, the decoder's free list, which also gives the thread spare memory.
 *
 * @since 0.2.0
 * @category spawning
 */
export const spawn = (
  slabBytes: number,
  buffers: TensorBuffersShape
): Effect.Effect<DecodeThread, LibavUnavailable, Scope.Scope> => Effect.gen(function*() {
  const slots = new SharedArrayBuffer(4 * Slab.maxSlots)
  const lend = makeLender(new Int32Array(slots), buffers)
  const { ffmpeg, thread } = yield* startThread(slots, slabBytes)
  let next = 0
  const decode = (
    video: Video,
    options: DecodeOptions,
    threads: number,
    images?: ReadonlyArray<string>
  ): Effect.Effect<VideoTensor, DecodeError> => {
    const path = video.path
    const fail = (reason: DecodeError["reason"]) => Effect.fail(new DecodeError({ path, reason }))
    // Memory a consumer gave back goes to the thread, which decodes into it if it fits.
    const spare = buffers.takeSpareUnsafe()
    const request: DecodeRequest = { id: next++, path, source: video.source, images, options, threads, spare }
    return requestUnsafe(thread, request, buffers, lend).pipe(
      Effect.catchTag("ThreadDied", (error) =>
        fail(new ProcessFailed({ exitCode: null, stderr: `the decode thread stopped: ${error.detail}`, cause: error }))),
      Effect.flatMap((result) => {
        if (result === "cancelled") return Effect.interrupt
        if ("_tag" in result) return fail(reasonOf(result))
        const { slot: _slot, ...tensor } = result
        return Effect.succeed(VideoTensor.makeUnsafe(tensor))
      })
    )
  }
  return { ffmpeg, decode, dead: () => thread.died() !== undefined, terminate: thread.terminate }
})

/**
 * A pool of up to `size` decode threads (each with a slab of at most `slabBytes`), started on demand (the first one at once, so that a
 * missing node-av fails the pool's construction), owned by the current Scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makePool = (
  size: number,
  slabBytes: number,
  buffers: TensorBuffersShape
): Effect.Effect<Pool.Pool<DecodeThread, LibavUnavailable>, LibavUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* Pool.makeWithTTL({ acquire: spawn(slabBytes, buffers), min: 1, max: size, timeToLive: Duration.minutes(1) })
    // The first thread proves that node-av loads.
    yield* Effect.scoped(Pool.get(pool))
    return pool
  })

