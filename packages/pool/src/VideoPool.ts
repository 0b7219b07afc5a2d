/**
 * A bounded prefetch pool: loader fibers decode the videos of each sample ahead of the consumers,
 * so decode latency hides behind the code that scores them. One pool per evaluation, owned by a Scope.
 *
 * @since 0.1.0
 */
import { Cause, Context, Deferred, Effect, Exit, Layer, Metric, Option, Queue, Schema, Semaphore, Stream } from "effect"
import type { Scope } from "effect"
import type { DecodeError } from "./DecodeError.ts"
import { type Decoded, isVideo } from "./Video.ts"
import { VideoDecoder } from "./VideoDecoder.ts"
import type { VideoTensor } from "./VideoTensor.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface PoolOptions {
  /** How many decodes may run at once. Default 1. */
  readonly loaderThreads?: number
  /**
   * How many samples may be decoded or decoding ahead of the consumers (the memory bound).
   * Size it as prefetchFactor x consumers, and at least `loaderThreads` so that every loader can
   * work. Default 4.
   */
  readonly maxSize?: number
  /** `"completion"` (default): as soon as decoded. `"input"`: in input order. */
  readonly order?: "completion" | "input"
}

/**
 * An open pool. `take` and `stream` may be used by many consumers at once; each sample is handed
 * out exactly once, as a value or as its `DecodeError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pool<A> {
  /**
   * The next decoded `[index, sample]`, or `None` once every sample was handed out. A sample whose
   * decode failed is handed out as its `DecodeError`; taking again gives the next sample.
   */
  readonly take: Effect.Effect<Option.Option<readonly [number, A]>, DecodeError>
  /** The same items as a Stream, ending after the last one; a `DecodeError` ends the stream. */
  readonly stream: Stream.Stream<readonly [number, A], DecodeError>
  /** How many samples the pool was opened with. */
  readonly size: number
}

/**
 * The options given to `open` are not usable.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPoolOptions extends Schema.TaggedError<InvalidPoolOptions>()("InvalidPoolOptions", {
  option: Schema.String,
  value: Schema.Unknown,
  expected: Schema.String
}) {
  override get message(): string {
    return `VideoPool option ${this.option} must be ${this.expected}, got ${String(this.value)}`
  }
}

/**
 * The pool's Effect metrics.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  decoded: Metric.counter("vidpool_pool_items_decoded", {
    description: "Samples decoded by a VideoPool",
    incremental: true
  }),
  failures: Metric.counter("vidpool_pool_decode_failures", {
    description: "Samples whose decode failed in a VideoPool",
    incremental: true
  }),
  queueDepth: Metric.gauge("vidpool_pool_queue_depth", {
    description: "Decoded samples waiting for a consumer"
  }),
  decodeDuration: Metric.timer("vidpool_pool_decode_duration", {
    description: "Time to decode the videos of one sample"
  })
} as const

interface Item {
  readonly index: number
  readonly exit: Exit.Exit<unknown, DecodeError>
}

const positiveInt = (option: string, value: number) =>
  Number.isInteger(value) && value >= 1
    ? Effect.succeed(value)
    : Effect.fail(new InvalidPoolOptions({ option, value, expected: "an integer >= 1" }))

const readOptions = Effect.fnUntraced(function*(options: PoolOptions | undefined) {
  const loaderThreads = yield* positiveInt("loaderThreads", options?.loaderThreads ?? 1)
  const maxSize = yield* positiveInt("maxSize", options?.maxSize ?? 4)
  const order = options?.order ?? "completion"
  if (order !== "completion" && order !== "input") {
    return yield* new InvalidPoolOptions({ option: "order", value: order, expected: `"completion" or "input"` })
  }
  return { loaderThreads, maxSize, order } as const
})

/**
 * @since 0.1.0
 * @category services
 */
export class VideoPool extends Context.Service<VideoPool, {
  /**
   * Opens a pool over `samples` in the current Scope. Loaders start at once; closing the scope
   * interrupts them (and their decoder processes).
   */
  readonly open: <S extends object>(
    samples: ReadonlyArray<S>,
    options?: PoolOptions
  ) => Effect.Effect<Pool<Decoded<S, VideoTensor>>, InvalidPoolOptions, Scope.Scope>
}>()("@vidpool/pool/VideoPool") {
  /**
   * The pool, decoding with the `VideoDecoder` in context.
   *
   * @example
   * ```ts
   * import { Effect, Option } from "effect"
   * import { Video, VideoDecoder, VideoPool } from "@vidpool/pool"
   *
   * const program = Effect.gen(function*() {
   *   const pool = yield* VideoPool.use((_) => _.open([{ video: Video.file("a.mp4"), label: 1 }]))
   *   const item = yield* pool.take
   *   if (Option.isSome(item)) {
   *     const [index, sample] = item.value
   *     console.log(index, sample.video.shape, sample.label)
   *   }
   * }).pipe(Effect.scoped, Effect.provide(VideoPool.layer), Effect.provide(VideoDecoder.layerTest()))
   * ```
   */
  static readonly layer: Layer.Layer<VideoPool, never, VideoDecoder> = Layer.effect(
    VideoPool,
    Effect.gen(function*() {
      const decoder = yield* VideoDecoder
      return VideoPool.of({ open: (samples, options) => open(decoder.decode, samples, options) })
    })
  )
}

const open = Effect.fnUntraced(function*<S extends object>(
  decode: VideoDecoder["Service"]["decode"],
  samples: ReadonlyArray<S>,
  options: PoolOptions | undefined
) {
  const { loaderThreads, maxSize, order } = yield* readOptions(options)
  const size = samples.length
  // `slots` bounds what is decoded or decoding but not yet taken; `loaders` bounds running decodes.
  // Because every item holds a slot, offering to the queue never waits.
  const slots = yield* Semaphore.make(maxSize)
  const loaders = yield* Semaphore.make(loaderThreads)
  const queue = yield* Queue.bounded<Item, Cause.Done>(maxSize)
  const finished = yield* Deferred.make<void>()

  const decodeSample = (index: number): Effect.Effect<unknown, DecodeError> =>
    Effect.suspend(() => {
      const sample = samples[index] as Record<string, unknown>
      const keys = Object.keys(sample).filter((key) => isVideo(sample[key]))
      if (keys.length === 0) return Effect.succeed(sample)
      return Effect.gen(function*() {
        const out: Record<string, unknown> = { ...sample }
        for (const key of keys) {
          const video = sample[key] as Parameters<typeof decode>[0]
          out[key] = yield* decode(video).pipe(
            Effect.mapError((error) => error.at(index, key)),
            Effect.withSpan("VideoPool.decode", { attributes: { path: video.path, index, key } })
          )
        }
        return out
      }).pipe(
        Effect.trackDuration(metrics.decodeDuration),
        Effect.tap(() => Metric.update(metrics.decoded, 1)),
        Effect.tapError(() => Metric.update(metrics.failures, 1))
      )
    })

  let delivered = 0
  const deliver = (item: Item) =>
    Effect.flatMap(Queue.offer(queue, item), () => {
      delivered++
      const depth = Metric.update(metrics.queueDepth, Queue.sizeUnsafe(queue))
      return delivered === size
        ? Effect.andThen(depth, Effect.andThen(Queue.end(queue), Deferred.succeed(finished, undefined)))
        : depth
    })

  const load = (index: number, previous: Deferred.Deferred<void> | undefined, turn: Deferred.Deferred<void> | undefined) =>
    decodeSample(index).pipe(
      Effect.exit,
      Effect.ensuring(loaders.release(1)),
      Effect.flatMap((exit) => {
        const item: Item = { index, exit }
        if (turn === undefined) return deliver(item)
        // Input order: wait until the previous index was delivered, then let the next one go.
        const mine = Effect.andThen(deliver(item), Deferred.succeed(turn, undefined))
        return previous === undefined ? mine : Effect.andThen(Deferred.await(previous), mine)
      })
    )

  const produce = Effect.gen(function*() {
    let previous: Deferred.Deferred<void> | undefined
    for (let index = 0; index < size; index++) {
      yield* slots.take(1)
      yield* loaders.take(1)
      const turn = order === "input" ? Deferred.makeUnsafe<void>() : undefined
      yield* Effect.forkChild(load(index, previous, turn))
      previous = turn
    }
    yield* Deferred.await(finished)
  })

  if (size === 0) {
    yield* Queue.end(queue)
  } else {
    yield* Effect.forkScoped(produce)
  }

  const pull: Effect.Effect<readonly [number, unknown], DecodeError | Cause.Done> = Effect.flatMap(
    Queue.take(queue),
    (item) =>
      Effect.andThen(
        slots.release(1),
        Effect.map(item.exit, (value) => [item.index, value] as const)
      )
  )
  const take = pull.pipe(
    Effect.map(Option.some),
    Effect.catchIf(Cause.isDone, () => Effect.succeedNone)
  )
  const pool: Pool<unknown> = { take, stream: Stream.fromEffectRepeat(pull), size }
  return pool as Pool<Decoded<S, VideoTensor>>
})
