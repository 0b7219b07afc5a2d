import { Effect, Fiber, Layer, Option } from "effect"
import { DecodeError, InvalidData, TensorBuffers, Video, VideoDecoder, VideoPool, VideoTensor } from "@vidpool/pool"
import type { Pool } from "@vidpool/pool"

/** Samples `{ video, label }` for paths `v0.mp4` ... */
export const samples = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ video: Video.file(`v${i}.mp4`), label: i }))

export const pathIndex = (path: string): number => Number(path.slice(1, path.indexOf(".")))

export const tensor = (path: string): VideoTensor => VideoTensor.makeUnsafe({
  data: new Uint8Array(3),
  shape: [1, 1, 1, 3],
  layout: "THWC",
  dtype: "uint8",
  fps: 25,
  source: { path }
})

export const invalid = (path: string) => new DecodeError({ path, reason: new InvalidData({ detail: "scripted" }) })

/** The pool layer over a decoder function. */
export const poolWith = (decode: VideoDecoder["Service"]["decode"]) =>
  VideoPool.layer.pipe(Layer.provide(Layer.succeed(VideoDecoder, VideoDecoder.of({ decode, buffers: TensorBuffers.makeUnsafe() }))))

export type Outcome = { readonly index: number; readonly error?: DecodeError }

/** Takes until `None`, recording values and errors alike; `onTake` runs after each item. */
export const drain = <A>(pool: Pool<A>, onTake: (index: number) => Effect.Effect<void> = () => Effect.void) =>
  Effect.gen(function*() {
    const out: Array<Outcome> = []
    while (true) {
      const next = yield* pool.take.pipe(
        Effect.map(Option.map(([index]) => ({ index }) as Outcome)),
        Effect.catch((error) => Effect.succeed(Option.some({ index: error.index ?? -1, error } as Outcome)))
      )
      if (Option.isNone(next)) return out
      out.push(next.value)
      yield* onTake(next.value.index)
    }
  })

/** Runs `consumers` draining fibers over one pool and returns what each took. */
export const drainConcurrently = <A>(pool: Pool<A>, consumers: number, onTake?: (index: number) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(
      Array.from({ length: consumers }),
      () => Effect.forkChild(drain(pool, onTake)),
    )
    return yield* Effect.forEach(fibers, Fiber.join)
  })
