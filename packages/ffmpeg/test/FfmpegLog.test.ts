import { assert, describe, it } from "@effect/vitest"
import { displaySize, exactRate, explain, parse } from "../src/FfmpegLog.ts"

const stderr = `[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':
[info]   Duration: 00:01:02.50, start: 0.000000, bitrate: 278 kb/s
[info]     Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
[info]     Stream #0:1(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1920x1080 [SAR 1:1 DAR 16:9], 273 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)
[info]     Metadata:
[info]       rotate          : 90
[info]     Side data:
[info]       displaymatrix: rotation of -90.00 degrees
[info] Stream mapping:
[info]   Stream #0:1 -> #0:0 (h264 (native) -> rawvideo (native))
[info] Output #0, rawvideo, to '/dev/shm/x.raw':
[info]     Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24, 1080x1920 [SAR 1:1 DAR 9:16], q=2-31, 25 fps
[h264 @ 0x1] [error] Invalid NAL unit size (1519 > 160).
[info] frame=   44 fps=0.0 q=-0.0 Lsize=    9900kB time=00:00:01.76 bitrate=46080.0kbits/s speed= 113x
[error] clip.mp4: Invalid data found when processing input
`

describe("FfmpegLog", () => {
  it("reads the first video stream of the input header", () => {
    const report = parse(stderr)
    assert.deepStrictEqual(report.input, {
      codec: "h264",
      pixelFormat: "yuv420p",
      width: 1920,
      height: 1080,
      fps: 30000 / 1001,
      duration: 62.5,
      rotation: 90,
      streams: 2
    })
    assert.deepStrictEqual(report.output, { width: 1080, height: 1920 })
    assert.strictEqual(report.framesWritten, 44)
    assert.isUndefined(parse("[info] Input #0").framesWritten)
  })

  it("collects error lines for the message", () => {
    const report = parse(stderr)
    assert.deepStrictEqual(report.errors, ["Invalid NAL unit size (1519 > 160).", "clip.mp4: Invalid data found when processing input"])
    assert.include(explain(report, "fallback"), "Invalid data found")
    assert.strictEqual(explain(parse(""), "fallback"), "fallback")
  })

  it("has no input without a video stream, and N/A durations are unknown", () => {
    assert.isUndefined(parse("[info] Input #0, wav, from 'a.wav':\n[info]     Stream #0:0: Audio: pcm_s16le").input)
    const gif = parse("[info] Input #0, gif, from 'a.gif':\n[info]   Duration: N/A, bitrate: N/A\n[info]     Stream #0:0: Video: gif, bgra, 64x48, 10 fps, 10 tbr, 100 tbn, 100 tbc")
    assert.strictEqual(gif.input?.duration, undefined)
    assert.strictEqual(gif.input?.fps, 10)
  })

  it("the displayed size swaps width and height for a quarter turn only", () => {
    const input = parse(stderr).input
    assert.isDefined(input)
    if (input === undefined) return
    assert.deepStrictEqual(displaySize(input), { width: input.height, height: input.width }) // tagged 90
    for (const [rotation, swapped] of [[0, false], [90, true], [180, false], [270, true]] as const) {
      const shown = displaySize({ ...input, width: 64, height: 48, rotation })
      assert.deepStrictEqual(shown, swapped ? { width: 48, height: 64 } : { width: 64, height: 48 })
    }
  })

  it("turns NTSC rates back into their exact fractions and leaves others alone", () => {
    assert.strictEqual(exactRate(29.97), 30000 / 1001)
    assert.strictEqual(exactRate(23.98), 24000 / 1001)
    assert.strictEqual(exactRate(25), 25)
    assert.strictEqual(exactRate(12.5), 12.5)
  })
})
