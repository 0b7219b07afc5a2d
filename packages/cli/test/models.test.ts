import { afterAll, assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { lines, packageDir, removeDir, tempDir, vidpool } from "./helpers.ts"

const fixtures = path.resolve(packageDir, "..", "eval", "test", "fixtures", "models")
const dino = path.join(fixtures, "dino-tiny.onnx")
const i3d = path.join(fixtures, "i3d-tiny.onnx")
const reference = JSON.parse(fs.readFileSync(path.join(fixtures, "reference.json"), "utf8")) as {
  readonly subject_consistency: ReadonlyArray<{ readonly clip: string; readonly score: number }>
}
const [wide, tall] = reference.subject_consistency
const clipOf = (c: { readonly clip: string }) => path.join(fixtures, c.clip)

const scores = (stdout: string) =>
  (JSON.parse(stdout) as { samples: Array<{ scores: Record<string, number | null> }> }).samples.map((s) =>
    s.scores["vbench.subject_consistency"]
  )

describe.concurrent("model files on the command line", () => {
  const dir = tempDir()
  afterAll(() => removeDir(dir))

  it("vidpool metrics shows each metric's model and whether it is given", async () => {
    const bare = await vidpool(["metrics"])
    assert.strictEqual(bare.code, 0, bare.stderr)
    assert.match(bare.stdout, /^common\.fvd\s+corpus\s+video\s+i3d \(not given\)/m)
    assert.match(bare.stdout, /^vbench\.subject_consistency\s+sample\s+video\s+dino \(not given\)/m)
    assert.match(bare.stdout, /^common\.psnr\s+sample\s+video, reference\s+-\s/m)
    const given = await vidpool(["metrics", "--model", `i3d=${i3d}`], { env: { VIDPOOL_MODEL_DINO: dino } })
    assert.match(given.stdout, /^common\.fvd\s+corpus\s+video\s+i3d \(given\)/m)
    assert.match(given.stdout, /^vbench\.subject_consistency\s+sample\s+video\s+dino \(given\)/m)
    const json = JSON.parse((await vidpool(["metrics", "--format", "json"], { env: { VIDPOOL_MODEL_DINO: dino } })).stdout) as Array<
      { name: string; models?: Array<string>; modelFiles?: Record<string, string | null> }
    >
    assert.deepStrictEqual(json.find((m) => m.name === "vbench.subject_consistency")?.modelFiles, { dino })
    assert.deepStrictEqual(json.find((m) => m.name === "common.fvd")?.modelFiles, { i3d: null })
  })

  it("eval --model NAME=PATH scores with the model, as the reference path does", async () => {
    const result = await vidpool([
      "eval", clipOf(wide), clipOf(tall), "--model", `dino=${dino}`, "--metrics", "subject_consistency", "--format", "json", "-q"
    ])
    assert.strictEqual(result.code, 0, result.stderr)
    scores(result.stdout).forEach((score, i) => assert.approximately(score!, [wide, tall][i].score, 1e-4 * [wide, tall][i].score))
  })

  it("VIDPOOL_MODEL_<NAME> gives the model too, and then the default metrics include its metric", async () => {
    const result = await vidpool(["eval", clipOf(wide), "--format", "json", "-q"], { env: { VIDPOOL_MODEL_DINO: dino } })
    assert.strictEqual(result.code, 0, result.stderr)
    assert.approximately(scores(result.stdout)[0]!, wide.score, 1e-4 * wide.score)
    const without = await vidpool(["eval", clipOf(wide), "--format", "json", "-q"])
    assert.strictEqual(without.code, 0, without.stderr)
    assert.notInclude(without.stdout, "vbench.subject_consistency")
  })

  it("a metric asked for without its model ends the run with exit 2 and says how to give it", async () => {
    const result = await vidpool(["eval", clipOf(wide), "--metrics", "fvd", "-q"])
    assert.strictEqual(result.code, 2)
    assert.deepStrictEqual(lines(result.stderr).length, 1)
    assert.match(result.stderr, /^vidpool: Model i3d for common\.fvd: no model file was given: give it with --model i3d=PATH, the variable VIDPOOL_MODEL_I3D=PATH/)
  })

  it("a model that does not fit, or is not a model, is exit 2 naming the file, before anything is decoded", async () => {
    const notOnnx = path.join(dir, "notes.onnx")
    fs.writeFileSync(notOnnx, "not a model")
    // The input cannot be decoded: a run that started decoding would report it instead.
    const broken = path.join(dir, "broken.mp4")
    fs.writeFileSync(broken, "not a video")
    const wrong = await vidpool(["eval", broken, "--metrics", "subject_consistency", "--model", `dino=${i3d}`, "-q"])
    assert.strictEqual(wrong.code, 2)
    assert.include(wrong.stderr, `Model dino (${i3d}) for vbench.subject_consistency: expected one input "pixel_values"`)
    const text = await vidpool(["eval", broken, "--metrics", "subject_consistency", "--model", `dino=${notOnnx}`, "-q"])
    assert.strictEqual(text.code, 2)
    assert.include(text.stderr, `Model dino (${notOnnx}) for vbench.subject_consistency: ONNX Runtime cannot load it`)
  })

  it("a bad runtime setting in the environment is one line and exit 2", async () => {
    const result = await vidpool(["eval", clipOf(wide), "-q"], { env: { VIDPOOL_MODEL_PROVIDERS: "cpu,gpu9000" } })
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "VIDPOOL_MODEL_PROVIDERS")
  })

  it("JSON Lines output records each model file's digest, and --resume refuses another file under the same name", async () => {
    const out = path.join(dir, "models.jsonl")
    const first = await vidpool(["eval", clipOf(wide), "--model", `dino=${dino}`, "--metrics", "subject_consistency", "--out", out, "-q"])
    assert.strictEqual(first.code, 0, first.stderr)
    const settings = JSON.parse(fs.readFileSync(out, "utf8").split("\n")[0]) as { type: string; models: Record<string, string> }
    assert.strictEqual(settings.type, "settings")
    assert.deepStrictEqual(settings.models, { dino: createHash("sha256").update(fs.readFileSync(dino)).digest("hex") })
    const copy = path.join(dir, "dino-copy.onnx")
    fs.copyFileSync(dino, copy)
    const same = await vidpool(["eval", clipOf(wide), "--model", `dino=${copy}`, "--metrics", "subject_consistency", "--out", out, "--resume", "-q"])
    assert.strictEqual(same.code, 0, same.stderr)
    const other = path.join(dir, "dino-other.onnx")
    fs.copyFileSync(path.join(fixtures, "dino-fixed224.onnx"), other)
    const before = fs.readFileSync(out)
    const refused = await vidpool(["eval", clipOf(wide), "--model", `dino=${other}`, "--metrics", "subject_consistency", "--out", out, "--resume", "-q"])
    assert.strictEqual(refused.code, 2)
    assert.strictEqual(lines(refused.stderr).length, 1, refused.stderr)
    assert.include(refused.stderr, "the model dino")
    assert.deepStrictEqual(fs.readFileSync(out), before)
  })
})
