import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import {
  DecodeError,
  DecodePlan,
  describeReason,
  InvalidData,
  NotFound,
  NotRegularFile,
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

  it.effect("is the same error, matched by the same reason, after the JSON a cluster sends it as", () =>
    Effect.gen(function*() {
      // A runner sends a batch's DecodeError through its Schema as JSON; the coordinator's program
      // must still match it by reason, with every field of the reason, and print the same message.
      const json = Schema.toCodecJson(DecodeError)
      const sent = [
        new DecodeError({ path: "nfs/a.mp4", reason: new Timeout({ millis: 30000, during: "open" }) }).at(7, "reference"),
        new DecodeError({ path: "b.mp4", reason: new TooLarge({ bytes: 2000, limit: 1000 }) }),
        new DecodeError({ path: "c", reason: new NotRegularFile({ kind: "FIFO" }) }).at(0, "video"),
        new DecodeError({ path: "d.mp4", reason: new ProcessFailed({ exitCode: null, signal: "SIGKILL", stderr: "" }) })
      ]
      for (const error of sent) {
        const received = Schema.decodeUnknownSync(json)(JSON.parse(JSON.stringify(Schema.encodeUnknownSync(json)(error))))
        assert.instanceOf(received, DecodeError)
        assert.deepStrictEqual([received.path, received.index, received.key], [error.path, error.index, error.key])
        assert.deepStrictEqual(received.reason, error.reason)
        assert.strictEqual(received.message, error.message)
        // A handler for another reason lets it through; one for its own reason gets the reason's fields.
        const matched = yield* Effect.fail(received).pipe(
          Effect.catchReason("DecodeError", "NotFound", () => Effect.succeed("not found")),
          Effect.catchReason("DecodeError", "Timeout", (reason) => Effect.succeed(`${reason.during} ${reason.millis}`)),
          Effect.catchReason("DecodeError", "TooLarge", (reason) => Effect.succeed(`${reason.bytes} > ${reason.limit}`)),
          Effect.catchReason("DecodeError", "NotRegularFile", (reason) => Effect.succeed(reason.kind)),
          Effect.catchReason("DecodeError", "ProcessFailed", (reason) => Effect.succeed(`${reason.signal}`))
        )
        assert.strictEqual(matched, ["open 30000", "2000 > 1000", "FIFO", "SIGKILL"][sent.indexOf(error)])
      }
    }))

  it("says what a path that is not a regular file is, and of a folder which image", () => {
    const fifo = new DecodeError({ path: "in.mp4", reason: new NotRegularFile({ kind: "FIFO" }) })
    assert.strictEqual(
      fifo.message,
      "Cannot decode in.mp4: it is a FIFO (named pipe), not a regular file (decoders read regular files: save the stream to a file first)"
    )
    const folder = new DecodeError({ path: "clips", reason: new NotRegularFile({ kind: "folder" }) })
    assert.include(folder.message, "it is a folder, not a video file (give a folder of images as Video.folder)")
    const loop = new DecodeError({ path: "loop", reason: new NotRegularFile({ kind: "symbolic link loop" }) })
    assert.include(loop.message, "Cannot decode loop: it is a symbolic link that leads back to itself")
    const image = new DecodeError({ path: "frames", reason: new NotRegularFile({ kind: "socket", image: "0003.png" }) })
    assert.strictEqual(image.message, "Cannot decode frames: its image 0003.png is a socket, not a regular file (decoders read regular files)")
    // The message is the reason's description after the path, whatever marks the sample.
    assert.strictEqual(image.at(3, "video").message, `Cannot decode frames (sample 3, field "video"): ${describeReason(image.reason)}`)
  })

  it("a Timeout while opening says which bound and how to raise it", () => {
    const error = new DecodeError({ path: "nfs/a.mp4", reason: new Timeout({ millis: 30000, during: "open" }) })
    assert.strictEqual(
      error.message,
      "Cannot decode nfs/a.mp4: the input gave no data within 30000 ms of being opened (a stalled network file system?); raise openTimeout if it is only slow"
    )
    assert.include(new DecodeError({ path: "a.mp4", reason: new Timeout({ millis: 500 }) }).message, "decoding took longer than 500 ms")
  })

  it("a failed file system call becomes its reason: a symbolic link loop is NotRegularFile, and an error code is said once", () => {
    assert.deepStrictEqual(DecodePlan.errnoReason({ code: "ENOENT", message: "ENOENT: no such file or directory, stat 'x'" }), { _tag: "NotFound" })
    assert.deepStrictEqual(DecodePlan.errnoReason({ code: "ELOOP", message: "ELOOP: too many symbolic links encountered, stat 'loop'" }), {
      _tag: "NotRegularFile",
      kind: "symbolic link loop"
    })
    assert.deepStrictEqual(DecodePlan.errnoReason({ code: "EIO", message: "EIO: i/o error, read" }), { _tag: "InvalidData", detail: "EIO: i/o error, read" })
    assert.deepStrictEqual(DecodePlan.errnoReason({ code: "EXDEV", message: "cross-device" }), { _tag: "InvalidData", detail: "EXDEV: cross-device" })
  })
})
