import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { binPath, ffmpegPath, hasStackTrace, lines, makeClip, packageDir, removeDir, tempDir, vidpool } from "./helpers.ts"

describe.concurrent("vidpool probe", () => {
  let dir: string
  let clip: string
  beforeAll(async () => {
    dir = tempDir()
    clip = await makeClip(path.join(dir, "clip.mp4"), { width: 64, height: 48, frames: 8, fps: 10 })
  })
  afterAll(() => removeDir(dir))

  it("shows what ffmpeg reads in a file, as a table", async () => {
    const result = await vidpool(["probe", clip])
    assert.strictEqual(result.code, 0, result.stderr)
    const [header, row] = lines(result.stdout)
    assert.match(header, /^file\s+codec\s+size\s+fps\s+frames\s+duration\s+pixels\s+rotation$/)
    assert.match(row, new RegExp(`^${clip}\\s+h264\\s+64x48\\s+10\\s+8\\s+0\\.80s\\s+yuv420p\\s+0$`))
  })

  it("shows it as JSON, and reports a missing file in one line with exit code 1", async () => {
    const missing = path.join(dir, "missing.mp4")
    const result = await vidpool(["probe", clip, missing, "--format", "json"])
    assert.strictEqual(result.code, 1)
    const infos = JSON.parse(result.stdout)
    assert.lengthOf(infos, 1)
    assert.include(infos[0], { path: clip, width: 64, height: 48, frameCount: 8, codec: "h264", rotation: 0 })
    assert.deepStrictEqual(lines(result.stderr), [`vidpool: ${missing}: no such file or folder`])
  })
})

describe.concurrent("vidpool metrics", () => {
  it("lists every metric with what it needs and measures", async () => {
    const result = await vidpool(["metrics"])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.match(result.stdout, /^common\.psnr\s+sample\s+video, reference\s+-\s+PSNR/m)
    assert.match(result.stdout, /^quality\.sharpness\s+sample\s+video\s+-\s+\S/m)
    assert.match(result.stdout, /^common\.frechet_distance\s+corpus\s+video\s+-\s+\S/m)
  })

  it("lists them as JSON", async () => {
    const result = await vidpool(["metrics", "--format", "json"])
    const metrics = JSON.parse(result.stdout) as Array<{ name: string; kind: string; needs: Array<string> }>
    const psnr = metrics.find((m) => m.name === "common.psnr")
    assert.deepStrictEqual(psnr?.needs, ["video", "reference"])
    assert.strictEqual(psnr?.kind, "sample")
  })
})

describe("vidpool demo", () => {
  it("makes a corpus with ffmpeg, evaluates it, explains the scores, and removes the corpus", async () => {
    const result = await vidpool(["demo"])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.isFalse(hasStackTrace(result.stderr))
    const folder = /making the demo corpus with ffmpeg in (\S+)/.exec(result.stderr)?.[1]
    assert.isDefined(folder)
    assert.isFalse(fs.existsSync(folder!), "the demo corpus is removed afterwards")
    const out = lines(result.stdout)
    assert.match(out[0], /^#\s+video .*\s+psnr\s+ssim/)
    const rows = out.filter((line) => /^\d+\s/.test(line))
    assert.lengthOf(rows, 10)
    for (const damage of ["noise", "blur", "heavy-compression", "dropped-frames", "light-compression"]) {
      assert.isTrue(rows.some((row) => row.includes(`testsrc2-${damage}.mp4`)), damage)
    }
    assert.include(result.stdout, "the stronger the damage, the lower PSNR (in dB) and SSIM (1 = identical).")
    const means = /Mean PSNR \/ SSIM by damage here: (.*)\.$/m.exec(result.stdout)?.[1]
    assert.isDefined(means)
    // best first; light compression does least damage, heavy compression and blur the most
    const order = means!.split(", ").map((part) => part.split(" ")[0])
    assert.strictEqual(order[0], "light-compression")
    assert.includeMembers(order.slice(-2), ["heavy-compression", "blur"])
    assert.match(result.stderr, /^10 samples in /m)
  })
})

describe("ffmpeg lookup", () => {
  let dir: string
  let wrapper: string
  let calls: string
  beforeAll(async () => {
    dir = tempDir()
    calls = path.join(dir, "calls.log")
    // An ffmpeg that writes each of its command lines to calls.log, then runs the real one.
    wrapper = path.join(dir, "ffmpeg")
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${ffmpegPath}' "$@"\n`, { mode: 0o755 })
    await makeClip(path.join(dir, "clip.mp4"), { width: 64, height: 48, frames: 6, fps: 10 })
  })
  afterAll(() => removeDir(dir))
  const lookups = () =>
    fs.existsSync(calls) ? lines(fs.readFileSync(calls, "utf8")).filter((line) => line.includes("-version")).length : 0

  it("looks for ffmpeg once per run (readiness check and decoding share it), and not at all to list metrics", async () => {
    const listed = await vidpool(["metrics"], { env: { FFMPEG_PATH: wrapper } })
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.isFalse(fs.existsSync(calls), "metrics ran no ffmpeg")
    const result = await vidpool(["eval", path.join(dir, "clip.mp4"), "--quiet", "--decoder", "ffmpeg"], { env: { FFMPEG_PATH: wrapper } })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.isAbove(lines(fs.readFileSync(calls, "utf8")).length, 1, "ffmpeg decoded through the wrapper")
    assert.strictEqual(lookups(), 1)
  })
})

describe("the built command", () => {
  it("runs under plain node from the compiled bundle, loading no TypeScript and no tsx", async () => {
    const dir = tempDir()
    try {
      const loads = path.join(dir, "loads.txt")
      const hooks = fileURLToPath(new URL("./fixtures/record-loads.mjs", import.meta.url))
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", hooks, binPath, "--version"], {
        env: { ...process.env, NODE_OPTIONS: "", VIDPOOL_TEST_LOADS: loads }
      })
      const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }
      assert.include(stdout, manifest.version)
      const loaded = lines(fs.readFileSync(loads, "utf8")).filter((url) => url.startsWith("file:"))
      assert.deepStrictEqual(loaded.filter((url) => /\.[cm]?ts$|[\\/]tsx[\\/]/.test(url)), [])
      assert.isTrue(loaded.some((url) => url.endsWith("/cli/dist/vidpool.mjs")), loaded.join("\n"))
    } finally {
      removeDir(dir)
    }
  })
})

describe.concurrent("choosing the decoder", () => {
  let dir: string
  beforeAll(async () => {
    dir = tempDir()
    await makeClip(path.join(dir, "ref.mp4"), { width: 64, height: 48, frames: 8 })
    await makeClip(path.join(dir, "gen.mp4"), { width: 64, height: 48, frames: 8, filter: "noise=alls=30:allf=t", crf: 30 })
  })
  afterAll(() => removeDir(dir))

  const scores = async (decoder: string, env: Record<string, string> = {}) => {
    const args = ["eval", path.join(dir, "gen.mp4"), "--reference", dir, "--metrics", "psnr", "--format", "json", "-q"]
    const result = await vidpool(decoder === "" ? args : [...args, "--decoder", decoder], { env })
    assert.strictEqual(result.code, 0, result.stderr)
    return JSON.parse(result.stdout).samples[0].scores["common.psnr"] as number
  }

  it("gives the same scores in process (libav) and with the ffmpeg command, by flag or VIDPOOL_DECODER", async () => {
    const [libav, ffmpeg, byEnv] = await Promise.all([scores("libav"), scores("ffmpeg"), scores("", { VIDPOOL_DECODER: "ffmpeg" })])
    assert.isAbove(libav, 10)
    assert.closeTo(libav, ffmpeg, 0.5)
    assert.strictEqual(byEnv, ffmpeg)
  })

  it("probe names the decoder eval would use and its FFmpeg version, as the flag or VIDPOOL_DECODER chooses it", async () => {
    const [auto, cli, byEnv] = await Promise.all([
      vidpool(["probe", path.join(dir, "ref.mp4")]),
      vidpool(["probe", path.join(dir, "ref.mp4"), "--decoder", "ffmpeg", "--format", "json"]),
      vidpool(["probe", path.join(dir, "ref.mp4")], { env: { VIDPOOL_DECODER: "ffmpeg" } })
    ])
    assert.match(auto.stdout, /^decoder: libav, in process \(FFmpeg \S+ through node-av\)$/m)
    assert.strictEqual(JSON.parse(cli.stdout)[0].decoder.name, "ffmpeg")
    assert.match(byEnv.stdout, /^decoder: ffmpeg \S+ \(.+\), one process per video$/m)
  })

  it("refuses an unknown decoder in one line, exit code 2", async () => {
    const result = await vidpool(["eval", path.join(dir, "gen.mp4"), "--decoder", "gpu"])
    assert.strictEqual(result.code, 2)
    assert.lengthOf(lines(result.stderr), 1)
    assert.include(result.stderr, "decoder")
  })
})
