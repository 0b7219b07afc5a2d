/**
 * What a user downloads (`pnpm bench` in packages/cli runs this after bench/index.ts): each
 * package's tarball, packed and unpacked, and the `node_modules` of `npm install @vidpool/eval
 * effect` in an empty project with the number of `effect` copies in it. Measured in the same run
 * for this tree ("after") and for a baseline commit ("before", BENCH_BEFORE_REF, by default the
 * last commit before peers and lean tarballs), which is checked out in a scratch worktree,
 * installed and built there exactly as a developer would.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"

const BEFORE = process.env.BENCH_BEFORE_REF ?? "8904077"
const packages = ["pool", "ffmpeg", "libav", "eval", "cluster", "cli"] as const
const run = promisify(execFile)
const workspace = resolve(import.meta.dirname, "..", "..", "..")
const big = { maxBuffer: 1 << 26 }

interface Packed {
  readonly file: string
  readonly packed: number
  readonly unpacked: number
  readonly files: number
}

/** `pnpm pack` of one package of a tree: the tarball's size and the sum of the sizes of what it holds. */
const pack = async (tree: string, name: string, into: string): Promise<Packed> => {
  const { stdout } = await run("pnpm", ["pack", "--pack-destination", into], { cwd: join(tree, "packages", name), ...big })
  const file = resolve(into, stdout.trim().split("\n").pop()!.split("/").pop()!)
  const listing = (await run("tar", ["-tvzf", file], big)).stdout.split("\n").filter(Boolean)
  const unpacked = listing.reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[2]), 0)
  return { file, packed: statSync(file).size, unpacked, files: listing.length }
}

/** Bytes under a folder, counting each file once (as `du -sb` would with hard links followed). */
const bytes = (dir: string): number => {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name)
    if (entry.isDirectory()) total += bytes(file)
    else if (entry.isFile()) total += statSync(file).size
  }
  return total
}

/** Folders holding a package named `name` under node_modules, nested copies included. */
const copiesOf = (dir: string, name: string): number => {
  let count = 0
  const walk = (modules: string) => {
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const folder = join(modules, entry.name)
      if (entry.name.startsWith("@")) {
        walk(folder)
        continue
      }
      if (folder.endsWith(join("node_modules", name))) count++
      const nested = join(folder, "node_modules")
      if (statSync(nested, { throwIfNoEntry: false })?.isDirectory()) walk(nested)
    }
  }
  walk(join(dir, "node_modules"))
  return count
}

/** `npm install @vidpool/eval effect` in an empty project, eval's vidpool dependencies from their tarballs. */
const install = async (tarballs: Record<string, Packed>, into: string) => {
  mkdirSync(into)
  writeFileSync(join(into, "package.json"), JSON.stringify({ name: "bench-install", private: true }))
  const vidpool = ["pool", "ffmpeg", "libav", "eval"].map((name) => tarballs[name].file)
  // onnxruntime-node's install script would fetch its CUDA libraries from outside the registry.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" }
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...vidpool, "effect"], { cwd: into, env, ...big })
  return { bytes: bytes(join(into, "node_modules")), effect: copiesOf(into, "effect"), platformNode: copiesOf(into, "@effect/platform-node") }
}

const mb = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(0)} kB` : `${(n / 1e6).toFixed(1)} MB`)

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "vidpool-install-bench-"))
  const before = join(dir, "before")
  try {
    console.log(`install bench: ${new Date().toISOString()}, node ${process.version}, baseline ${BEFORE}`)
    await run("git", ["worktree", "add", "--detach", before, BEFORE], { cwd: workspace })
    await run("pnpm", ["install", "--frozen-lockfile", "--silent"], { cwd: before, ...big })
    const trees = { before, after: workspace }
    const packed: Record<string, Record<string, Packed>> = { before: {}, after: {} }
    for (const [side, tree] of Object.entries(trees)) {
      mkdirSync(join(dir, `${side}-tarballs`))
      for (const name of packages) packed[side][name] = await pack(tree, name, join(dir, `${side}-tarballs`))
    }
    console.log("tarballs (packed / unpacked, files), before -> after:")
    for (const name of packages) {
      const [b, a] = [packed.before[name], packed.after[name]]
      console.log(`  @vidpool/${name.padEnd(8)} ${mb(b.packed)} / ${mb(b.unpacked)} (${b.files}) -> ${mb(a.packed)} / ${mb(a.unpacked)} (${a.files}): ` +
        `unpacked ${(a.unpacked / b.unpacked).toFixed(2)}x`)
    }
    const sum = (side: string, key: "packed" | "unpacked") => packages.reduce((s, name) => s + packed[side][name][key], 0)
    console.log(`  all six    ${mb(sum("before", "packed"))} / ${mb(sum("before", "unpacked"))} -> ${mb(sum("after", "packed"))} / ${mb(sum("after", "unpacked"))}`)
    const installs = {
      before: await install(packed.before, join(dir, "install-before")),
      after: await install(packed.after, join(dir, "install-after"))
    }
    console.log("npm install @vidpool/eval effect (eval's vidpool dependencies from tarballs) in an empty project:")
    for (const side of ["before", "after"] as const) {
      const r = installs[side]
      console.log(`  ${side.padEnd(6)} node_modules ${mb(r.bytes)}, effect copies ${r.effect}, @effect/platform-node copies ${r.platformNode}`)
    }
    console.log(`  after / before: ${(installs.after.bytes / installs.before.bytes).toFixed(2)}x the bytes; ` +
      `one copy of effect: ${installs.after.effect === 1 ? "MET" : `MISSED (${installs.after.effect})`}`)
  } finally {
    await run("git", ["worktree", "remove", "--force", before], { cwd: workspace }).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
