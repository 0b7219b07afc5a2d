/**
 * The text form of the values a batch carries that are not the protocol's own (a sample's other
 * fields, a metric's `details`, a set metric's partial state): JSON, with the values structured
 * cloning keeps and JSON does not (typed arrays, non-finite numbers and -0, `Map`, `Set`, `Date`,
 * `bigint`) written as tagged objects, so that what a runner computed arrives bit for bit,
 * in flight on the socket and at rest in message storage alike.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

const typedArrays = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  BigInt64Array,
  BigUint64Array
} as const

type TypedArrayName = keyof typeof typedArrays

/** The tags of the encoded form; a plain object that has one of them as a key is escaped with `$o`. */
const tags = new Set(["$n", "$t", "$m", "$s", "$d", "$b", "$o"])

/**
 * A value that cannot be written (a function, a symbol, a class instance with no plain form...),
 * with the path to it.
 *
 * @since 0.2.0
 * @category errors
 */
export class WireError extends Schema.TaggedError<WireError>()("WireError", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot send the value at ${this.path}: ${this.detail}`
  }
}

const encodeNumber = (n: number): unknown =>
  Number.isFinite(n) ? (Object.is(n, -0) ? { $n: "-0" } : n) : { $n: String(n) }

const toPlain = (value: unknown, path: string, depth: number): unknown => {
  if (depth > 64) throw new WireError({ path, detail: "nested deeper than 64 levels" })
  switch (typeof value) {
    case "number":
      return encodeNumber(value)
    case "string":
    case "boolean":
      return value
    case "bigint":
      return { $b: value.toString() }
    case "undefined":
      return null
    case "function":
    case "symbol":
      throw new WireError({ path, detail: `a ${typeof value} has no data form` })
  }
  if (value === null) return null
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedArrayName
    if (!(name in typedArrays)) throw new WireError({ path, detail: `${name} is not a typed array` })
    return { $t: name, b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") }
  }
  if (Array.isArray(value)) return value.map((item, i) => toPlain(item, `${path}[${i}]`, depth + 1))
  if (value instanceof Map) {
    return { $m: [...value].map(([k, v], i) => [toPlain(k, `${path}<key ${i}>`, depth + 1), toPlain(v, `${path}<${i}>`, depth + 1)]) }
  }
  if (value instanceof Set) return { $s: [...value].map((v, i) => toPlain(v, `${path}<${i}>`, depth + 1)) }
  if (value instanceof Date) return { $d: value.getTime() }
  const proto = Object.getPrototypeOf(value)
  const json = (value as { toJSON?: unknown }).toJSON
  if (proto !== Object.prototype && proto !== null) {
    // A value with a data form of its own (a Video reference, say) travels as that form.
    if (typeof json === "function") return toPlain((json as () => unknown).call(value), path, depth + 1)
    throw new WireError({ path, detail: `an instance of ${proto?.constructor?.name ?? "a class"} has no data form` })
  }
  const out: Record<string, unknown> = {}
  let escape = false
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue
    if (tags.has(key)) escape = true
    out[key] = toPlain(item, `${path}.${key}`, depth + 1)
  }
  return escape ? { $o: out } : out
}

const fromPlain = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return value.map(fromPlain)
  const record = value as Record<string, unknown>
  if (typeof record.$n === "string") return Number(record.$n)
  if (typeof record.$t === "string" && typeof record.b === "string") {
    const Ctor = typedArrays[record.$t as TypedArrayName]
    if (Ctor === undefined) return record
    const bytes = Buffer.from(record.b, "base64")
    // Copied into a buffer of its own: aligned for the element type, and not a slice of a pool.
    const copy = new ArrayBuffer(bytes.byteLength)
    new Uint8Array(copy).set(bytes)
    return new Ctor(copy)
  }
  if (Array.isArray(record.$m)) return new Map((record.$m as Array<[unknown, unknown]>).map(([k, v]) => [fromPlain(k), fromPlain(v)]))
  if (Array.isArray(record.$s)) return new Set((record.$s as Array<unknown>).map(fromPlain))
  if (typeof record.$d === "number") return new Date(record.$d)
  if (typeof record.$b === "string") return BigInt(record.$b)
  const inner = typeof record.$o === "object" && record.$o !== null ? record.$o as Record<string, unknown> : record
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(inner)) out[key] = fromPlain(item)
  return out
}

/**
 * The text of a value; throws a `WireError` naming the path of a value that has no data form.
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodeUnsafe = (value: unknown): string => JSON.stringify(toPlain(value, "$", 0))

/**
 * The value of a text `encodeUnsafe` wrote.
 *
 * @since 0.2.0
 * @category encoding
 */
export const decodeUnsafe = (text: string): unknown => fromPlain(JSON.parse(text))
