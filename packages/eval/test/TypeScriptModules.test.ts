// The worker threads run compiled JavaScript under plain Node; a user's `.ts` metric module still
// loads, on the main thread and on the worker threads, when the user's own process runs under
// tsx, and under plain Node (22.18 and later strip types) when it only uses erasable syntax. A
// module that needs more than erasing types is refused under plain Node with an error naming it.
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const run = promisify(execFile)
const workspace = fileURLToPath(new URL("../../..", import.meta.url))
const app = fileURLToPath(new URL("./fixtures/typed-app.mjs", import.meta.url))
const typedMetrics = fileURLToPath(new URL("./fixtures/typed-metrics.ts", import.meta.url))
const enumMetrics = fileURLToPath(new URL("./fixtures/enum-metrics.ts", import.meta.url))

describe("metric modules written in TypeScript", () => {
  it("load on the worker threads when the process runs under `node --import tsx`", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", app, typedMetrics], { cwd: workspace })
    const results = JSON.parse(stdout.trim()) as Array<{ score: number; details: { isMainThread: boolean } }>
    expect(results.map((r) => r.score)).toEqual([3, 3])
    expect(results.map((r) => r.details.isMainThread)).toEqual([false, false])
  })

  it("load on the worker threads under plain node, which strips erasable types", async () => {
    const { stdout } = await run(process.execPath, [app, typedMetrics], { cwd: workspace })
    const results = JSON.parse(stdout.trim()) as Array<{ score: number; details: { isMainThread: boolean } }>
    expect(results.map((r) => r.score)).toEqual([3, 3])
    expect(results.map((r) => r.details.isMainThread)).toEqual([false, false])
  })

  it("that need more than erasing types are refused under plain node with a MetricError naming the module", async () => {
    const outcome = await run(process.execPath, [app, enumMetrics], { cwd: workspace }).then(
      () => "ran",
      (error: { stderr: string }) => error.stderr
    )
    expect(outcome).toMatch(/MetricError/)
    expect(outcome).toContain("enum-metrics.ts")
  })
})
