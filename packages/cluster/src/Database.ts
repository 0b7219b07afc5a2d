/**
 * The PostgreSQL database that holds a cluster's message and runner storage: a `--db` URL
 * checked, connected and asked one query before anything else starts, so that a bad or
 * unreachable database is one typed error naming it.
 *
 * @since 0.2.0
 */
import { Cause, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { PgClient } from "@effect/sql-pg"

/**
 * The database cannot be used: the URL is not a PostgreSQL URL, or the server cannot be reached,
 * refuses the login, or has no such database. `url` has its password hidden.
 *
 * @since 0.2.0
 * @category errors
 */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  url: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot use the database ${this.url}: ${this.detail}`
  }
}

/**
 * The URL with its password, if any, replaced by `***`.
 *
 * @since 0.2.0
 * @category formatting
 */
export const safeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@")
  }
}

/**
 * Checks that `url` is a PostgreSQL URL (`postgres://` or `postgresql://`, with a host).
 *
 * @since 0.2.0
 * @category validation
 */
export const checkUrl = (url: string): Effect.Effect<string, DatabaseUnavailable> => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Effect.fail(new DatabaseUnavailable({ url: safeUrl(url), detail: "not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)" }))
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return Effect.fail(new DatabaseUnavailable({ url: safeUrl(url), detail: `not a PostgreSQL URL (the scheme is "${parsed.protocol}", expected postgres:)` }))
  }
  if (parsed.hostname === "") {
    return Effect.fail(new DatabaseUnavailable({ url: safeUrl(url), detail: "the URL names no host" }))
  }
  return Effect.succeed(url)
}

const describe = (error: unknown): string => {
  const reason = (error as { reason?: { message?: unknown; cause?: unknown } }).reason
  const cause = reason?.cause ?? (error as { cause?: unknown }).cause
  const causeText = cause instanceof Error ? cause.message : typeof cause === "string" ? cause : ""
  const own = typeof reason?.message === "string" && reason.message !== "" ? reason.message
    : error instanceof Error ? error.message : String(error)
  return causeText !== "" && !own.includes(causeText) ? `${own}: ${causeText}` : own
}

/**
 * `SqlClient` (and `PgClient`) for `url`, with a connection checked by one query before the
 * layer is built; fails with `DatabaseUnavailable` within `timeout` (default 5 s) otherwise.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  url: string,
  options?: { readonly timeout?: Duration.Input; readonly maxConnections?: number }
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, DatabaseUnavailable> => {
  const timeout = Duration.fromInputUnsafe(options?.timeout ?? Duration.seconds(5))
  const unavailable = (detail: string) => new DatabaseUnavailable({ url: safeUrl(url), detail })
  // The fallback only fails, so the layer provides the client or nothing.
  const client = PgClient.layer({
    url: Redacted.make(url),
    connectTimeout: timeout,
    maxConnections: options?.maxConnections ?? 8,
    applicationName: "vidpool"
  }).pipe(Layer.catchCause((cause) => Layer.effectDiscard(Effect.fail(unavailable(describe(Cause.squash(cause))))))) as Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, DatabaseUnavailable>
  const checked = Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`.pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(unavailable(`no answer within ${Duration.format(timeout)}`)) }),
      Effect.mapError((error) => error instanceof DatabaseUnavailable ? error : unavailable(describe(error)))
    )
  }))
  return Layer.unwrap(Effect.as(checkUrl(url), Layer.provideMerge(checked, client)))
}
