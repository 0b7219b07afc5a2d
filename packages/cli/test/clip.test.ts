import { afterAll, assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { packageDir, removeDir, tempDir, vidpool } from "./helpers.ts"

const fixtures = path.resolve(packageDir, "..", "eval", "test", "fixtures", "clip")
const reference = JSON.parse(fs.readFileSync(path.join(fixtures, "reference.json"), "utf8")) as {
  readonly clips: ReadonlyArray<{ readonly clip: string; readonly prompt: string; readonly appearance_style: number; readonly background_consistency: number }>
}
const model = (name: string, file: string) => ["--model", `${name}=${path.join(fixtures, file)}`]
const b32 = [
  ...model("clip_b32_image", "clip-b32-image.onnx"),
  ...model("clip_b32_text", "clip-b32-text.onnx"),
  ...model("clip_tokenizer", "tokenizer.json")
]

describe.concurrent("CLIP metrics on the command line", () => {
  const dir = tempDir()
  afterAll(() => removeDir(dir))

  it("takes the prompt from a manifest's text_prompt field; a line without one skips appearance style with the reason", async () => {
    const [a, b] = reference.clips
    const manifest = path.join(dir, "prompts.jsonl")
    fs.writeFileSync(manifest, [
      JSON.stringify({ video: path.join(fixtures, a.clip), text_prompt: a.prompt }),
      JSON.stringify({ video: path.join(fixtures, b.clip) })
    ].join("\n") + "\n")
    const result = await vidpool(["eval", manifest, ...b32, "--metrics", "appearance_style,background_consistency", "--format", "json", "-q"])
    assert.strictEqual(result.code, 0, result.stderr)
    const samples = (JSON.parse(result.stdout) as {
      samples: Array<{ scores: Record<string, number | null>; details: Record<string, { skipped?: string }> }>
    }).samples
    assert.approximately(samples[0].scores["vbench.appearance_style"]!, a.appearance_style, 1e-4 * Math.abs(a.appearance_style))
    assert.approximately(samples[1].scores["vbench.background_consistency"]!, b.background_consistency, 1e-4 * b.background_consistency)
    assert.isNull(samples[1].scores["vbench.appearance_style"])
    assert.include(samples[1].details["vbench.appearance_style"].skipped!, "text_prompt")
  })

  it("a tokenizer file that is not one is exit 2 naming the model and the file, before anything is decoded", async () => {
    const broken = path.join(dir, "broken.mp4")
    fs.writeFileSync(broken, "not a video")
    const manifest = path.join(dir, "broken.jsonl")
    fs.writeFileSync(manifest, JSON.stringify({ video: broken, text_prompt: "a cat" }) + "\n")
    const onnx = path.join(fixtures, "clip-b32-text.onnx")
    const result = await vidpool([
      "eval", manifest, ...model("clip_b32_image", "clip-b32-image.onnx"), ...model("clip_b32_text", "clip-b32-text.onnx"),
      "--model", `clip_tokenizer=${onnx}`, "--metrics", "appearance_style", "-q"
    ])
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, `Model clip_tokenizer (${onnx}) for vbench.appearance_style: expected CLIP's tokenizer.json`)
  })
})
