// The packages as a stranger gets them: each one packed with `pnpm pack`, the tarballs installed
// with npm into a scratch project outside the workspace (no tsx, no TypeScript at run time), then a
// plain ESM program evaluates two clips with PSNR through the public API, the installed `vidpool`
// binary answers, and a small TypeScript consumer type-checks against the packed `.d.ts` files.
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

const app = `
import { Effect } from "effect"
import { Evaluator } from "@vidpool/eval"
import { Video } from "@vidpool/pool"

const [generated, reference] = process.argv.slice(2)
const samples = [
  { video: Video.file(generated), reference: Video.file(reference) },
  { video: Video.file(reference), reference: Video.file(reference) }
]
// A short name, resolved by the registry as the command resolves it.
const program = Evaluator.use((evaluator) => evaluator.evaluate(samples, { metrics: ["psnr"], workers: 2 }))
const results = await Effect.runPromise(program.pipe(Effect.provide(Evaluator.layerDefault)))
console.log(JSON.stringify(results.samples.map((s) => s.metrics["common.psnr"].score)))
`

const consumer = `
import { Effect, Layer } from "effect"
import { type EvalResults, Evaluator } from "@vidpool/eval"
import type { FfmpegNotFound } from "@vidpool/ffmpeg"
import { Video, VideoPool } from "@vidpool/pool"

// No decoder at all is the ffmpeg layer's own error, not a DecodeError.
const live: Layer.Layer<Evaluator | VideoPool, FfmpegNotFound> = Evaluator.layerDefault
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

let dir: string | undefined

describe("the packed packages, installed by npm into a project outside the workspace", () => {
  let project: string
  let clips: { generated: string; reference: string }

  beforeAll(async () => {
    dir = tempDir("vidpool-consumer-")
    project = path.join(dir, "app")
    fs.mkdirSync(project)
    const tarballs: Record<string, string> = {}
    for (const name of packages) {
      const { stdout } = await run("pnpm", ["pack", "--pack-destination", dir], { cwd: path.join(workspace, "packages", name) })
      const tarball = stdout.trim().split("\n").pop()!
      tarballs[`@vidpool/${name}`] = `file:${path.resolve(dir, path.basename(tarball))}`
    }
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: tarballs }, null, 2))
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "@types/node@20"], { cwd: project, maxBuffer: 1 << 24 })
    fs.writeFileSync(path.join(project, "app.mjs"), app)
    // Lossless RGB clips, so that ffmpeg's psnr filter compares the same pixels the metric does.
    const clip = async (name: string, filter: string) => {
      const file = path.join(dir!, name)
      await run(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10",
        "-vf", filter, "-frames:v", "10", "-c:v", "png", file])
      return file
    }
    clips = { reference: await clip("ref.mkv", "null"), generated: await clip("gen.mkv", "noise=alls=30:allf=t+u") }
  }, 300_000)

  afterAll(() => removeDir(dir))

  it("ships compiled JavaScript with types and no TypeScript loader", () => {
    for (const name of packages) {
      const installed = path.join(project, "node_modules", "@vidpool", name)
      const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"))
      expect(manifest.version).toBe("0.2.0")
      expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" })
      expect(fs.existsSync(path.join(installed, "dist", "index.js"))).toBe(true)
      expect(fs.existsSync(path.join(installed, "dist", "index.d.ts"))).toBe(true)
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toMatch(/workspace:|tsx/)
    }
    expect(fs.existsSync(path.join(project, "node_modules", "tsx"))).toBe(false)
    expect(fs.existsSync(path.join(project, "node_modules", "typescript"))).toBe(false)
  })

  it("evaluates two clips with PSNR from a plain ESM program, matching ffmpeg's psnr filter", async () => {
    const { stdout } = await run(process.execPath, ["app.mjs", clips.generated, clips.reference], { cwd: project })
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
    const { stdout } = await run(path.join(project, "node_modules", ".bin", "vidpool"), ["--version"], { cwd: project })
    expect(stdout).toContain("0.2.0")
  })

  it("type-checks a TypeScript consumer against the packed .d.ts files", async () => {
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
