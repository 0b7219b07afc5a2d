// The packages as a stranger gets them: each one packed with `pnpm pack`, the tarballs installed
// with npm (engines enforced) into scratch projects outside the workspace, once beside the newest
// Effect packages the registry serves today and once beside the lowest versions the packages'
// peer ranges admit. In each: exactly one copy of every Effect package, a TypeScript consumer
// type-checks against the packed `.d.ts` files; in the newest one a plain ESM program evaluates two
// clips with PSNR through the public API and the installed `vidpool` binary answers. The tarballs
// themselves carry no build info, no bundle source maps, no tests or benches, and a licence.
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ffmpegPath, packageDir, removeDir, tempDir } from "./helpers.ts"

const run = promisify(execFile)
const workspace = path.resolve(packageDir, "..", "..")
const packages = ["pool", "ffmpeg", "libav", "eval", "cluster", "cli"] as const
const tsc = path.join(workspace, "node_modules", "typescript", "bin", "tsc")
const version = (JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version

const app = `
import { Effect } from "effect"
import { Evaluator } from "@vidpool/eval"
import { Live } from "@vidpool/cli"
import { Video } from "@vidpool/pool"

const [generated, reference] = process.argv.slice(2)
const samples = [
  { video: Video.file(generated), reference: Video.file(reference) },
  { video: Video.file(reference), reference: Video.file(reference) }
]
// A short name, resolved by the registry as the command resolves it.
const program = Evaluator.use((evaluator) => evaluator.evaluate(samples, { metrics: ["psnr"], workers: 2 }))
const results = await Effect.runPromise(program.pipe(Effect.provide(Live.layerEvaluator)))
console.log(JSON.stringify(results.samples.map((s) => s.metrics["common.psnr"].score)))
`

const consumer = `
import { Effect, Layer } from "effect"
import { type EvalResults, Evaluator } from "@vidpool/eval"
import type { FfmpegNotFound } from "@vidpool/ffmpeg"
import { Live } from "@vidpool/cli"
import { Video, VideoPool } from "@vidpool/pool"
import { testPixel } from "@vidpool/pool/testing"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"

// The test kits are the packages' ./testing subpaths, with their types.
export const pixel: number = testPixel("a.mp4")
export const clipArgs: Array<string> = FfmpegFixtures.clipArgs("a.mp4", { frames: 2 })

// No decoder at all is the ffmpeg layer's own error, not a DecodeError.
const live: Layer.Layer<Evaluator | VideoPool, FfmpegNotFound> = Live.layerEvaluator
const program: Effect.Effect<EvalResults, unknown, Evaluator> = Evaluator.use((evaluator) =>
  evaluator.evaluate([{ video: Video.file("a.mp4") }], { metrics: ["common.psnr"] })
)
export const scores = program.pipe(
  Effect.provide(live),
  Effect.map((results) => results.samples.map((s) => s.metrics["common.psnr"]?.score ?? null))
)
// The types are real, not \`any\`: a wrong use does not type-check.
// @ts-expect-error a sample's index is a number
export const wrong: string = (undefined as unknown as EvalResults).samples[0].index
`

interface Manifest {
  readonly name: string
  readonly version: string
  readonly exports: Record<string, unknown>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly engines?: Record<string, string>
  readonly repository?: { readonly directory?: string }
  readonly publishConfig?: { readonly access?: string }
  readonly license?: string
}

/** The lowest version a caret range `^x.y.z` admits; other range forms are not what we publish. */
const lowest = (range: string): string => {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range)
  if (match === null) throw new Error(`a peer range of the form ^x.y.z, got ${JSON.stringify(range)}`)
  return match[1]
}

/** The folders npm installed a package into (one per copy). */
const copies = async (project: string, name: string): Promise<Array<string>> => {
  const { stdout } = await run("npm", ["ls", name, "--all", "--parseable"], { cwd: project, maxBuffer: 1 << 24 })
    .catch((error: { stdout: string }) => ({ stdout: error.stdout }))
  return [...new Set(stdout.split("\n").filter((line) => line.includes(`${path.sep}node_modules${path.sep}`)))]
}

let dir: string | undefined

describe("the packed packages, installed by npm into a project outside the workspace", () => {
  const tarballs: Record<string, string> = {}
  const manifests: Record<string, Manifest> = {}
  const contents: Record<string, Array<string>> = {}
  /** Each Effect package the vidpool packages ask for as a peer, with the newest and the lowest version to test. */
  const peers: Record<string, { newest: string; lowest: string }> = {}
  let newest: string
  let oldest: string
  let clips: { generated: string; reference: string }

  const install = async (project: string, versions: Record<string, string>) => {
    fs.mkdirSync(project)
    const dependencies = { ...tarballs, ...versions, "@types/node": "22.19.1" }
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", dependencies }, null, 2))
    // onnxruntime-node's install script would fetch its CUDA libraries from outside the npm registry: the CPU build is enough here.
    await run("npm", ["install", "--engine-strict", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: project,
      maxBuffer: 1 << 24,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" }
    })
  }

  beforeAll(async () => {
    dir = tempDir("vidpool-consumer-")
    for (const name of packages) {
      const { stdout } = await run("pnpm", ["pack", "--pack-destination", dir], { cwd: path.join(workspace, "packages", name) })
      const tarball = path.resolve(dir, path.basename(stdout.trim().split("\n").pop()!))
      tarballs[`@vidpool/${name}`] = `file:${tarball}`
      contents[name] = (await run("tar", ["-tzf", tarball], { maxBuffer: 1 << 24 })).stdout.split("\n").filter(Boolean)
      manifests[name] = JSON.parse((await run("tar", ["-xzOf", tarball, "package/package.json"])).stdout) as Manifest
    }
    for (const manifest of Object.values(manifests)) {
      for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
        if (peers[name] !== undefined) continue
        const { stdout } = await run("npm", ["view", name, "version"])
        peers[name] = { newest: stdout.trim(), lowest: lowest(range) }
      }
    }
    newest = path.join(dir, "newest")
    oldest = path.join(dir, "lowest")
    const pick = (which: "newest" | "lowest") =>
      Object.fromEntries(Object.entries(peers).map(([name, versions]) => [name, versions[which]]))
    await Promise.all([install(newest, pick("newest")), install(oldest, pick("lowest"))])
    fs.writeFileSync(path.join(newest, "app.mjs"), app)
    // Lossless RGB clips, so that ffmpeg's psnr filter compares the same pixels the metric does.
    const clip = async (name: string, filter: string) => {
      const file = path.join(dir!, name)
      await run(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10",
        "-vf", filter, "-frames:v", "10", "-c:v", "png", file])
      return file
    }
    clips = { reference: await clip("ref.mkv", "null"), generated: await clip("gen.mkv", "noise=alls=30:allf=t+u") }
  }, 600_000)

  afterAll(() => removeDir(dir))

  it("packs compiled JavaScript, types, the README and a licence: no build info, bundle maps, tests or benches", () => {
    for (const name of packages) {
      const files = contents[name]
      expect(files, name).toContain("package/dist/index.js")
      expect(files, name).toContain("package/dist/index.d.ts")
      expect(files, name).toContain("package/LICENSE")
      expect(files, name).toContain("package/README.md")
      expect(files.filter((file) => /\.tsbuildinfo$|\.mjs\.map$|^package\/(test|bench)\//.test(file)), name).toEqual([])
    }
  })

  it("declares Effect as peers, other vidpool packages as compatible ranges, and where it comes from", () => {
    for (const name of packages) {
      const manifest = manifests[name]
      expect(manifest.version).toBe(version)
      expect(manifest.license).toBe("MIT")
      expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" })
      expect(manifest.repository?.directory).toBe(`packages/${name}`)
      expect(manifest.publishConfig?.access).toBe("public")
      expect(manifest.engines?.node).toMatch(/^>=\d+\.\d+\.\d+$/)
      expect(manifest.peerDependencies?.effect, name).toMatch(/^\^4\./)
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        expect(dependency === "effect" || dependency.startsWith("@effect/"), `${name} depends on ${dependency}`).toBe(false)
        if (dependency.startsWith("@vidpool/")) expect(range).toBe(`^${version}`)
      }
    }
    expect(Object.keys(peers)).toEqual(expect.arrayContaining(["effect", "@effect/platform-node", "@effect/sql-pg"]))
  })

  it("installs one copy of each Effect package beside the newest and beside the lowest versions", async () => {
    for (const project of [newest, oldest]) {
      for (const name of [...Object.keys(peers), "@effect/platform-node-shared"]) {
        expect(await copies(project, name), `${name} in ${path.basename(project)}`).toHaveLength(1)
      }
    }
    for (const [name, versions] of Object.entries(peers)) {
      const installed = (project: string) =>
        (JSON.parse(fs.readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
      expect(installed(newest), name).toBe(versions.newest)
      expect(installed(oldest), name).toBe(versions.lowest)
    }
  })

  it("evaluates two clips with PSNR from a plain ESM program, matching ffmpeg's psnr filter", async () => {
    const { stdout } = await run(process.execPath, ["app.mjs", clips.generated, clips.reference], { cwd: newest })
    const [damaged, same] = JSON.parse(stdout.trim()) as [number, number]
    const stats = path.join(dir!, "psnr.log")
    await run(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-i", clips.generated, "-i", clips.reference,
      "-lavfi", `[0:v][1:v]psnr=stats_file=${stats}`, "-f", "null", "-"])
    const perFrame = fs.readFileSync(stats, "utf8").trim().split("\n").map((line) => Number(/psnr_avg:(\S+)/.exec(line)![1]))
    const expected = perFrame.reduce((a, b) => a + b, 0) / perFrame.length
    expect(damaged).toBeGreaterThan(10)
    expect(Math.abs(damaged - expected)).toBeLessThan(0.01)
    expect(same).toBe(100)
  })

  it("runs the installed vidpool binary with plain node", async () => {
    const { stdout } = await run(path.join(newest, "node_modules", ".bin", "vidpool"), ["--version"], { cwd: newest })
    expect(stdout).toContain(version)
  })

  it.each(["newest", "lowest"] as const)("type-checks a TypeScript consumer against the packed .d.ts files beside the %s Effect", async (which) => {
    const project = which === "newest" ? newest : oldest
    fs.writeFileSync(path.join(project, "consumer.ts"), consumer)
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, types: ["node"] },
      files: ["consumer.ts"]
    }))
    const result = await run(process.execPath, [tsc, "-p", project], { cwd: project }).then(
      () => ({ code: 0, out: "" }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout })
    )
    expect(result.out).toBe("")
    expect(result.code).toBe(0)
  })
})
