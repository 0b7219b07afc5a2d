import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  DecodeError,
  InvalidData,
  NotFound,
  PermissionDenied,
  ProcessFailed,
  Timeout,
  TooLarge
} from "@vidpool/pool"

describe("DecodeError", () => {
  it("names the file, the sample and field, and the cause", () => {
    const error = new DecodeError({ path: "/data/a.mp4", reason: new NotFound() }).at(4, "reference")
    assert.strictEqual(error.message, `Cannot decode /data/a.mp4 (sample 4, field "reference"): no such file or folder`)
    assert.strictEqual(error.index, 4)
    assert.strictEqual(error.key, "reference")
  })

  it.each([
    [new PermissionDenied(), "permission denied"],
    [new InvalidData({ detail: "moov atom not found" }), "not a readable video: moov atom not found"],
    [new ProcessFailed({ exitCode: 1, stderr: "Invalid data\n" }), "exited with code 1: Invalid data"],
    [new ProcessFailed({ exitCode: null, signal: "SIGKILL", stderr: "" }), "was killed by SIGKILL"],
    [new Timeout({ millis: 500 }), "longer than 500 ms"],
    [new TooLarge({ bytes: 2000, limit: 1000 }), "2000 bytes, over the limit of 1000 bytes"],
    [new ProcessFailed({ exitCode: null, stderr: "", cause: new Error("spawn ENOENT") }), "process failed: spawn ENOENT"]
  ] as const)("explains %s", (reason, text) => {
    const error = new DecodeError({ path: "x.mp4", reason })
    assert.include(error.message, "x.mp4")
    assert.include(error.message, text)
  })

  it("keeps the cause of a failure as the value it was, not as text", () => {
    const spawn = Object.assign(new Error("spawn /opt/ffmpeg EACCES"), { code: "EACCES" })
    const failed = new DecodeError({ path: "x.mp4", reason: new ProcessFailed({ exitCode: null, stderr: "", cause: spawn }) })
    assert.strictEqual(failed.reason._tag, "ProcessFailed")
    if (failed.reason._tag === "ProcessFailed") assert.strictEqual(failed.reason.cause, spawn)
    assert.strictEqual(failed.message, "Cannot decode x.mp4: the decoder process failed: spawn /opt/ffmpeg EACCES")
    // The sample's mark keeps the same reason, cause and all.
    assert.strictEqual(failed.at(2, "video").reason, failed.reason)
    const read = new InvalidData({ detail: "cannot read ffmpeg's output: EIO", cause: spawn })
    assert.strictEqual(read.cause, spawn)
    assert.include(new DecodeError({ path: "x.mp4", reason: read }).message, "cannot read ffmpeg's output: EIO")
  })

  it("a process's stderr explains it ahead of the cause, and a signal is named from its field", () => {
    const withTail = new ProcessFailed({ exitCode: 1, stderr: "moov atom not found", cause: new Error("ignored") })
    assert.include(new DecodeError({ path: "x", reason: withTail }).message, "exited with code 1: moov atom not found")
    const killed = new ProcessFailed({ exitCode: null, signal: "SIGSEGV", stderr: "" })
    assert.strictEqual(new DecodeError({ path: "x", reason: killed }).message, "Cannot decode x: the decoder process was killed by SIGSEGV")
  })

  it.effect("is a typed failure a program can match by reason", () =>
    Effect.gen(function*() {
      const recovered = yield* Effect.fail(new DecodeError({ path: "x", reason: new NotFound() })).pipe(
        Effect.catchReason("DecodeError", "NotFound", () => Effect.succeed("skipped"))
      )
      assert.strictEqual(recovered, "skipped")
    }))
})
