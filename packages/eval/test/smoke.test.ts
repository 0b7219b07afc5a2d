import { assert, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Video, VideoDecoder, VideoPool } from "@vidpool/pool"
import { Evaluator } from "../src/index.ts"

it.live("smoke", () =>
  Effect.gen(function*() {
    const ev = yield* Evaluator
    const r = yield* ev.evaluate([
      { video: Video.file("a.mp4"), reference: Video.file("b.mp4") },
      { video: Video.file("c.mp4"), reference: Video.file("c.mp4") },
      { video: Video.file("d.mp4"), role: "reference" },
      { video: Video.file("e.mp4"), role: "reference" },
      { video: Video.file("f.mp4") }
    ], { workers: 2 })
    console.log(JSON.stringify(r, (k, v) => k === "perFrame" ? undefined : v, 1))
  }).pipe(Effect.provide(Evaluator.layer.pipe(Layer.provide(VideoPool.layer), Layer.provide(VideoDecoder.layerTest({ shape: [3, 16, 16, 3] }))))))
