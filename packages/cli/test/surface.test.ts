// The packages' public surface as a user imports it (the built packages, through their `exports`):
// each index exports the API, test kits are the `./testing` subpath, internals and the deprecated
// aliases of 0.2 are not exported. In cli's sources, a module directly in src/ is one the index
// exports; the rest sit in src/internal/.
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { packageDir } from "./helpers.ts"

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
    expect(index.sort()).toEqual(["LibavDecoder", "LibavSettingsSchema", "LibavUnavailable", "makeDecode"])
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
