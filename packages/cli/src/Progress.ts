/**
 * The progress display of a run, on stderr: a bar redrawn in place on a terminal, occasional
 * plain lines otherwise (a log file, a CI job), nothing with `--quiet`. Driven by the results as
 * they arrive, so it needs no timer.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export type ProgressMode = "tty" | "plain" | "off"

/**
 * @since 0.1.0
 * @category models
 */
export interface ProgressState {
  readonly done: number
  readonly total: number
  readonly errors: number
  /** Milliseconds since the run started. */
  readonly elapsedMs: number
}

/**
 * The display mode: `off` when quiet, else `VIDPOOL_PROGRESS` (tty, plain or off) when set,
 * else `tty` when stderr is a terminal and `plain` when it is not.
 *
 * @since 0.1.0
 * @category constructors
 */
export const detectMode = (quiet: boolean, env: string | undefined, isTTY: boolean): ProgressMode => {
  if (quiet) return "off"
  if (env === "tty" || env === "plain" || env === "off") return env
  return isTTY ? "tty" : "plain"
}

/**
 * A duration for people: `42s`, `3m05s`, `1h02m`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms)) return "?"
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

const rateOf = (state: ProgressState): number => state.elapsedMs > 0 ? state.done / (state.elapsedMs / 1000) : 0

const figures = (state: ProgressState): string => {
  const rate = rateOf(state)
  const eta = state.done >= state.total ? "done" : rate > 0 ? `ETA ${formatDuration((state.total - state.done) / rate * 1000)}` : "ETA ?"
  return `${state.done}/${state.total}  ${rate.toFixed(1)} clips/s  ${eta}  ${state.errors} error${state.errors === 1 ? "" : "s"}`
}

/**
 * The bar drawn on a terminal (without the carriage return that redraws it).
 *
 * @since 0.1.0
 * @category formatting
 */
export const barLine = (state: ProgressState, width = 24): string => {
  const filled = state.total === 0 ? width : Math.round(width * state.done / state.total)
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${figures(state)}`
}

/**
 * The line written when stderr is not a terminal.
 *
 * @since 0.1.0
 * @category formatting
 */
export const plainLine = (state: ProgressState): string => `progress: ${figures(state)}`

/**
 * A progress display for one run.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  /** One more sample done (`failed` when it ended in an error). */
  readonly advance: (failed: boolean) => Effect.Effect<void>
  /** Ends the display: the final state, and a new line on a terminal. */
  readonly finish: Effect.Effect<void>
}

/**
 * Options of `make`. `write` receives the text to put on stderr.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProgressOptions {
  readonly total: number
  readonly mode: ProgressMode
  readonly write: (text: string) => Effect.Effect<void>
  /** Least time between two redraws of the bar. Default 100 ms. */
  readonly redrawMs?: number
  /** Most time between two plain lines (one is also written at every tenth of the run). Default 10 s. */
  readonly plainEveryMs?: number
  /** The terminal's width: the bar is cut to fit, so that redrawing it in place works. */
  readonly columns?: number | undefined
}

/**
 * Starts a progress display (the clock starts now).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: ProgressOptions) {
  const { total, mode, write } = options
  const redrawMs = options.redrawMs ?? 100
  const plainEveryMs = options.plainEveryMs ?? 10_000
  const start = yield* Clock.currentTimeMillis
  let done = 0
  let errors = 0
  let lastDraw = -Infinity
  let lastTenth = 0
  let lastWritten = -1
  let finished = false
  const state = (now: number): ProgressState => ({ done, total, errors, elapsedMs: now - start })
  const fit = (line: string) =>
    options.columns !== undefined && options.columns > 1 && line.length >= options.columns
      ? line.slice(0, options.columns - 1)
      : line

  const draw = (now: number, final: boolean): Effect.Effect<void> => {
    if (mode === "off") return Effect.void
    if (mode === "tty") {
      if (!final && now - lastDraw < redrawMs) return Effect.void
      lastDraw = now
      return write(`\r\x1b[2K${fit(barLine(state(now)))}${final ? "\n" : ""}`)
    }
    const tenth = total === 0 ? 10 : Math.floor(done * 10 / total)
    if (!final && tenth === lastTenth && now - lastDraw < plainEveryMs) return Effect.void
    if (final && done === lastWritten) return Effect.void
    lastTenth = tenth
    lastDraw = now
    lastWritten = done
    return write(plainLine(state(now)) + "\n")
  }

  const progress: Progress = {
    advance: (failed) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (finished) return Effect.void
        done++
        if (failed) errors++
        return draw(now, false)
      }),
    finish: Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (finished) return Effect.void
      finished = true
      return draw(now, true)
    })
  }
  lastDraw = start
  if (mode === "tty") yield* write(fit(barLine(state(start))))
  return progress
})
