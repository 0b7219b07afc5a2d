import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  DecodeError,
  FfmpegNotFound,
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
    [new FfmpegNotFound({ searched: ["FFMPEG_PATH", "PATH"] }), "set FFMPEG_PATH"]
  ] as const)("explains %s", (reason, text) => {
    const error = new DecodeError({ path: "x.mp4", reason })
    assert.include(error.message, "x.mp4")
    assert.include(error.message, text)
  })

  it.effect("is a typed failure a program can match by reason", () =>
    Effect.gen(function*() {
      const recovered = yield* Effect.fail(new DecodeError({ path: "x", reason: new NotFound() })).pipe(
        Effect.catchReason("DecodeError", "NotFound", () => Effect.succeed("skipped"))
      )
      assert.strictEqual(recovered, "skipped")
    }))
})
