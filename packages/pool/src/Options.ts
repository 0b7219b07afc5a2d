/**
 * The options of vidpool's packages as Schemas, decoded once where they are used (library, CLI):
 * a value that does not decode is an `InvalidPoolOptions` naming the option and what it accepts.
 *
 * @since 0.2.0
 */
import { Effect, Exit, Schema } from "effect"

/**
 * The options given to `open` (or to another vidpool service) are not usable.
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
 * The largest count of threads, workers, loaders or prefetched samples an option may ask for.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxCount = 4096

/**
 * One option: its Schema and, in words, what it accepts.
 *
 * @since 0.2.0
 * @category models
 */
export interface OptionSchema<A> {
  readonly schema: Schema.Codec<A, unknown>
  readonly expected: string
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const option = <A>(schema: Schema.Codec<A, unknown>, expected: string): OptionSchema<A> => ({ schema, expected })

/**
 * A setting's text (an environment variable, say) as the value its Schema decodes: a number as a
 * number, anything else as written; empty or blank text is unset (`undefined`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromText = (text: string | undefined): unknown => {
  if (text === undefined || text.trim() === "") return undefined
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text.trim()) ? Number(text) : text
}

/**
 * A count: an integer from 1 to `maxCount`.
 *
 * @since 0.2.0
 * @category options
 */
export const Count: OptionSchema<number> = option(
  Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: maxCount })),
  `an integer from 1 to ${maxCount}`
)

/**
 * A whole number of bytes, 0 or more (at most 2^53 - 1).
 *
 * @since 0.2.0
 * @category options
 */
export const Bytes: OptionSchema<number> = option(
  Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  "a whole number of bytes, 0 or more"
)

/**
 * One of `values`.
 *
 * @since 0.2.0
 * @category options
 */
export const oneOf = <const L extends ReadonlyArray<string>>(values: L): OptionSchema<L[number]> =>
  option(Schema.Literals(values) as unknown as Schema.Codec<L[number], unknown>, values.map((v) => `"${v}"`).join(" or "))

/** The type a record of options decodes to: every option may be left out. */
export type Decoded<F extends Record<string, OptionSchema<unknown>>> = {
  readonly [K in keyof F]?: F[K] extends OptionSchema<infer A> ? A : never
}

/**
 * A package's options as one Schema (a struct whose every field may be left out), with the words
 * each field's failure gives.
 *
 * @since 0.2.0
 * @category models
 */
export interface OptionsSchema<F extends Record<string, OptionSchema<unknown>>> {
  readonly fields: F
  readonly schema: Schema.Codec<Decoded<F>, unknown>
  /** Decodes `input` (undefined: no option set); the first bad field is the error, by name. */
  readonly decode: (input: unknown) => Effect.Effect<Decoded<F>, InvalidPoolOptions>
  /** The same, synchronously: a problem per bad field (empty when all decode). */
  readonly problems: (input: unknown) => Array<InvalidPoolOptions>
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const struct = <F extends Record<string, OptionSchema<unknown>>>(fields: F): OptionsSchema<F> => {
  const schema = Schema.Struct(
    Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, Schema.optional(field.schema)]))
  ) as unknown as Schema.Codec<Decoded<F>, unknown>
  const problems = (input: unknown): Array<InvalidPoolOptions> => {
    if (input === undefined) return []
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return [new InvalidPoolOptions({ option: "options", value: input, expected: "an object" })]
    }
    const out: Array<InvalidPoolOptions> = []
    for (const [key, field] of Object.entries(fields)) {
      const value = (input as Record<string, unknown>)[key]
      if (value === undefined) continue
      if (Exit.isFailure(Schema.decodeUnknownExit(field.schema)(value))) {
        out.push(new InvalidPoolOptions({ option: key, value, expected: field.expected }))
      }
    }
    return out
  }
  const decode = (input: unknown): Effect.Effect<Decoded<F>, InvalidPoolOptions> =>
    Effect.suspend(() => {
      const found = problems(input)
      if (found.length > 0) return Effect.fail(found[0])
      const picked: Record<string, unknown> = {}
      for (const key of Object.keys(fields)) {
        const value = (input as Record<string, unknown> | undefined)?.[key]
        if (value !== undefined) picked[key] = value
      }
      return Effect.succeed(picked as Decoded<F>)
    })
  return { fields, schema, decode, problems }
}

/** What a sample must be, in the words of the errors. */
const sampleShape = `an object of fields, such as { video: Video.file("a.mp4") }`

/**
 * Checks the samples given to `VideoPool.open` (and to the Evaluator): an array whose every
 * element is an object of fields (not `null`, not an array). Fails with an `InvalidPoolOptions`
 * naming `samples`, or the first bad one as `samples[i]`.
 *
 * @since 0.2.0
 * @category validation
 */
export const checkSamples = (samples: unknown): Effect.Effect<void, InvalidPoolOptions> =>
  Effect.suspend(() => {
    if (!Array.isArray(samples)) {
      return Effect.fail(new InvalidPoolOptions({ option: "samples", value: samples, expected: `an array of samples, each ${sampleShape}` }))
    }
    for (let i = 0; i < samples.length; i++) {
      const sample: unknown = samples[i]
      if (typeof sample !== "object" || sample === null || Array.isArray(sample)) {
        return Effect.fail(new InvalidPoolOptions({ option: `samples[${i}]`, value: sample, expected: sampleShape }))
      }
    }
    return Effect.void
  })

/**
 * The pool's options (`PoolOptions`) as one Schema.
 *
 * @since 0.2.0
 * @category options
 */
export const PoolOptions = struct({
  loaderThreads: Count,
  maxSize: option(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: maxCount * maxCount })), `an integer from 1 to ${maxCount * maxCount}`),
  order: oneOf(["completion", "input"])
})
