import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { packageDir, vidpool } from "./helpers.ts"

const fixtures = path.resolve(packageDir, "..", "eval", "test", "fixtures", "flow")
const raft = path.join(fixtures, "raft-tiny.onnx")
const lpips = path.join(fixtures, "lpips-tiny.onnx")
const reference = JSON.parse(fs.readFileSync(path.join(fixtures, "reference.json"), "utf8")) as {
  readonly dynamic_degree: ReadonlyArray<{ readonly clip: string; readonly score: number; readonly perPair: ReadonlyArray<number> }>
}

describe.concurrent("the flow and LPIPS models on the command line", () => {
  it("vidpool metrics shows common.lpips and vbench.dynamic_degree with their models", async () => {
    const bare = await vidpool(["metrics"])
    assert.strictEqual(bare.code, 0, bare.stderr)
    assert.match(bare.stdout, /^common\.lpips\s+sample\s+video, reference\s+lpips \(not given\)/m)
    assert.match(bare.stdout, /^vbench\.dynamic_degree\s+sample\s+video\s+raft \(not given\)/m)
    const given = await vidpool(["metrics", "--model", `raft=${raft}`], { env: { VIDPOOL_MODEL_LPIPS: lpips } })
    assert.match(given.stdout, /^common\.lpips\s+sample\s+video, reference\s+lpips \(given\)/m)
    assert.match(given.stdout, /^vbench\.dynamic_degree\s+sample\s+video\s+raft \(given\)/m)
  })

  it("vidpool eval --model raft=PATH gives FastVideo's dynamic degree verdicts", async () => {
    const clips = reference.dynamic_degree.map((c) => path.join(fixtures, c.clip))
    const result = await vidpool(["eval", ...clips, "--model", `raft=${raft}`, "--metrics", "dynamic_degree", "--format", "json", "-q"])
    assert.strictEqual(result.code, 0, result.stderr)
    const samples = (JSON.parse(result.stdout) as { samples: Array<{ scores: Record<string, number | null> }> }).samples
    assert.deepStrictEqual(samples.map((s) => s.scores["vbench.dynamic_degree"]), reference.dynamic_degree.map((c) => c.score))
  })
})
