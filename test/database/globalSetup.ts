// The PostgreSQL database of the tests, for the whole run: the server VIDPOOL_TEST_DB names when it
// is set, else a throwaway server of this run's own (TestDatabase.start), stopped at the end. If
// vitest dies first (Ctrl-C, a crash, SIGKILL), the server's owner process stops it by itself.
// Tests read the URL with `testDb` (test/database/testDb.ts).
import type { TestProject } from "vitest/node"
import * as TestDatabase from "./TestDatabase.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** The URL of the tests' database. */
    readonly testDatabase: string
  }
}

export default async function setup({ provide }: TestProject): Promise<undefined | (() => Promise<void>)> {
  const given = process.env.VIDPOOL_TEST_DB
  if (given !== undefined && given !== "") {
    provide("testDatabase", given)
    return undefined
  }
  const database = await TestDatabase.start()
  provide("testDatabase", database.url)
  return () => database.stop()
}
