// Wire: the text form of what a batch carries. Round trips must keep what structured cloning
// keeps, bit for bit; a value with no data form must be refused with its path, not lost.
import { assert, describe, it } from "@effect/vitest"
import { Video } from "@vidpool/pool"
import { Wire, WireError } from "../src/index.ts"

const roundTrip = <A>(value: A): A => Wire.decodeUnsafe(Wire.encodeUnsafe(value)) as A

/** The bytes of a typed array's view, to compare bit for bit (NaN payloads, -0). */
const bytesOf = (view: ArrayBufferView): Array<number> => [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)]

/** The WireError that encoding `value` throws. */
const wireErrorOf = (value: unknown): WireError => {
  try {
    Wire.encodeUnsafe(value)
  } catch (error) {
    assert.instanceOf(error, WireError)
    return error as WireError
  }
  assert.fail("encodeUnsafe did not throw")
}

describe("Wire", () => {
  it("round-trips typed arrays bit for bit, with their element type, a subarray view as its own elements only", () => {
    const f64 = new Float64Array([1.5, -0, Number.MIN_VALUE, Number.MAX_VALUE, NaN, Infinity, -Infinity, 1 / 3])
    // A NaN with a payload of its own: a text form that went through a number would lose it.
    new DataView(f64.buffer).setUint32(4 * 8, 0x1234, true)
    new DataView(f64.buffer).setUint32(4 * 8 + 4, 0x7ff80000, true)
    const f32 = new Float32Array([0.1, -0, 3.4e38, NaN, -1e-45])
    const u8 = new Uint8Array([0, 1, 127, 128, 255])
    const backing = new Float64Array([10, 11, 12, 13, 14, 15])
    const view = backing.subarray(2, 5) // byteOffset 16
    assert.strictEqual(view.byteOffset, 16)

    const out = roundTrip({ nested: { list: [f64, { f32 }] }, u8, view })
    const outF64 = out.nested.list[0] as Float64Array
    const outF32 = (out.nested.list[1] as { f32: Float32Array }).f32
    assert.instanceOf(outF64, Float64Array)
    assert.instanceOf(outF32, Float32Array)
    assert.instanceOf(out.u8, Uint8Array)
    assert.deepStrictEqual(bytesOf(outF64), bytesOf(f64))
    assert.deepStrictEqual(bytesOf(outF32), bytesOf(f32))
    assert.deepStrictEqual([...out.u8], [0, 1, 127, 128, 255])
    assert.isTrue(Object.is(outF64[1], -0))
    assert.isTrue(Number.isNaN(outF64[4]))
    assert.instanceOf(out.view, Float64Array)
    assert.deepStrictEqual([...out.view], [12, 13, 14])
    assert.strictEqual(out.view.buffer.byteLength, 3 * 8)
  })

  it("round-trips NaN, the infinities, -0, Map, Set, Date and bigint, at any depth", () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))
    const value = {
      numbers: [NaN, Infinity, -Infinity, -0, 0, 5e-324, 2 ** 53 + 2],
      map: new Map<unknown, unknown>([["a", 1], [2, { deep: new Set([NaN, "s"]), zero: [-0] }], [3n, date]]),
      set: new Set(["x", 7, -Infinity]),
      date,
      big: -(2n ** 100n) - 1n,
      flag: false,
      nothing: null,
      text: "$t"
    }
    const out = roundTrip(value)
    assert.isTrue(Number.isNaN(out.numbers[0]))
    assert.strictEqual(out.numbers[1], Infinity)
    assert.strictEqual(out.numbers[2], -Infinity)
    assert.isTrue(Object.is(out.numbers[3], -0))
    assert.isTrue(Object.is(out.numbers[4], 0))
    assert.deepStrictEqual(out.numbers.slice(5), [5e-324, 2 ** 53 + 2])
    assert.instanceOf(out.map, Map)
    assert.deepStrictEqual([...out.map.keys()], ["a", 2, 3n])
    const inner = out.map.get(2) as { deep: Set<unknown>; zero: Array<number> }
    assert.instanceOf(inner.deep, Set)
    const [nan, s] = [...inner.deep]
    assert.isTrue(Number.isNaN(nan))
    assert.strictEqual(s, "s")
    assert.isTrue(Object.is(inner.zero[0], -0))
    assert.instanceOf(out.map.get(3n), Date)
    assert.strictEqual((out.map.get(3n) as Date).getTime(), date.getTime())
    assert.instanceOf(out.set, Set)
    assert.deepStrictEqual([...out.set], ["x", 7, -Infinity])
    assert.instanceOf(out.date, Date)
    assert.strictEqual(out.date.toISOString(), "2026-01-02T03:04:05.678Z")
    assert.strictEqual(out.big, -(2n ** 100n) - 1n)
    assert.deepStrictEqual([out.flag, out.nothing, out.text], [false, null, "$t"])
  })

  it("escapes objects whose own keys are the tags, and gives them back as the same plain objects", () => {
    const lookalikes = [
      { $t: "Float64Array", b: "AAAAAAAA8D8=" },
      { $n: "NaN" },
      { $o: { x: 1 } },
      { $o: 5, other: [{ $n: "-0" }] },
      { $m: [[1, 2]], $s: [1], $d: 0, $b: "12" }
    ]
    const out = roundTrip({ lookalikes, nested: { deeper: { $t: "Uint8Array", b: "AA==" } } })
    assert.deepStrictEqual(out, { lookalikes, nested: { deeper: { $t: "Uint8Array", b: "AA==" } } })
    for (const item of out.lookalikes) assert.strictEqual(Object.getPrototypeOf(item), Object.prototype)
  })

  it("drops fields that are undefined, as JSON does", () => {
    const out = roundTrip({ a: 1, b: undefined, c: { d: undefined, e: "e" } })
    assert.deepStrictEqual(out, { a: 1, c: { e: "e" } } as unknown as typeof out)
    assert.isFalse("b" in out)
    assert.isFalse("d" in out.c)
  })

  it("refuses a function, a symbol or a class instance with no toJSON, naming its path", () => {
    class Opaque {
      readonly x = 1
    }
    const fn = wireErrorOf({ a: [0, { f: () => 1 }] })
    assert.strictEqual(fn.path, "$.a[1].f")
    assert.include(fn.message, "$.a[1].f")
    assert.include(fn.message, "function")
    const symbol = wireErrorOf({ list: [Symbol("s")] })
    assert.strictEqual(symbol.path, "$.list[0]")
    assert.include(symbol.message, "symbol")
    const instance = wireErrorOf({ outer: { inner: new Opaque() } })
    assert.strictEqual(instance.path, "$.outer.inner")
    assert.include(instance.message, "Opaque")
    // An ArrayBuffer is not silently written as {}.
    assert.strictEqual(wireErrorOf({ raw: new ArrayBuffer(8) }).path, "$.raw")
    // In a Map value, the path names the entry.
    assert.include(wireErrorOf(new Map([["k", () => 0]])).path, "$<0>")
  })

  it("refuses a value nested deeper than 64 levels instead of overflowing", () => {
    let deep: unknown = 1
    for (let i = 0; i < 70; i++) deep = [deep]
    assert.include(wireErrorOf(deep).message, "deeper than 64")
  })

  it("sends a value with toJSON (a pool Video) as its data form", () => {
    const video = Video.file("clips/a.mp4", { numFrames: 4, width: 32, height: 24 })
    const folder = Video.folder("frames/b", { fps: 5 })
    const out = roundTrip({ video, list: [folder] })
    assert.deepStrictEqual(out as unknown, {
      video: { _id: "Video", path: "clips/a.mp4", source: "file", options: { numFrames: 4, width: 32, height: 24 } },
      list: [{ _id: "Video", path: "frames/b", source: "folder", options: { fps: 5 } }]
    })
  })
})
