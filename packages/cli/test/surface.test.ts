// The packages' public surface as a user imports it (the built packages, through their `exports`):
// each index exports the API, test kits are the `./testing` subpath, internals and the deprecated
// aliases of 0.2 are not exported. In cli's sources, a module directly in src/ is one the index
// exports; the rest sit in src/internal/.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { packageDir } from "./helpers.ts"

const workspace = path.resolve(packageDir, "..", "..")

/**
 * A package's entry modules: `src/index.ts`, the `src/` module behind each subpath export that is
 * compiled code (`./dist/testing.js` is `src/testing.ts`), and `src/bin.ts` for a package with a `bin`.
 */
const entriesOf = (dir: string): Array<string> => {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
    readonly exports: Record<string, string | { readonly default: string }>
    readonly bin?: unknown
  }
  const fromExports = Object.values(manifest.exports).flatMap((target) => {
    const file = typeof target === "string" ? target : target.default
    const match = /^\.\/dist\/([A-Za-z]+)\.js$/.exec(file)
    return match === null ? [] : [`${match[1]}.ts`]
  })
  return [...new Set(["index.ts", ...fromExports, ...(manifest.bin === undefined ? [] : ["bin.ts"])])]
}

/** The modules of a package's `src/` (not `src/internal/`) that no entry module exports from. */
const unreachable = (dir: string): Array<string> => {
  const src = path.join(dir, "src")
  const entries = entriesOf(dir)
  const exported = new Set<string>()
  for (const entry of entries) {
    const text = fs.readFileSync(path.join(src, entry), "utf8")
    for (const match of text.matchAll(/export\s[^"]*?from\s+"\.\/([A-Za-z0-9_]+\.ts)"/g)) exported.add(match[1])
  }
  return fs.readdirSync(src).filter((name) => name.endsWith(".ts") && !entries.includes(name) && !exported.has(name)).sort()
}

const keys = async (specifier: string): Promise<Array<string>> => Object.keys(await import(specifier))

describe("the public surface", () => {
  it("pool: the test kit is @vidpool/pool/testing, not the index; the deprecated aliases are gone", async () => {
    const index = await import("@vidpool/pool")
    expect(Object.keys(index)).not.toContain("makeTestDecode")
    expect(Object.keys(index)).not.toContain("testPixel")
    expect(Object.keys(index)).toContain("VideoDecoder")
    expect(Object.keys(index.VideoTensor)).not.toContain("make")
    expect(Object.keys(index.FrameSelection)).not.toContain("select")
    expect(Object.keys(index.makeRunning())).not.toContain("count")
    expect((await keys("@vidpool/pool/testing")).sort()).toEqual(["makeTestDecode", "testPixel"])
  })

  it("ffmpeg: the fixtures are @vidpool/ffmpeg/testing, not the index; the 0.1 aliases are gone", async () => {
    const index = await keys("@vidpool/ffmpeg")
    for (const name of ["FfmpegFixtures", "onPath", "FrameSelection", "TensorBuffers"]) expect(index).not.toContain(name)
    expect(index).toContain("FfmpegDecoder")
    expect(index).toContain("onPathUnsafe")
    const { FfmpegFixtures } = await import("@vidpool/ffmpeg/testing")
    expect(await keys("@vidpool/ffmpeg/testing")).toEqual(["FfmpegFixtures"])
    expect(FfmpegFixtures.clipArgs("/tmp/x.mp4", { frames: 3 })).toContain("/tmp/x.mp4")
  })

  it("libav: the decode threads' internals are not exported", async () => {
    const index = await keys("@vidpool/libav")
    for (const name of ["workerEntry", "Slab"]) expect(index).not.toContain(name)
    expect(index.sort()).toEqual(["LibavDecoder", "LibavSettingsSchema", "LibavUnavailable", "makeDecoder"])
  })

  it("eval: the kernels of single built-in metrics are internal; the modules a metric of your own uses stay", async () => {
    const index = await keys("@vidpool/eval")
    for (const name of ["CvKernels", "PhysicsIqKernels", "Bicubic", "SsimRgb", "MseUnit", "ClipText", "Kernels", "MetricWorker"]) {
      expect(index).not.toContain(name)
    }
    for (const name of ["Metric", "Frames", "Preprocess", "Frechet", "Psnr", "Ssim", "Sharpness", "Temporal", "BuiltinMetrics"]) {
      expect(index).toContain(name)
    }
  })

  it("eval: the metric kit is the Metric namespace only; its errors are flat only", async () => {
    const index = await import("@vidpool/eval")
    for (const name of ["isTensor", "info", "sample", "result"]) expect(Object.keys(index)).not.toContain(name)
    expect(Object.keys(index.Metric)).toContain("isTensor")
    expect(Object.keys(index.Metric)).toContain("sample")
    expect(Object.keys(index.Metric)).not.toContain("MetricError")
    expect(Object.keys(index.Metric)).not.toContain("UnknownMetric")
    expect(new index.MetricError({ metric: "m", detail: "d" })._tag).toBe("MetricError")
    expect(new index.UnknownMetric({ name: "x", known: [] })._tag).toBe("UnknownMetric")
  })

  it("cli: the index exports the command, the engine, the composition root and the library pieces only", async () => {
    expect((await keys("@vidpool/cli")).sort()).toEqual([
      "CommandExit", "Engine", "EngineLive", "Evaluation", "ExitCode", "ExitCodes", "Format", "InputError", "Inputs",
      "Live", "Output", "OutputError", "Progress", "Report", "RunPlan", "Summary", "command", "decoderChoices",
      "defaultMetrics", "resolveNames", "run", "version"
    ].sort())
  })

  it("cli: every module directly in src/ is one the index exports; the others are in src/internal/", () => {
    const src = path.join(packageDir, "src")
    const entries = new Set(["index.ts", "bin.ts"])
    const topLevel = fs.readdirSync(src).filter((file) => file.endsWith(".ts") && !entries.has(file)).sort()
    const index = fs.readFileSync(path.join(src, "index.ts"), "utf8")
    const exported = [...index.matchAll(/^export\s[^;]*?\sfrom\s+"\.\/([^"]+)"/gms)].map((match) => match[1]!)
    expect(exported.filter((file) => file.startsWith("internal/"))).toEqual([])
    expect(topLevel).toEqual([...new Set(exported)].sort())
  })
})

describe("the source layout", () => {
  // A module directly in a package's src/ is one its entry points export (the index, a subpath such
  // as ./testing, the command's bin); everything else lives in src/internal/.
  for (const pkg of ["pool", "ffmpeg", "libav", "eval", "cluster", "cli"]) {
    it(`${pkg}: every module in src/ is exported by an entry point; the rest is in src/internal/`, () => {
      expect(unreachable(path.join(workspace, "packages", pkg))).toEqual([])
    })
  }

  it("names a module left in src/ that no entry exports", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vidpool-layout-"))
    try {
      fs.mkdirSync(path.join(dir, "src", "internal"), { recursive: true })
      fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ exports: { ".": { default: "./dist/index.js" }, "./testing": "./dist/testing.js", "./worker": "./dist/worker.mjs" } })
      )
      fs.writeFileSync(path.join(dir, "src", "index.ts"), 'export * as Api from "./Api.ts"\nexport {\n  a,\n  type B\n} from "./Flat.ts"\n')
      fs.writeFileSync(path.join(dir, "src", "testing.ts"), 'export { kit } from "./Kit.ts"\n')
      for (const name of ["Api", "Flat", "Kit", "Helper", "Stray", "internal/Hidden"]) {
        fs.writeFileSync(path.join(dir, "src", `${name}.ts`), 'import "./Other.ts"\nexport const x = 1\n')
      }
      expect(unreachable(dir)).toEqual(["Helper.ts", "Stray.ts"])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
