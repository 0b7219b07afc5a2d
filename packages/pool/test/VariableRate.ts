// A variable-frame-rate clip against a file cut short with its index intact, for every real
// decoder: the first gives the frames in its stream, with and without a start/end range (fewer
// than duration x average rate, but spread to the range's end); the second stays InvalidData.
import { assert, layer } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { type DecodeOptions, Video, VideoDecoder } from "../src/index.ts"

export interface VariableRateClips {
  /** 50 frames: 25 at 25 fps from 0 s, then 25 at 0.1 s apart from 1 s. */
  readonly vfr: string
  /** Cut short with their index intact: video alone, and with audio. */
  readonly cut: ReadonlyArray<string>
}

const decode = (path: string, options: DecodeOptions = {}) => VideoDecoder.use((d) => d.decode(Video.file(path, options)))

export const variableRateSuite = (name: string, live: Layer.Layer<VideoDecoder, unknown>, clips: VariableRateClips) =>
  layer(live, { timeout: "60 seconds", excludeTestServices: true })(`${name}: variable frame rate or cut short`, (it) => {
    it.effect("a variable-frame-rate clip gives the frames in its stream, in any start/end range", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* decode(clips.vfr)).shape[0], 50)
        // Frames at 1.0, 1.1, ... 3.3 (24 of them), not 2.4 s x the 14 fps average.
        assert.strictEqual((yield* decode(clips.vfr, { start: 1, end: 3.4 })).shape[0], 24)
        assert.strictEqual((yield* decode(clips.vfr, { start: 1.5 })).shape[0], 19)
        assert.strictEqual((yield* decode(clips.vfr, { end: 2 })).shape[0], 35)
        assert.strictEqual((yield* decode(clips.vfr, { start: 1.2, numFrames: 8 })).shape[0], 8)
      }))

    it.effect("a file cut short with its index intact is InvalidData, with or without a range", () =>
      Effect.gen(function*() {
        for (const path of clips.cut) {
          for (const options of [{}, { start: 0.2 }, { start: 0.1, end: 1.9 }, { start: 0.2, numFrames: 4 }] as const) {
            const error = yield* Effect.flip(decode(path, options))
            assert.strictEqual(error.reason._tag, "InvalidData", `${path} ${JSON.stringify(options)}`)
            assert.match(error.message, /cut short/, `${path} ${JSON.stringify(options)}`)
          }
        }
      }))
  })
