// Makes a clip with the ffmpeg vidpool finds, then decodes it through a VideoPool.
// Run: npx tsx examples/decode.ts (in packages/ffmpeg)
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Effect, Layer, Option } from "effect"
import { Video, VideoPool } from "@vidpool/pool"
import { Ffmpeg, FfmpegDecoder } from "@vidpool/ffmpeg"
import { FfmpegFixtures } from "@vidpool/ffmpeg/testing"

const program = Effect.gen(function*() {
  const ffmpeg = yield* Ffmpeg
  const clip = NodePath.join(Os.tmpdir(), "vidpool-example", "clip.mp4")
  yield* FfmpegFixtures.makeClipEffect(ffmpeg.path, clip, { source: "mandelbrot", frames: 50 })

  const pool = yield* VideoPool.use((_) =>
    _.open([
      { video: Video.file(clip), label: "all frames" },
      { video: Video.file(clip, { numFrames: 8, width: 112, height: 112, resize: "crop" }), label: "8 crops" },
      { video: Video.file(clip, { start: 1, dtype: "float32", layout: "TCHW" }), label: "from 1 s, torch layout" }
    ], { loaderThreads: 2 })
  )
  while (true) {
    const next = yield* pool.take
    if (Option.isNone(next)) break
    const [index, sample] = next.value
    console.log(index, sample.label, sample.video.shape, sample.video.dtype, `${sample.video.fps} fps`)
  }
}).pipe(Effect.scoped)

program.pipe(
  Effect.provide(Layer.mergeAll(VideoPool.layer.pipe(Layer.provide(FfmpegDecoder.layer)), Ffmpeg.layer)),
  Effect.runPromise
)
