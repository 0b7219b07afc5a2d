import { assert, describe, it } from "@effect/vitest"
import { NodeSocketServer } from "@effect/platform-node"
import { Cause, Effect } from "effect"
import { RunnerAddress } from "effect/cluster"
import * as net from "node:net"
import { TestClock } from "effect/testing"
import { MetricError, UnknownMetric } from "@vidpool/eval"
import { FfmpegNotFound } from "@vidpool/ffmpeg"
import { LibavUnavailable } from "@vidpool/libav"
import { DecodeError, InvalidData } from "@vidpool/pool"
import { defaultMetrics, resolveNames } from "../src/Engine.ts"
import * as ExitCodes from "../src/ExitCodes.ts"
import { InputError } from "../src/InputError.ts"
import { OutputError } from "../src/OutputError.ts"
import * as Format from "../src/Format.ts"
import type { InputSample } from "../src/Inputs.ts"
import * as Progress from "../src/Progress.ts"
import { listenError } from "../src/internal/RunnerCommand.ts"
import type { Report } from "../src/Report.ts"

const known = ["common.mse", "common.psnr", "common.ssim", "quality.sharpness", "common.frechet_distance"]

describe("resolveNames", () => {
  it("takes exact names, prefixes, `*` prefixes and short names, in catalogue order without duplicates", () => {
    assert.deepStrictEqual(resolveNames(["ssim", "common.psnr"], known), {
      resolved: ["common.psnr", "common.ssim"],
      unknown: undefined
    })
    assert.deepStrictEqual(resolveNames(["common"], known).resolved, ["common.mse", "common.psnr", "common.ssim", "common.frechet_distance"])
    assert.deepStrictEqual(resolveNames(["quality.*", "sharp"], known).resolved, ["quality.sharpness"])
  })

  it("names the first name that matches nothing", () => {
    assert.strictEqual(resolveNames(["psnr", "vmaf", "fvd"], known).unknown, "vmaf")
    assert.strictEqual(resolveNames(["psnr*"], known).unknown, "psnr*")
  })

  it("refuses a short name that fits several metrics, as the library does", () => {
    assert.deepStrictEqual(resolveNames(["psnr"], [...known, "other.psnr"]), { resolved: [], unknown: "psnr" })
    assert.deepStrictEqual(resolveNames(["other.psnr"], [...known, "other.psnr"]).resolved, ["other.psnr"])
    // `s` starts both ssim and sharpness
    assert.strictEqual(resolveNames(["s"], known).unknown, "s")
  })
})

describe("ExitCodes", () => {
  const searched = ["FFMPEG_PATH (/no/such/ffmpeg)"]
  it("maps each tagged error to its exit code: 2 for what the user can fix, 1 for a failed run", () => {
    const usage = [
      InputError.usage("--fps must be a number > 0, got 0"),
      new UnknownMetric({ name: "vmaf", known }),
      new LibavUnavailable({ detail: "node-av is not installed for this platform" })
    ]
    const failed = [
      new FfmpegNotFound({ searched }),
      new DecodeError({ path: "a.mp4", reason: new InvalidData({ detail: "moov atom not found" }) }),
      new MetricError({ metric: "common.psnr", index: 3, detail: "shapes differ" })
    ]
    assert.deepStrictEqual(usage.map(ExitCodes.exitCodeOf), [2, 2, 2])
    assert.deepStrictEqual(failed.map(ExitCodes.exitCodeOf), [1, 1, 1])
  })

  it("writes no ffmpeg as the line that says where it looked and what to do", () => {
    assert.strictEqual(
      ExitCodes.describe(new FfmpegNotFound({ searched })),
      "no ffmpeg binary found (looked at: FFMPEG_PATH (/no/such/ffmpeg)); set FFMPEG_PATH to one, " +
        "put ffmpeg on PATH, or install @vidpool/ffmpeg's optional dependencies"
    )
  })

  it.effect("turns a failure into one line and a CommandExit, keeping the typed error until then", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.flip(
        ExitCodes.toExit(Cause.fail(new MetricError({ metric: "common.psnr", index: 3, detail: "shapes differ" })))
      )
      assert.instanceOf(exit, ExitCodes.CommandExit)
      assert.strictEqual(exit.code, 1)
      const internal = yield* Effect.flip(ExitCodes.toExit(Cause.die(new Error("a bug\nover two lines"))))
      assert.strictEqual(internal.code, 70)
    }))
})

describe("OutputError", () => {
  const systemError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}, write`), { code })

  it("names the cause of a failed write by its system code, and the remedy, for a file and for stdout", () => {
    const full = OutputError.of("out/scores.json", systemError("ENOSPC", "no space left on device"))
    assert.strictEqual(full.code, "ENOSPC")
    assert.strictEqual(
      full.message,
      "out/scores.json: cannot write it: no space left on device (ENOSPC); free some space on that disk, or give --out a file on another one"
    )
    assert.strictEqual(
      OutputError.of("stdout", systemError("ENOSPC", "no space left on device")).message,
      "cannot write to stdout: no space left on device (ENOSPC); free some space on the disk it goes to, or redirect it to another one"
    )
    assert.strictEqual(
      OutputError.of("scores.json", systemError("EROFS", "read-only file system")).message,
      "scores.json: cannot write it: read-only file system (EROFS); give --out a file on a writable disk"
    )
    assert.strictEqual(
      OutputError.of("scores.json", systemError("EACCES", "permission denied")).message,
      "scores.json: cannot write it: permission denied (EACCES); give --out a file in a folder you may write to"
    )
  })

  it("keeps the system's words for a code it does not know, and the cause itself as data", () => {
    const cause = systemError("EWEIRD", "something odd")
    const error = OutputError.of("scores.json", cause)
    assert.strictEqual(error.message, "scores.json: cannot write it: EWEIRD: something odd, write; give --out a file on another disk")
    assert.strictEqual(error.cause, cause)
  })

  it("reads the code under an effect PlatformError (its reason's cause)", () => {
    const error = OutputError.of("scores.json", { reason: { _tag: "Unknown", cause: systemError("EDQUOT", "disk quota exceeded") } })
    assert.strictEqual(error.code, "EDQUOT")
    assert.include(error.message, "disk quota exceeded (EDQUOT)")
  })

  it("is exit code 1, and a closed stdout (its reader went away) ends the command quietly with 0", () =>
    Effect.gen(function*() {
      assert.strictEqual(ExitCodes.exitCodeOf(OutputError.of("stdout", systemError("ENOSPC", "full"))), 1)
      const closed = OutputError.of("stdout", systemError("EPIPE", "broken pipe"))
      assert.isTrue(closed.isClosedPipe)
      assert.isFalse(OutputError.of("out.jsonl", systemError("EPIPE", "broken pipe")).isClosedPipe)
      const exit = yield* Effect.flip(ExitCodes.toExit(Cause.fail(closed)))
      assert.strictEqual(exit.code, 0)
    }).pipe(Effect.runSync))
})

describe("RunnerCommand.listenError", () => {
  /** The error effect's socket server fails with when it cannot listen at `host:port`, as a runner's does. */
  const cannotListen = (host: string, port: number) =>
    Effect.flip(Effect.scoped(NodeSocketServer.make({ host, port })))

  it.live("names the address, that it is in use, and the remedy", () =>
    Effect.gen(function*() {
      const taken = net.createServer()
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => { taken.listen(0, "127.0.0.1", () => resume(Effect.void)) }),
        () => Effect.callback<void>((resume) => { taken.close(() => resume(Effect.void)) })
      )
      const port = (taken.address() as net.AddressInfo).port
      const error = listenError(RunnerAddress.make("127.0.0.1", port), yield* cannotListen("127.0.0.1", port))
      assert.strictEqual(
        error.message,
        `--listen 127.0.0.1:${port}: cannot listen there: the address is already in use (EADDRINUSE): another program, ` +
          `or another runner, listens on that port; give --listen a free port`
      )
      assert.strictEqual(ExitCodes.exitCodeOf(error), 2)
    }).pipe(Effect.scoped))

  it.live("names an address that is not this machine's, and the remedy", () =>
    Effect.gen(function*() {
      // TEST-NET-1 (RFC 5737): never an address of this machine.
      const error = listenError(RunnerAddress.make("192.0.2.1", 7100), yield* cannotListen("192.0.2.1", 7100))
      assert.strictEqual(
        error.message,
        "--listen 192.0.2.1:7100: cannot listen there: cannot assign requested address (EADDRNOTAVAIL): it is not an address " +
          "of this machine; give --listen one of its addresses, or 0.0.0.0:PORT with --advertise HOST:PORT, the address the others reach it at"
      )
    }))
})

describe("defaultMetrics", () => {
  const catalogue = [
    { name: "common.psnr", kind: "sample" as const, needs: ["video", "reference"], description: "", version: "1" },
    { name: "quality.sharpness", kind: "sample" as const, needs: ["video"], description: "", version: "1" },
    { name: "text.clip", kind: "sample" as const, needs: ["video", "prompt"], description: "", version: "1" },
    { name: "common.frechet_distance", kind: "set" as const, needs: ["video"], description: "", version: "1" }
  ]
  const plain: InputSample = { video: "a.mp4", fields: {} }
  it("keeps the metrics whose needs some sample meets, and corpus metrics only with references", () => {
    assert.deepStrictEqual(defaultMetrics(catalogue, [plain]), ["quality.sharpness"])
    assert.deepStrictEqual(defaultMetrics(catalogue, [plain, { video: "b.mp4", reference: "r.mp4", fields: { prompt: "x" } }]), [
      "common.psnr",
      "quality.sharpness",
      "text.clip",
      "common.frechet_distance"
    ])
  })
})

const report = (complete: boolean): Report => ({
  inputs: [
    { video: "clips/a.mp4", fields: { prompt: "a \"quoted\", prompt" } },
    { video: "clips/b.mp4", fields: {} },
    { video: "clips/c.mp4", fields: {} }
  ],
  metrics: ["common.psnr", "other.psnr"],
  corpusMetrics: [],
  samples: [
    { index: 0, metrics: { "common.psnr": { name: "common.psnr", score: 31.234, details: {} }, "other.psnr": { name: "other.psnr", score: null, details: {} } } },
    { index: 1, metrics: {}, error: { _tag: "DecodeError", message: "Cannot decode clips/b.mp4:\nbad" } }
  ],
  corpus: [],
  summary: {},
  timing: { wallMs: 10, decodeMs: 0, computeMs: 0, waitMs: 0 },
  complete
})

describe("Format", () => {
  it("formats scores for people", () => {
    assert.deepStrictEqual([0.98765, 31.234, 1234.56, null, Infinity].map((x) => Format.formatScore(x)), [
      "0.9877",
      "31.23",
      "1234.6",
      "-",
      "inf"
    ])
    // a column shares the precision of its largest value
    const d = Format.decimalsFor([9.6833, 22.3, null])
    assert.deepStrictEqual([9.6833, 22.3].map((x) => Format.formatScore(x, d)), ["9.68", "22.30"])
  })

  it("titles columns with short names unless two share one", () => {
    assert.deepStrictEqual(Format.shortNames(["common.psnr", "other.psnr", "common.ssim"]), ["common.psnr", "other.psnr", "ssim"])
  })

  it("quotes CSV cells and marks an interrupted run on its last line", () => {
    const text = Format.render(report(false), "csv").trimEnd().split("\n")
    assert.deepStrictEqual(text, [
      "index,video,field.prompt,common.psnr,other.psnr,error",
      `0,clips/a.mp4,"a ""quoted"", prompt",31.234,,`,
      `1,clips/b.mp4,,,,"Cannot decode clips/b.mp4:`,
      `bad"`,
      "# incomplete: 2 of 3 samples evaluated before the run was interrupted"
    ])
  })

  it("gives every CSV column a name of its own, whatever the manifest fields and metrics are called, and the file parses back", () => {
    const inputs: Array<InputSample> = [
      // Fields named like the command's own columns and like the metrics, values that need quoting.
      {
        video: "clips/line\nbreak.mp4",
        fields: { index: 7, error: "none", "common.psnr": 12.5, prompt: "a, \"quoted\"\r\nprompt", "field.prompt": "again", "metric.x": true }
      },
      { video: "clips/b.mp4", reference: "refs/b.mp4", fields: { labels: ["x", "y"] } }
    ]
    // Metric names that would read as the command's columns, or as a field's.
    const metrics = ["common.psnr", "error", "index", "field.prompt", "metric.x"]
    const score = (name: string, value: number | null) => ({ name, score: value, details: {} })
    const sampleMetrics = (base: number) => Object.fromEntries(metrics.map((name, i) => [name, score(name, base + i)]))
    const report: Report = {
      inputs,
      metrics,
      corpusMetrics: [],
      samples: [
        { index: 0, metrics: sampleMetrics(10) },
        { index: 1, metrics: sampleMetrics(20), error: { _tag: "MetricError", message: "Metric index failed on sample 1:\n\"bad\", really" } }
      ],
      corpus: [],
      summary: {},
      timing: { wallMs: 1, decodeMs: 0, computeMs: 0, waitMs: 0 },
      complete: true
    }
    const [header, ...rows] = parseCsv(Format.render(report, "csv"))
    assert.deepStrictEqual(header, [
      "index",
      "video",
      "reference",
      "field.index",
      "field.error",
      "field.common.psnr",
      "field.prompt",
      "field.field.prompt",
      "field.metric.x",
      "field.labels",
      "common.psnr",
      "metric.error",
      "metric.index",
      "metric.field.prompt",
      "metric.metric.x",
      "error"
    ])
    assert.strictEqual(new Set(header).size, header.length)
    // Back from the header alone: the command's columns, `field.` a manifest field, the rest metrics.
    const back = rows.map((row) => {
      const record = { fields: {} as Record<string, string>, scores: {} as Record<string, number>, own: {} as Record<string, string> }
      header.forEach((column, i) => {
        if (["index", "video", "reference", "error"].includes(column)) record.own[column] = row[i]
        else if (column.startsWith("field.")) record.fields[column.slice("field.".length)] = row[i]
        else record.scores[column.startsWith("metric.") ? column.slice("metric.".length) : column] = Number(row[i])
      })
      return record
    })
    assert.lengthOf(back, 2)
    assert.deepStrictEqual(back[0].own, { index: "0", video: "clips/line\nbreak.mp4", reference: "", error: "" })
    assert.deepStrictEqual(back[0].fields, {
      index: "7",
      error: "none",
      "common.psnr": "12.5",
      prompt: "a, \"quoted\"\r\nprompt",
      "field.prompt": "again",
      "metric.x": "true",
      labels: ""
    })
    assert.deepStrictEqual(back[0].scores, Object.fromEntries(metrics.map((name, i) => [name, 10 + i])))
    assert.deepStrictEqual(back[1].own, {
      index: "1",
      video: "clips/b.mp4",
      reference: "refs/b.mp4",
      error: "Metric index failed on sample 1:\n\"bad\", really"
    })
    assert.strictEqual(back[1].fields.labels, `["x","y"]`)
    assert.deepStrictEqual(back[1].scores, Object.fromEntries(metrics.map((name, i) => [name, 20 + i])))
  })

  it("keeps each table row on one line, writing control characters in names as escapes", () => {
    const names = ["clips/new\nline.mp4", "clips/tab\tand\rreturn.mp4", "clips/esc\u001b[31mred.mp4", "clips/sep\u2028x\u0085y.mp4"]
    const report: Report = {
      inputs: names.map((video) => ({ video, fields: {} })),
      metrics: ["quality.sharp\nness"],
      corpusMetrics: ["set.\tcorpus"],
      samples: names.map((_, index) => ({
        index,
        metrics: { "quality.sharp\nness": { name: "quality.sharp\nness", score: index, details: {} } },
        ...(index === 3 ? { error: { _tag: "DecodeError", message: "Cannot decode clips/esc\u001b[31mred.mp4:\nbad" } } : {})
      })),
      corpus: [{ name: "set.\tcorpus", score: 1.5, details: {} }],
      summary: {},
      timing: { wallMs: 1, decodeMs: 0, computeMs: 0, waitMs: 0 },
      complete: true
    }
    const out = Format.render(report, "table").trimEnd().split("\n")
    // The header, four rows, a blank line, the corpus header and its row: nothing else.
    assert.lengthOf(out, 8)
    assert.match(out[0], /^#\s+video \(in clips\/\)\s+sharp\\nness\s+error$/)
    assert.match(out[1], /^0\s+new\\nline\.mp4\s+0\.0000\s*$/)
    assert.match(out[2], /^1\s+tab\\tand\\rreturn\.mp4\s+1\.0000\s*$/)
    assert.match(out[3], /^2\s+esc\\x1b\[31mred\.mp4\s+2\.0000\s*$/)
    assert.match(out[4], /^3\s+sep\\u2028x\\x85y\.mp4\s+3\.0000\s+Cannot decode clips\/esc\\x1b\[31mred\.mp4: bad$/)
    assert.match(out[7], /^set\.\\tcorpus\s+1\.5000$/)
    for (const line of out) assert.notMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
    assert.strictEqual(Format.visible("a\\b\u0000\u007f"), "a\\b\\x00\\x7f")
  })

  it("says complete or not in JSON and in the last JSON Lines record", () => {
    assert.strictEqual(JSON.parse(Format.render(report(true), "json")).complete, true)
    const last = Format.render(report(false), "jsonl").trimEnd().split("\n").pop()!
    assert.deepInclude(JSON.parse(last), { type: "run", complete: false, total: 3, evaluated: 2, errors: 1 })
  })

  it("strips the shared folder in a table and keeps errors on one line", () => {
    const text = Format.render(report(true), "table")
    assert.match(text, /^#\s+video \(in clips\/\)\s+common\.psnr\s+other\.psnr\s+error$/m)
    assert.match(text, /^1\s+b\.mp4\s+-\s+-\s+Cannot decode clips\/b\.mp4: bad$/m)
  })
})

describe("Progress", () => {
  it.effect("writes a plain line at each tenth of the run, and the final state once", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const progress = yield* Progress.make({
        total: 20,
        mode: "plain",
        write: (text) => Effect.sync(() => written.push(text))
      })
      for (let i = 0; i < 20; i++) {
        yield* TestClock.adjust("50 millis")
        yield* progress.advance(i === 3)
      }
      yield* progress.finish
      assert.lengthOf(written, 10)
      assert.strictEqual(written[0], "progress: 2/20  20.0 clips/s  ETA 1s  0 errors\n")
      assert.strictEqual(written[9], "progress: 20/20  20.0 clips/s  done  1 error\n")
    }))

  it.effect("redraws the bar in place at most every redraw interval on a terminal", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const progress = yield* Progress.make({
        total: 4,
        mode: "tty",
        redrawMs: 100,
        write: (text) => Effect.sync(() => written.push(text))
      })
      yield* TestClock.adjust("60 millis")
      yield* progress.advance(false) // too soon after the first draw
      yield* TestClock.adjust("60 millis")
      yield* progress.advance(false)
      yield* progress.finish
      assert.deepStrictEqual(written, [
        "[------------------------] 0/4  0.0 clips/s  ETA ?  0 errors",
        "\r\x1b[2K[############------------] 2/4  16.7 clips/s  ETA 0s  0 errors",
        "\r\x1b[2K[############------------] 2/4  16.7 clips/s  ETA 0s  0 errors\n"
      ])
    }))

  it.effect("cuts the bar to the terminal's width", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      yield* Progress.make({ total: 4, mode: "tty", columns: 20, write: (text) => Effect.sync(() => written.push(text)) })
      assert.deepStrictEqual(written, ["[------------------"])
    }))

  it("chooses the mode from --quiet, VIDPOOL_PROGRESS and the terminal", () => {
    assert.strictEqual(Progress.detectMode(true, "tty", true), "off")
    assert.strictEqual(Progress.detectMode(false, "plain", true), "plain")
    assert.strictEqual(Progress.detectMode(false, undefined, true), "tty")
    assert.strictEqual(Progress.detectMode(false, "", false), "plain")
  })
})

/** The rows of a CSV text (RFC 4180: quoted cells may hold commas, quotes and line breaks). */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") {
        cell += "\""
        i++
      } else if (c === "\"") {
        quoted = false
      } else {
        cell += c
      }
    } else if (c === "\"") {
      quoted = true
    } else if (c === ",") {
      row.push(cell)
      cell = ""
    } else if (c === "\n") {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ""
    } else {
      cell += c
    }
  }
  assert.isFalse(quoted, "a quoted cell is left open")
  assert.strictEqual(cell, "", "the text ends with a line break")
  return rows
}
