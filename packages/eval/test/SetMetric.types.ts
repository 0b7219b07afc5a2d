/**
 * Type-level tests of `SetMetric`, checked by `tsc` (the root tsconfig includes every package's test
 * folder): a metric's own functions see its partial's type, and metrics of different partials sit
 * in one list as `Metric`. Nothing runs here.
 */
import { expectTypeOf } from "vitest"
import { BuiltinMetrics, Frechet, Metric } from "@vidpool/eval"

interface Count {
  readonly n: number
}

const count = Metric.set<Count>({
  name: "my.count",
  needs: ["video"],
  description: "number of videos",
  init: () => ({ n: 0 }),
  accumulate: (acc) => ({ n: acc.n + 1 }),
  merge: (a, b) => ({ n: a.n + b.n }),
  finalize: (acc) => Metric.result("my.count", acc.n)
})

// The partial's type is inferred from `init` as well.
const flags = Metric.set({
  name: "my.flags",
  needs: ["video"],
  description: "whether a video was seen",
  init: () => ({ seen: false }),
  accumulate: () => ({ seen: true }),
  merge: (a, b) => ({ seen: a.seen || b.seen }),
  finalize: (acc) => Metric.result("my.flags", acc.seen ? 1 : 0)
})
expectTypeOf(count).toEqualTypeOf<Metric.SetMetric<Count>>()
expectTypeOf(flags).toEqualTypeOf<Metric.SetMetric<{ seen: boolean }>>()
expectTypeOf(count.init()).toEqualTypeOf<Count>()
expectTypeOf(Frechet.frechetMetric({ name: "f", extractor: Frechet.colourMotionFeatures }))
  .toEqualTypeOf<Metric.SetMetric<Frechet.FrechetAccumulator>>()

// Metrics of different partials in one list, as a registry holds them; `SetMetric` is
// `SetMetric<unknown>`, so a holder learns nothing of a partial but that it is one.
export const metrics: ReadonlyArray<Metric.Metric> = [count, flags, BuiltinMetrics.frechetDistance, BuiltinMetrics.psnr]
export const sets: ReadonlyArray<Metric.SetMetric> = [count, flags]
expectTypeOf<Metric.SetMetric>().toEqualTypeOf<Metric.SetMetric<unknown>>()
expectTypeOf(sets[0].init()).toBeUnknown()

export const wrong = Metric.set<Count>({
  name: "my.wrong",
  needs: ["video"],
  description: "a partial of the wrong type",
  init: () => ({ n: 0 }),
  // @ts-expect-error a metric's functions are checked against its own partial
  accumulate: (acc) => ({ count: acc.n }),
  merge: (a, b) => ({ n: a.n + b.n }),
  finalize: (acc) => Metric.result("my.wrong", acc.n)
})
