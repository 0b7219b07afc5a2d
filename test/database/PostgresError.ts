// The one error of the tests' own PostgreSQL server: it could not be set up or started.
import { Schema } from "effect"

/** PostgreSQL could not be set up or started; `detail` says what it printed, or what is missing. */
export class PostgresError extends Schema.TaggedError<PostgresError>()("PostgresError", {
  reason: Schema.Literals(["Binaries", "User", "Folder", "Initdb", "CreateDatabase", "PortTaken", "Start"]),
  detail: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {
  override get message(): string {
    return `the tests' own PostgreSQL server did not start (${this.reason}): ${this.detail}. ` +
      `To use a server of yours instead, set VIDPOOL_TEST_DB to its URL.`
  }
}

/** The last lines of a program's output, for a `detail`. */
export const outputTail = (output: string): string => output.trim().split("\n").slice(-8).join("\n") || "(no output)"
