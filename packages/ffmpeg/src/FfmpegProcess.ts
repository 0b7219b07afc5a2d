/**
 * The one way vidpool runs ffmpeg: a child process in its own process group, killed with all it
 * started when interrupted, whose outcome (exit code, signal, stderr, stdout) comes back as data.
 *
 * @since 0.1.0
 */
import * as Os from "node:os"
import { NodeChildProcessSpawner, NodeFileSystem, NodePath } from "@effect/platform-node"
import { Effect, Layer, Schema, Stream } from "effect"
import type { PlatformError } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"

/**
 * The name of a signal that ended a process, as Node names it (`"SIGKILL"`, `"SIGSEGV"`, ...):
 * the package's own union, so that its types do not need Node's.
 *
 * @since 0.2.0
 * @category models
 */
export type Signal =
  | "SIGABRT" | "SIGALRM" | "SIGBUS" | "SIGCHLD" | "SIGCONT" | "SIGFPE" | "SIGHUP" | "SIGILL"
  | "SIGINT" | "SIGIO" | "SIGIOT" | "SIGKILL" | "SIGPIPE" | "SIGPOLL" | "SIGPROF" | "SIGPWR"
  | "SIGQUIT" | "SIGSEGV" | "SIGSTKFLT" | "SIGSTOP" | "SIGSYS" | "SIGTERM" | "SIGTRAP" | "SIGTSTP"
  | "SIGTTIN" | "SIGTTOU" | "SIGUNUSED" | "SIGURG" | "SIGUSR1" | "SIGUSR2" | "SIGVTALRM"
  | "SIGWINCH" | "SIGXCPU" | "SIGXFSZ" | "SIGBREAK" | "SIGLOST" | "SIGINFO"

/** Compiles only while Node's signal names and `Signal` are the same set. */
type Holds<T extends true> = T
type SignalsAreNodes = Holds<[Signal, NodeJS.Signals] extends [NodeJS.Signals, Signal] ? true : false>

/**
 * How a run ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  /** The exit code, or `null` when a signal ended the process. */
  readonly exitCode: number | null
  /**
   * The signal that ended the process, e.g. `"SIGKILL"`; `undefined` when it exited (or, with
   * `exitCode` `null`, when the platform did not name the signal).
   */
  readonly signal: Signal | undefined
  /** What it wrote on stderr: the first 64 KiB and the last 16 KiB when there is more. */
  readonly stderr: string
  /** What it wrote on stdout, when `RunOptions.stdout` asked for it. */
  readonly stdout: Uint8Array | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface RunOptions {
  /** Keep stdout (default: ignored, ffmpeg writes its output to a file). */
  readonly stdout?: boolean
}

/**
 * The binary could not be started (missing, not executable, out of processes); `cause` is the
 * platform's error, as it was.
 *
 * @since 0.2.0
 * @category errors
 */
export class SpawnFailed extends Schema.TaggedError<SpawnFailed>()("SpawnFailed", {
  binary: Schema.String,
  cause: Schema.Defect()
}) {
  override get message(): string {
    const cause = this.cause
    const why = cause instanceof Error ? cause.message : String(cause)
    return `cannot run ${this.binary}: ${why}`
  }
}

/**
 * Node's `ChildProcessSpawner` and nothing else (no stdio or terminal services), for the places
 * that run ffmpeg outside a program's own platform layer: the binary lookup and the fixtures.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerNode: Layer.Layer<ChildProcessSpawner.ChildProcessSpawner> = NodeChildProcessSpawner.layer.pipe(
  Layer.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer))
)

const headLimit = 64 * 1024
const tailLimit = 16 * 1024

/** Keeps the first 64 KiB (the header) and the last 16 KiB (the errors) of a stream of text. */
const collectText = (stream: Stream.Stream<Uint8Array, unknown>): Effect.Effect<string> =>
  Effect.suspend(() => {
    const decoder = new TextDecoder()
    let head = ""
    let tail = ""
    let dropped = false
    return stream.pipe(
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          let text = decoder.decode(chunk, { stream: true })
          if (head.length < headLimit) {
            // The head takes what fits of the chunk, whatever the chunk's size; the rest is tail.
            const room = headLimit - head.length
            head += text.slice(0, room)
            text = text.slice(room)
            if (text.length === 0) return
          }
          tail += text
          if (tail.length > 2 * tailLimit) {
            tail = tail.slice(-tailLimit)
            dropped = true
          }
        })
      ),
      Effect.ignore,
      Effect.map(() => (dropped ? `${head}\n[...]\n${tail.slice(-tailLimit)}` : head + tail))
    )
  })

/** Every byte of a stream, in one array. */
const collectBytes = (stream: Stream.Stream<Uint8Array, unknown>): Effect.Effect<Uint8Array> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    return stream.pipe(
      Stream.runForEach((chunk) => Effect.sync(() => chunks.push(chunk))),
      Effect.ignore,
      Effect.map(() => {
        const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
        let at = 0
        for (const chunk of chunks) {
          out.set(chunk, at)
          at += chunk.length
        }
        return out
      })
    )
  })

const signalNames = Object.keys(Os.constants.signals) as Array<Signal>

/**
 * The signal of a process the spawner reports as ended by one. Effect 4.1's Node spawner has no
 * field for it: its `exitCode` fails with an error whose message names the signal ("... receipt
 * of signal: 'SIGKILL'"). This is the one place that reads it, against the known signal names;
 * from here on the signal is the `Outcome`'s field.
 */
const signalOf = (error: PlatformError.PlatformError): Signal | undefined => {
  const reported = error.reason.cause instanceof Error ? error.reason.cause.message : error.message
  return signalNames.find((name) => reported.includes(`'${name}'`))
}

/**
 * Runs `binary` with exactly `args` (no flags added) in its own process group, with stdin closed,
 * and waits for it to end. Interrupting the run sends SIGKILL to the whole group and returns once
 * it is gone, so no child outlives it. A non-zero exit or a signal is an `Outcome`, not a failure;
 * the run fails only when the binary cannot be started.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { FfmpegProcess } from "@vidpool/ffmpeg"
 *
 * const version = FfmpegProcess.run("/usr/bin/ffmpeg", ["-version"], { stdout: true }).pipe(
 *   Effect.map((outcome) => new TextDecoder().decode(outcome.stdout)),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const run: (
  binary: string,
  args: ReadonlyArray<string>,
  options?: RunOptions
) => Effect.Effect<Outcome, SpawnFailed, ChildProcessSpawner.ChildProcessSpawner> = Effect.fn("FfmpegProcess.run")(
  function*(binary: string, args: ReadonlyArray<string>, options: RunOptions = {}) {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    return yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* spawner.spawn(
        ChildProcess.make(binary, args, {
          stdin: "ignore",
          stdout: options.stdout === true ? "pipe" : "ignore",
          stderr: "pipe",
          killSignal: "SIGKILL"
        })
      ).pipe(Effect.mapError((cause) => new SpawnFailed({ binary, cause })))
      const [stderr, stdout, ended] = yield* Effect.all([
        collectText(handle.stderr),
        options.stdout === true ? collectBytes(handle.stdout) : Effect.succeed(undefined),
        handle.exitCode.pipe(
          Effect.map((code) => ({ exitCode: Number(code) as number | null, signal: undefined })),
          // Stdin is closed, so the exit code fails only when a signal ended the process.
          Effect.catch((error) => Effect.succeed({ exitCode: null, signal: signalOf(error) }))
        )
      ], { concurrency: "unbounded" })
      return { exitCode: ended.exitCode, signal: ended.signal, stderr, stdout }
    }))
  }
)
