/**
 * One ffmpeg run, owned by a Scope: spawned in its own process group, its stderr kept (head and
 * tail, bounded), and killed with everything it started when the scope closes early.
 *
 * @since 0.1.0
 */
import { Effect, Stream } from "effect"
import type { Scope } from "effect"
import { ChildProcess } from "effect/process"
import type { ChildProcessSpawner } from "effect/process"
import { DecodeError, FfmpegNotFound, ProcessFailed } from "@vidpool/pool"
import type { Ffmpeg } from "./Ffmpeg.ts"
import * as FfmpegLog from "./FfmpegLog.ts"

/**
 * How a run ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  /** The exit code, or `null` when a signal ended the process. */
  readonly exitCode: number | null
  readonly signal: string | undefined
  readonly stderr: string
}

const headLimit = 64 * 1024
const tailLimit = 16 * 1024

/** Keeps the first 64 KiB (the header) and the last 16 KiB (the errors) of a stream of text. */
const collect = (stream: Stream.Stream<Uint8Array, unknown>): Effect.Effect<string> =>
  Effect.suspend(() => {
    const decoder = new TextDecoder()
    let head = ""
    let tail = ""
    let dropped = false
    return stream.pipe(
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          const text = decoder.decode(chunk, { stream: true })
          if (head.length < headLimit) {
            head += text
            return
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

/**
 * Runs ffmpeg with `args` (stdout ignored) and waits for it to end. Interrupting the effect, or
 * closing the scope, sends SIGKILL to the process group.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  ffmpeg: Ffmpeg["Service"],
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"],
  path: string,
  args: ReadonlyArray<string>
): Effect.Effect<Outcome, DecodeError, Scope.Scope> =>
  Effect.gen(function*() {
    const handle = yield* spawner.spawn(
      ChildProcess.make(ffmpeg.path, ["-hide_banner", "-nostdin", "-loglevel", "level+info", ...args], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
        killSignal: "SIGKILL"
      })
    ).pipe(
      Effect.mapError((error) =>
        new DecodeError({
          path,
          reason: error.reason._tag === "NotFound" || error.reason._tag === "PermissionDenied"
            ? new FfmpegNotFound({ searched: [ffmpeg.path] })
            : new ProcessFailed({ exitCode: null, stderr: error.message })
        })
      )
    )
    const [stderr, ended] = yield* Effect.all([
      collect(handle.stderr),
      handle.exitCode.pipe(
        Effect.map((code) => ({ exitCode: Number(code) as number | null, signal: undefined as string | undefined })),
        Effect.catch((error) =>
          Effect.succeed({
            exitCode: null,
            signal: /signal: '?(SIG[A-Z0-9]+)/.exec(`${error.message} ${String(error.reason.cause)}`)?.[1] ??
              "an unknown signal"
          })
        )
      )
    ], { concurrency: 2 })
    return { ...ended, stderr }
  })

/**
 * Fails with `ProcessFailed` (no exit code, the signal, what stderr explains) when a signal ended
 * the run; succeeds otherwise.
 *
 * @since 0.1.0
 * @category utils
 */
export const failIfSignalled = (
  path: string,
  outcome: Outcome,
  report: FfmpegLog.Report
): Effect.Effect<void, DecodeError> =>
  outcome.signal === undefined ? Effect.void : Effect.fail(
    new DecodeError({
      path,
      reason: new ProcessFailed({ exitCode: null, signal: outcome.signal, stderr: FfmpegLog.explain(report, "") })
    })
  )
