import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Output from "../src/Output.ts"
import { lines, makeClip, removeDir, tempDir, vidpool } from "./helpers.ts"

/**
 * A run given `out` is refused before it starts (one line naming the file and why, exit 2, no
 * header of a started run), and `protectedFile` keeps every byte.
 */
const expectRefused = async (args: ReadonlyArray<string>, out: string, protectedFile: string, why: string) => {
  const before = fs.readFileSync(protectedFile)
  const result = await vidpool(args)
  assert.strictEqual(result.code, 2, result.stderr)
  assert.deepStrictEqual(lines(result.stderr), [`vidpool: ${out}: --out would write over it: ${why}; give --out a new file (or one of vidpool's results)`])
  assert.deepStrictEqual(fs.readFileSync(protectedFile), before)
  assert.strictEqual(result.stdout, "")
  assert.deepStrictEqual(fs.readdirSync(path.dirname(out)).filter((f) => f.endsWith(".tmp")), [])
}

describe("vidpool eval --out: nothing but vidpool's own results is written over", () => {
  let dir: string
  let clips: string
  let refs: string
  const sharpness = ["--metrics", "sharpness"]
  beforeAll(async () => {
    dir = tempDir()
    clips = path.join(dir, "clips")
    refs = path.join(dir, "refs")
    fs.mkdirSync(clips)
    fs.mkdirSync(refs)
    for (const name of ["a.mp4", "b.mp4", "c.mp4"]) {
      await makeClip(path.join(clips, name))
      await makeClip(path.join(refs, name), { source: "mandelbrot" })
    }
  })
  afterAll(() => removeDir(dir))

  it("refuses an --out that is the input video itself", async () => {
    const video = path.join(clips, "a.mp4")
    await expectRefused(["eval", video, ...sharpness, "--out", video], video, video, "it is an input of this run")
  })

  it("refuses a pattern after -o, which makes the first clip --out", async () => {
    const all = fs.readdirSync(clips).sort().map((name) => path.join(clips, name))
    await expectRefused(
      ["eval", "-o", ...all],
      all[0],
      all[0],
      "it is a video or image (.mp4; a pattern after -o gives --out its first match)"
    )
  })

  it("refuses an --out that is a symbolic link to an input, or a hard link to a reference", async () => {
    const link = path.join(dir, "link.json")
    fs.symlinkSync(path.join(clips, "b.mp4"), link)
    await expectRefused(["eval", clips, ...sharpness, "--out", link], link, path.join(clips, "b.mp4"), `it is the same file as the input ${path.join(clips, "b.mp4")}`)
    const hard = path.join(dir, "hard.csv")
    fs.linkSync(path.join(refs, "c.mp4"), hard)
    await expectRefused(
      ["eval", clips, "--reference", refs, "--metrics", "psnr", "--out", hard],
      hard,
      path.join(refs, "c.mp4"),
      `it is the same file as the input ${path.join(refs, "c.mp4")}`
    )
  })

  it("refuses an --out that is the manifest read", async () => {
    const manifest = path.join(dir, "list.jsonl")
    fs.writeFileSync(manifest, JSON.stringify({ video: "clips/a.mp4" }) + "\n")
    await expectRefused(["eval", manifest, ...sharpness, "--out", manifest], manifest, manifest, "it is an input of this run")
  })

  it("refuses an existing video or image that is not an input", async () => {
    const other = path.join(dir, "other.mkv")
    fs.copyFileSync(path.join(clips, "a.mp4"), other)
    await expectRefused(["eval", path.join(clips, "b.mp4"), ...sharpness, "--out", other, "--format", "json"], other, other, "it is a video or image (.mkv; a pattern after -o gives --out its first match)")
    const image = path.join(dir, "frame.PNG")
    fs.writeFileSync(image, "\x89PNG\r\n\x1a\n")
    await expectRefused(["eval", path.join(clips, "b.mp4"), ...sharpness, "--out", image, "--format", "csv"], image, image, "it is a video or image (.png; a pattern after -o gives --out its first match)")
  })

  it("refuses an --out that is not a regular file (a named pipe), which the final rename would replace", async () => {
    const fifo = path.join(dir, "pipe.json")
    execFileSync("mkfifo", [fifo])
    const result = await vidpool(["eval", path.join(clips, "a.mp4"), ...sharpness, "--out", fifo])
    assert.strictEqual(result.code, 2, result.stderr)
    assert.deepStrictEqual(lines(result.stderr), [
      `vidpool: ${fifo}: --out would write over it: it is not a regular file (FIFO; without --out the results go to stdout); ` +
      `give --out a new file (or one of vidpool's results)`
    ])
    assert.isTrue(fs.statSync(fifo).isFIFO())
  })

  for (
    const [name, format, content] of [
      ["notes.txt", "table", "my notes\n"],
      ["package.json", "json", `{ "name": "mine" }\n`],
      ["labels.jsonl", "jsonl", `{"video":"x.mp4","label":1}\n`],
      ["data.csv", "csv", "id,value\n1,2\n"]
    ] as const
  ) {
    it(`refuses an existing file that is not vidpool's ${format} output (${name})`, async () => {
      const out = path.join(dir, name)
      fs.writeFileSync(out, content)
      await expectRefused(["eval", path.join(clips, "a.mp4"), ...sharpness, "--out", out], out, out, `it is not vidpool's ${format} output`)
    })
  }

  it("writes over an empty file, and over its own output in every format", async () => {
    for (const name of ["own.txt", "own.json", "own.jsonl", "own.csv"]) {
      const out = path.join(dir, name)
      fs.writeFileSync(out, "")
      for (let run = 0; run < 2; run++) {
        const result = await vidpool(["eval", path.join(clips, "a.mp4"), ...sharpness, "--out", out, "-q"])
        assert.strictEqual(result.code, 0, `${name}, run ${run}: ${result.stderr}`)
      }
      assert.include(fs.readFileSync(out, "utf8"), "a.mp4")
    }
  }, 120_000)
})

describe("Output.prepare", () => {
  it.effect("creates its temporary file anew: a link already at its name is not written through", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const video = path.join(dir, "keep.mp4")
      fs.writeFileSync(video, "a video's bytes")
      const out = path.join(dir, "scores.json")
      fs.symlinkSync(video, path.join(dir, `.scores.json.${process.pid}.tmp`))
      yield* Effect.scoped(Effect.gen(function*() {
        const output = yield* Output.prepare(out)
        yield* output.commit("{}\n")
      }))
      assert.strictEqual(fs.readFileSync(video, "utf8"), "a video's bytes")
      assert.strictEqual(fs.readFileSync(out, "utf8"), "{}\n")
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["keep.mp4", "scores.json"])
      removeDir(dir)
    }).pipe(Effect.provide(NodeServices.layer)))
})
