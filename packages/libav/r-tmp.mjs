import { Effect, Layer } from "effect"
import { Video, VideoDecoder } from "@vidpool/pool"
import { LibavDecoder } from "@vidpool/libav"
import { FfmpegDecoder } from "@vidpool/ffmpeg"
for (const [name, layer] of [["libav", LibavDecoder.layer], ["ffmpeg", FfmpegDecoder.layer]]) {
  for (const o of [{}, { start: 1, end: 3.4 }, { start: 1.5 }, { end: 2 }, { numFrames: 8, start: 1.2 }]) {
    const r = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(layer)
      return yield* Effect.provideContext(Effect.result(VideoDecoder.use((d) => d.decode(Video.file("/tmp/t10/vfr3.mp4", o)))), ctx)
    })))
    console.log(name, JSON.stringify(o), r._tag === "Success" ? `${r.success.shape[0]} frames ${r.success.timestamps.at(0)}..${r.success.timestamps.at(-1)}` : r.failure.message)
  }
}
