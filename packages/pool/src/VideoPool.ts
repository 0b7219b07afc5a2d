/**
 * A bounded prefetch pool: loader fibers decode the videos of each sample ahead of the consumers,
 * so decode latency hides behind the code that scores them. One pool per evaluation, owned by a Scope.
 *
 * @since 0.1.0
 */
import { Cause, Context, Duration, Effect, Exit, Layer, Metric, Option, Queue, Semaphore, Stream, Tracer } from "effect"
import type { Scope } from "effect"
import { DecodeError } from "./DecodeError.ts"
import { type Decoded, isVideo, type Video } from "./Video.ts"
import { VideoDecoder } from "./VideoDecoder.ts"
import type { VideoTensor } from "./VideoTensor.ts"
import * as Options from "./Options.ts"
import * as Lease from "./Lease.ts"
import type { TensorBuffersShape } from "./TensorBuffers.ts"
import type { InvalidPoolOptions } from "./Options.ts"

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
  /**
   * As `take`, with a `Lease` on the sample's decoded memory owned by the current Scope: closing
   * it gives the memory back to the decoder's free list (or slab), whether the taker finished,
   * failed or was interrupted. Read nothing of the sample's tensors after the scope closes.
   */
  readonly lease: Effect.Effect<Option.Option<readonly [number, A, Lease.Lease]>, DecodeError, Scope.Scope>
  /** The same items as a Stream, ending after the last one; a `DecodeError` ends the stream. */
  readonly stream: Stream.Stream<readonly [number, A], DecodeError>
  /** How many samples the pool was opened with. */
  readonly size: number
  /**
   * Milliseconds this pool's loaders have spent decoding so far, summed over loaders: the
   * timing of one run, whatever other pools decode at the same time.
   */
  readonly decodeMillis: Effect.Effect<number>
}

export { InvalidPoolOptions } from "./Options.ts"

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
  /** What the consumer gets: `[index, decoded sample]` or the sample's DecodeError. */
  readonly exit: Exit.Exit<readonly [number, unknown], DecodeError>
}

/**
 * Marks a decoder's failure with the sample and field. A failure that is not a DecodeError stays
 * as it is here; `settle` then makes it a defect.
 */
const mark = (error: DecodeError, index: number, key: string): DecodeError =>
  error instanceof DecodeError ? error.at(index, key) : error

/**
 * A failed decode's cause as the consumer gets it: each `DecodeError` marked with the sample (and
 * with `key`, the one video field, when given); anything else a decoder failed with is a defect,
 * since `VideoDecoder` promises to fail with nothing but a DecodeError. Only failures come here.
 */
const settle = (cause: Cause.Cause<unknown>, index: number, key: string | undefined): Cause.Cause<DecodeError> =>
  Cause.fromReasons(cause.reasons.map((reason): Cause.Reason<DecodeError> => {
    if (!Cause.isFailReason(reason)) return reason
    const error = reason.error
    if (!(error instanceof DecodeError)) return Cause.makeDieReason(error)
    return key === undefined ? reason as Cause.Fail<DecodeError> : Cause.makeFailReason(error.at(index, key))
  }))

/**
 * `value` if it is a count (an integer from 1 to `Options.maxCount`), else an
 * `InvalidPoolOptions` naming `option`.
 *
 * @since 0.1.0
 * @category validation
 */
export const positiveInt = (option: string, value: number): Effect.Effect<number, InvalidPoolOptions> =>
  Effect.map(Options.struct({ [option]: Options.Count }).decode({ [option]: value }), () => value)

const readOptions = Effect.fnUntraced(function*(options: PoolOptions | undefined) {
  const read = yield* Options.PoolOptions.decode(options)
  return { loaderThreads: read.loaderThreads ?? 1, maxSize: read.maxSize ?? 4, order: read.order ?? "completion" } as const
})

/**
 * @since 0.1.0
 * @category services
 */
export class VideoPool extends Context.Service<VideoPool, {
  /**
   * Opens a pool over `samples` in the current Scope. Loaders start at once; closing the scope
   * interrupts them (and their decoder processes). Samples that are not an array of objects, or
   * options that do not decode, fail with `InvalidPoolOptions` naming them.
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
      return VideoPool.of({ open: (samples, options) => open(decoder, samples, options) })
    })
  )
}

// Traced: one span per pool opened. What runs per sample (the loaders, `take`) stays untraced.
const open = Effect.fn("VideoPool.open")(function*<S extends object>(
  decoder: VideoDecoder["Service"],
  samples: ReadonlyArray<S>,
  options: PoolOptions | undefined
) {
  yield* Options.checkSamples(samples)
  const { loaderThreads, maxSize, order } = yield* readOptions(options)
  const size = samples.length
  // Every sample holds a slot from the moment a loader claims it until a consumer takes it, so
  // at most `maxSize` samples are decoding or decoded-and-waiting, and offering never waits.
  const slots = yield* Semaphore.make(maxSize)
  const queue = yield* Queue.bounded<Item, Cause.Done>(maxSize)
  const delivery = makeDelivery(queue, size, order, (item) => giveBackUnsafe(decoder.buffers, samples, item))
  // Closing the scope ends the pool for consumers outside it too (a take after that is
  // interrupted instead of waiting forever), and gives the memory of samples decoded but never
  // taken back to the decoder. Added before the loaders are forked, it runs after they stopped.
  yield* Effect.addFinalizer(() => Effect.sync(delivery.closeUnsafe))
  // Metrics are updated in place with the context the pool was opened in: one lookup, no extra
  // effect per item.
  const context = yield* Effect.context<never>()
  const loaders: Loaders = {
    samples,
    size,
    slots,
    queue,
    context,
    decodes: yield* makeDecodes(decoder, samples),
    deliverUnsafe: delivery.deliverUnsafe,
    next: 0,
    decodeMillis: 0
  }
  yield* startLoaders(loaders, loaderThreads)
  return makePool(decoder.buffers, loaders) as Pool<Decoded<S, VideoTensor>>
})

/** Forks up to `loaderThreads` loaders in the pool's scope (none for no samples: the queue just ends). */
const startLoaders = Effect.fnUntraced(function*(loaders: Loaders, loaderThreads: number) {
  const { queue, size } = loaders
  if (size === 0) return yield* Queue.end(queue)
  for (let i = 0; i < Math.min(loaderThreads, size); i++) {
    // A loader only ends by finishing or by the scope's interruption; should it die anyway,
    // the consumers get its cause instead of waiting for samples that will never come.
    yield* Effect.forkScoped(Effect.onExit(makeLoader(loaders), (exit) =>
      Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
        ? Queue.failCause(queue, exit.cause)
        : Effect.void))
  }
})

/** What consumers see of a pool: each item taken frees its slot for the next decode. */
const makePool = (buffers: TensorBuffersShape, loaders: Loaders): Pool<unknown> => {
  const { context, queue, samples, size, slots } = loaders
  const release = slots.release(1)
  const handOut = (item: Item) => {
    metrics.queueDepth.updateUnsafe(Queue.sizeUnsafe(queue), context)
    return Effect.andThen(release, item.exit)
  }
  const pull: Effect.Effect<readonly [number, unknown], DecodeError | Cause.Done> = Effect.flatMap(
    Queue.take(queue),
    handOut
  )
  // Untraced: `take` runs once per sample, and a span there would cost every consumer's loop.
  const take = pull.pipe(
    Effect.map(Option.some),
    Effect.catchIf(Cause.isDone, () => Effect.succeedNone)
  )
  return {
    take,
    lease: leaseOf(buffers, samples, Queue.take(queue), handOut),
    stream: Stream.fromEffectRepeat(pull),
    size,
    decodeMillis: Effect.sync(() => loaders.decodeMillis)
  }
}

/** What a pool's loaders share. They run on one JavaScript thread: `next` is only touched between suspensions. */
interface Loaders {
  readonly samples: ReadonlyArray<object>
  readonly size: number
  readonly slots: Semaphore.Semaphore
  readonly queue: Queue.Queue<Item, Cause.Done>
  readonly context: Context.Context<never>
  readonly decodes: Decodes
  readonly deliverUnsafe: (item: Item) => void
  /** The next sample to claim. */
  next: number
  /** Milliseconds spent decoding, summed over loaders. */
  decodeMillis: number
}

/**
 * Hands a decoded item to the consumers: at once (`"completion"`), or through a reorder buffer
 * (`"input"`); the queue is ended after the last of `size` items. An item nobody will take goes to
 * `giveBack`: one the queue refuses (failed by a dying loader), one delivered after the close, and,
 * at the close (`closeUnsafe`), those still in the reorder buffer or the queue.
 */
const makeDelivery = (
  queue: Queue.Queue<Item, Cause.Done>,
  size: number,
  order: "completion" | "input",
  giveBack: (item: Item) => void
) => {
  let delivered = 0
  let nextInOrder = 0
  let closed = false
  const pending = new Map<number, Item>()
  const offerUnsafe = (item: Item) => {
    if (!Queue.offerUnsafe(queue, item)) giveBack(item)
    if (++delivered === size) Queue.endUnsafe(queue)
  }
  const deliverUnsafe = (item: Item): void => {
    if (closed) return giveBack(item)
    if (order === "completion") return offerUnsafe(item)
    pending.set(item.index, item)
    let head = pending.get(nextInOrder)
    while (head !== undefined) {
      pending.delete(nextInOrder++)
      offerUnsafe(head)
      head = pending.get(nextInOrder)
    }
  }
  const closeUnsafe = (): void => {
    closed = true
    for (const item of pending.values()) giveBack(item)
    pending.clear()
    for (;;) {
      const taken = Queue.takeUnsafe(queue)
      if (taken === undefined || Exit.isFailure(taken)) break
      giveBack(taken.value)
    }
    Queue.shutdownUnsafe(queue)
  }
  return { deliverUnsafe, closeUnsafe }
}

/** The memory of a sample's tensors that the pool decoded; a tensor the caller gave stays the caller's. */
const decodedData = (given: object, decoded: unknown): Array<Uint8Array | Float32Array> => {
  const data: Array<Uint8Array | Float32Array> = []
  for (const key in given) {
    if (isVideo((given as Record<string, unknown>)[key])) data.push(((decoded as Record<string, unknown>)[key] as VideoTensor).data)
  }
  return data
}

/** Gives a decoded item that no consumer took back to the decoder (a failed sample gave its tensors back already). */
const giveBackUnsafe = (buffers: TensorBuffersShape, samples: ReadonlyArray<object>, item: Item): void => {
  if (Exit.isFailure(item.exit)) return
  for (const data of decodedData(samples[item.index], item.exit.value[1])) buffers.giveUnsafe(data)
}

/** The decodes of a pool: one video (with its span when traced), and a sample's several videos one after the other. */
interface Decodes {
  readonly decode: VideoDecoder["Service"]["decode"]
  readonly traced: (decoded: Effect.Effect<VideoTensor, DecodeError>, video: Video, index: number, key: string) => Effect.Effect<VideoTensor, DecodeError>
  readonly decodeSample: (index: number, keys: ReadonlyArray<string>) => Effect.Effect<readonly [number, Record<string, unknown>], DecodeError>
}

const makeDecodes = ({ buffers, decode }: VideoDecoder["Service"], samples: ReadonlyArray<object>) =>
  Effect.map(Effect.service(Tracer.Tracer), (tracer): Decodes => {
    // A span per decode when a tracing backend is installed; the native tracer exports nothing, so
    // its spans would only cost time on the hot path.
    const traceable = tracer !== Tracer.nativeTracer
    const traced = (decoded: Effect.Effect<VideoTensor, DecodeError>, video: Video, index: number, key: string) =>
      traceable
        // data-first: the form in which effect 4.1 honours `captureStackTrace: false`
        ? Effect.withSpan(decoded, "VideoPool.decode", {
          attributes: { path: video.path, index, key },
          captureStackTrace: false
        })
        : decoded
    // Suspended: a decoder that throws instead of failing still fails its sample, not its loader.
    const decodeVideo = (video: Video, index: number, key: string) => traced(Effect.suspend(() => decode(video)), video, index, key)
    // A sample with several videos decodes them one after the other, under its one loader. Should
    // one fail (or the loader be interrupted), the tensors decoded before it go back to the decoder.
    const decodeSample = (index: number, keys: ReadonlyArray<string>) =>
      Effect.suspend(() => {
        const decoded: Array<VideoTensor> = []
        return Effect.gen(function*() {
          const sample = samples[index] as Record<string, unknown>
          const out: Record<string, unknown> = { ...sample }
          for (const key of keys) {
            const tensor = yield* Effect.mapError(decodeVideo(sample[key] as Video, index, key), (error) => mark(error, index, key))
            decoded.push(tensor)
            out[key] = tensor
          }
          return [index, out] as const
        }).pipe(Effect.onExit((exit) =>
          Exit.isFailure(exit) ? Effect.sync(() => decoded.forEach((tensor) => buffers.giveUnsafe(tensor.data))) : Effect.void
        ))
      })
    return { decode, traced, decodeSample }
  })

/**
 * A loader: take a slot, claim the next sample, decode it, deliver it, again, until no sample is
 * left. Its per-sample state lives in its own variables (a loader works on one sample at a time),
 * so the hot path allocates no closures.
 */
const makeLoader = (loaders: Loaders): Effect.Effect<void> => {
  const { context, decodes, queue, samples, size, slots } = loaders
  let index = 0
  let start = 0
  let video: Video | undefined
  // the one-video case reuses one suspended decode per loader, reading `video`
  const decodeCurrent = Effect.suspend(() => decodes.decode(video!))
  // the one video field of the sample being decoded, or undefined when it has none or several
  let single: string | undefined

  const finish = (exit: Exit.Exit<unknown, DecodeError>): Effect.Effect<void> => {
    const elapsed = performance.now() - start
    loaders.decodeMillis += elapsed
    metrics.decodeDuration.updateUnsafe(Duration.millis(elapsed), context)
    ;(Exit.isSuccess(exit) ? metrics.decoded : metrics.failures).updateUnsafe(1, context)
    let result: Exit.Exit<readonly [number, unknown], DecodeError>
    if (Exit.isFailure(exit)) {
      result = Exit.failCause(settle(exit.cause, index, single))
    } else if (single === undefined) {
      result = exit as Exit.Exit<readonly [number, unknown]>
    } else {
      result = Exit.succeed([index, { ...samples[index], [single]: exit.value }] as const)
    }
    if (Exit.isFailure(result) && Cause.hasInterruptsOnly(result.cause)) {
      // the decode interrupted itself (the pool's own interruption never gets here): hand the
      // consumer a defect it can see, not an interruption of its own fiber
      result = Exit.die(new Error(`VideoPool: the decode of sample ${index} was interrupted`))
    }
    loaders.deliverUnsafe({ index, exit: result })
    metrics.queueDepth.updateUnsafe(Queue.sizeUnsafe(queue), context)
    return loop
  }

  const claim = (): Effect.Effect<void> => {
    if (loaders.next >= size) return slots.release(1)
    index = loaders.next++
    start = performance.now()
    const sample = samples[index] as Record<string, unknown>
    const keys: Array<string> = []
    for (const key in sample) {
      if (isVideo(sample[key])) keys.push(key)
    }
    single = keys.length === 1 ? keys[0] : undefined
    const work: Effect.Effect<unknown, DecodeError> = keys.length === 0
      ? Effect.succeed([index, sample] as const)
      : single !== undefined
      ? decodes.traced(decodeCurrent, video = sample[single] as Video, index, single)
      : decodes.decodeSample(index, keys)
    return Effect.flatMap(Effect.exit(work), finish)
  }

  const loop: Effect.Effect<void> = Effect.flatMap(slots.take(1), claim)
  return loop
}

/**
 * `Pool.lease` over the pool's queue: an item taken (the wait for it interruptible) and its lease
 * made with no interruption between them, so that no taken memory is left unowned.
 */
const leaseOf = (
  buffers: TensorBuffersShape,
  samples: ReadonlyArray<object>,
  waitItem: Effect.Effect<Item, Cause.Done>,
  handOut: (item: Item) => Effect.Effect<readonly [number, unknown], DecodeError>
): Effect.Effect<Option.Option<readonly [number, unknown, Lease.Lease]>, DecodeError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(waitItem), handOut).pipe(
      Effect.flatMap(([index, sample]) =>
        Effect.map(Lease.make(buffers, decodedData(samples[index], sample)), (lease) => Option.some([index, sample, lease] as const))
      ),
      Effect.catchIf(Cause.isDone, () => Effect.succeedNone)
    )
  )
