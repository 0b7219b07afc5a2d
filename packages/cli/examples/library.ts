// The root README's library examples, kept here so that `pnpm typecheck` checks them.
// Run (after `pnpm install`, which builds), in packages/cli:
//   node --import tsx examples/library.ts GEN REF           scores GEN/{a,b}.mp4 against REF/{a,b}.mp4
//   node --import tsx examples/library.ts GEN REF tensors   takes the decoded tensors instead
import { Effect, Stream } from "effect"
import { Evaluator } from "@vidpool/eval"
import { Live } from "@vidpool/cli"
import { Video, VideoPool } from "@vidpool/pool"

const [gen = "gen", ref = "ref", mode = "scores"] = process.argv.slice(2)
const samples = ["a", "b"].map((n) => ({ video: Video.file(`${gen}/${n}.mp4`), reference: Video.file(`${ref}/${n}.mp4`) }))

// Score the samples: PSNR and SSIM on two metric worker threads while the pool decodes ahead.
const scores = Evaluator.use((evaluator) =>
  evaluator.evaluate(samples, { metrics: ["common.psnr", "common.ssim"], workers: 2, loaderThreads: 2 })
).pipe(
  Effect.tap((results) => Effect.log(results.summary)) // results.samples: one per sample, in input order
)

// Or, instead, take the decoded tensors yourself: each sample once, as soon as it is ready, with
// its input index. The pool lives in the scope: closing it stops the loaders and their ffmpeg.
const tensors = Effect.scoped(
  Effect.gen(function*() {
    const pool = yield* VideoPool.use((_) => _.open(samples, { loaderThreads: 2, maxSize: 4 }))
    yield* Stream.runForEach(pool.stream, ([index, { video, reference }]) => Effect.log(index, video.shape, reference.shape))
  })
)

// One layer for the common case: the Evaluator, the VideoPool and the default decoder (libav where
// node-av loads, else ffmpeg), built by the composition root of @vidpool/cli.
if (mode === "tensors") Effect.runPromise(tensors.pipe(Effect.provide(Live.layerEvaluator)))
else Effect.runPromise(scores.pipe(Effect.provide(Live.layerEvaluator)))
