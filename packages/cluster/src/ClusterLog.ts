/**
 * The log of a runner or coordinator as its operator reads it: effect/cluster retries its storage
 * every second and logs each failure with its stack; here a database outage is one line when the
 * database cannot be reached and one when it is back, and any other warning is one line.
 *
 * @since 0.2.0
 */
import { Cause, Clock, Duration, Effect, Latch, Layer, Logger, type LogLevel } from "effect"
import { SqlClient } from "effect/sql"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Writes one line (given without its line break). */
  readonly write: (line: string) => void
  /** The database as the lines name it: its URL without the password (`Database.safeUrl`). */
  readonly database: string
  /** How often the database is tried while it cannot be reached. Default 1 second. */
  readonly retryEvery?: Duration.Input | undefined
  /**
   * How long the database must answer, with no storage failure logged meanwhile, before it is
   * said to be back: effect/cluster takes its shard locks and registrations again in the first
   * seconds, and may still fail a few times. Default 10 seconds (the shard locks expire in 8).
   */
  readonly settle?: Duration.Input | undefined
  /** How long a warning that repeats itself word for word stays unwritten. Default 1 minute. */
  readonly repeatAfter?: Duration.Input | undefined
}

const shownLevels: ReadonlySet<LogLevel.LogLevel> = new Set(["Warn", "Error", "Fatal"])

/** The errors of a cause: its failures and defects. */
const errorsOf = (cause: Cause.Cause<unknown>): Array<unknown> =>
  cause.reasons.flatMap((reason) => reason._tag === "Fail" ? [reason.error] : reason._tag === "Die" ? [reason.defect] : [])

/** An error and the errors under it (`cause` after `cause`), outermost first. */
const chainOf = (error: unknown): Array<unknown> => {
  const chain: Array<unknown> = []
  let current = error
  while (current !== undefined && current !== null && chain.length < 16 && !chain.includes(current)) {
    chain.push(current)
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined
  }
  return chain
}

/** What went wrong, in the words of the innermost error that has some: `connect ECONNREFUSED 127.0.0.1:5432`. */
const describeError = (error: unknown): string => {
  const chain = chainOf(error)
  for (let i = chain.length - 1; i >= 0; i--) {
    const current = chain[i]
    // Node's connection error over several addresses (localhost's IPv6 and IPv4) has no message of its own.
    if (current instanceof AggregateError && current.message === "" && current.errors.length > 0) return describeError(current.errors[0])
    if (current instanceof Error && current.message !== "") return current.message
    if (typeof current === "string" && current !== "") return current
  }
  return String(error)
}

const isStorageError = (error: unknown): boolean =>
  chainOf(error).some((e) => {
    const tag = typeof e === "object" && e !== null ? (e as { _tag?: unknown })._tag : undefined
    return tag === "PersistenceError" || tag === "SqlError" || tag === "DatabaseUnavailable"
  })

const partText = (part: unknown): string => {
  if (typeof part === "string") return part
  try {
    return JSON.stringify(part)
  } catch {
    return String(part)
  }
}

/** A log message (the parts given to `Effect.log...`) on one line. */
const textOf = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map(partText).join(" ").replace(/\s*\n\s*/g, " ").trim()

/** One log entry as this log sees it: a failure of the storage (the database) or another event, in words. */
interface Entry {
  readonly storage: boolean
  readonly line: string
  readonly cause: string | undefined
}

/**
 * Reads one log entry: a storage failure when its cause holds a `PersistenceError` or `SqlError`,
 * or when effect/cluster's message is about its storage (`Shard lock storage is unhealthy`).
 */
const entryOf = (message: unknown, cause: Cause.Cause<unknown>): Entry => {
  const text = textOf(message)
  const errors = errorsOf(cause)
  const described = errors.length === 0 ? undefined : describeError(errors[0]).replace(/\s*\n\s*/g, " ")
  return {
    storage: errors.some(isStorageError) || /\bstorage\b/i.test(text),
    line: described === undefined ? text : `${text}: ${described}`,
    cause: described
  }
}

/** What the log and its watch of the database share. */
interface Watch {
  readonly options: Options & { readonly probe: Effect.Effect<unknown, unknown> }
  readonly retryEvery: Duration.Duration
  readonly settle: number
  readonly repeatAfter: number
  /** Since when the database is down, when effect/cluster last failed on it, and since when the probe gets answers again. */
  readonly state: { down: boolean; since: number; lastFailure: number; answered: number | undefined }
  /** When each other warning was last written. */
  readonly written: Map<string, number>
  /** Open while the database is down: the watch tries it again. */
  readonly down: Latch.Latch
}

/** A storage failure logged at `now`: the first of an outage writes that the database cannot be reached. */
const storageFailed = (watch: Watch, entry: Entry, now: number) => {
  const { options, state } = watch
  state.lastFailure = now
  if (state.down) return
  state.down = true
  state.since = now
  state.answered = undefined
  watch.down.openUnsafe()
  options.write(
    `the database ${options.database} cannot be reached (${entry.cause ?? entry.line}); retrying every ` +
      `${Duration.format(watch.retryEvery)} until it is back: start it again or restore the network to it, and the runs go on`
  )
}

/** Another warning or error logged at `now`: written, unless the same line was written less than `repeatAfter` ago. */
const otherLogged = (watch: Watch, entry: Entry, now: number) => {
  // During an outage, everything else effect/cluster says (no healthy runner...) follows from it.
  if (watch.state.down) return
  const last = watch.written.get(entry.line)
  if (last !== undefined && now - last < watch.repeatAfter) return
  if (watch.written.size >= 256) watch.written.clear()
  watch.written.set(entry.line, now)
  watch.options.write(entry.line)
}

/** While the database is down, tries it every `retryEvery`, and writes that it is back once it answered for `settle`. */
const watchOutage = (watch: Watch) => {
  const { options, state } = watch
  const answers = options.probe.pipe(Effect.timeout(Duration.seconds(5)), Effect.isSuccess)
  return Effect.forever(Effect.gen(function*() {
    yield* watch.down.await
    yield* Effect.sleep(watch.retryEvery)
    const answered = yield* answers
    const now = yield* Clock.currentTimeMillis
    if (!answered) {
      state.answered = undefined
      return
    }
    state.answered ??= now
    if (now - state.lastFailure < watch.settle) return
    state.down = false
    watch.down.closeUnsafe()
    options.write(`the database ${options.database} is back (unreachable for ${Math.round((state.answered - state.since) / 1000)} s)`)
  }))
}

/**
 * Replaces the loggers of what is built with it (a runner's or a coordinator's layers) by one
 * that writes warnings and errors as one line each, without stack traces (a warning repeated word
 * for word, once per `repeatAfter`), and a database outage as two: `the database ... cannot be
 * reached (<cause>); retrying ...` at its first failure, and `the database ... is back ...` once
 * `probe` succeeds again and no storage failure came for `settle`. The failures in between, which
 * effect/cluster logs at every retry, are not written.
 *
 * @since 0.2.0
 * @category layers
 */
export const make = (options: Options & { readonly probe: Effect.Effect<unknown, unknown> }): Layer.Layer<never> =>
  Layer.unwrap(Effect.sync(() => {
    const watch: Watch = {
      options,
      retryEvery: Duration.fromInputUnsafe(options.retryEvery ?? Duration.seconds(1)),
      settle: Duration.toMillis(Duration.fromInputUnsafe(options.settle ?? Duration.seconds(10))),
      repeatAfter: Duration.toMillis(Duration.fromInputUnsafe(options.repeatAfter ?? Duration.minutes(1))),
      state: { down: false, since: 0, lastFailure: 0, answered: undefined },
      written: new Map(),
      down: Latch.makeUnsafe(false)
    }
    const logger = Logger.make<unknown, void>(({ cause, date, logLevel, message }) => {
      if (!shownLevels.has(logLevel)) return
      const entry = entryOf(message, cause)
      if (entry.storage) storageFailed(watch, entry, date.getTime())
      else otherLogged(watch, entry, date.getTime())
    })
    return Layer.mergeAll(Logger.layer([logger]), Layer.effectDiscard(Effect.forkScoped(watchOutage(watch))))
  }))

/**
 * `make` over the database in context: it is back when `SELECT 1` answers.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ClusterLog, Database } from "@vidpool/cluster"
 *
 * const db = "postgres://vidpool:secret@db.lan/vidpool"
 * const log = ClusterLog.layer({ database: Database.safeUrl(db), write: (line) => process.stderr.write(`runner: ${line}\n`) }).pipe(
 *   Layer.provide(Database.layer(db, { maxConnections: 1 }))
 * )
 * // Runner.layerRunner({ db, listen }).pipe(Layer.provide(log), ...): its log is this one.
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never, never, SqlClient.SqlClient> =>
  Layer.unwrap(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return make({ ...options, probe: sql`SELECT 1` })
  }))
