import { describe, expect, it } from "vitest"
import * as Slab from "../src/internal/Slab.ts"

const states = () => new Int32Array(new SharedArrayBuffer(4 * Slab.maxSlots))

/** One decode's memory: `bytes` taken, kept (as the tensor's slot) or handed back at its end. */
const decodeOnce = (slab: ReturnType<typeof Slab.make>, bytes: number, keep: boolean) => {
  const lease = slab.lease({ buffer: undefined })
  const memory = lease.take(bytes)
  lease.finish(keep ? memory : undefined)
  return memory
}

describe("Slab", () => {
  it("reuses a slot once the main thread clears it, and keeps only the tensor's slot held", () => {
    const cells = states()
    const slab = Slab.make(cells, 100)
    const lease = slab.lease({ buffer: undefined })
    const a = lease.take(40)
    const b = lease.take(40)
    expect(a).toBeInstanceOf(SharedArrayBuffer)
    expect(b).not.toBe(a)
    const slot = lease.finish(b)
    expect(slot).toBe(1)
    expect(Array.from(cells.slice(0, 2))).toEqual([0, 1])
    // A tensor that cannot be handed over gives its slot back on a second finish.
    const failed = slab.lease({ buffer: undefined })
    const kept = failed.take(40)
    expect(failed.finish(kept)).toBe(0)
    expect(Atomics.load(cells, 0)).toBe(1)
    failed.finish(undefined)
    expect(Atomics.load(cells, 0)).toBe(0)
    // The free slot is reused; the held one is not.
    const next = slab.lease({ buffer: undefined })
    expect(next.take(40)).toBe(a)
    next.finish(undefined)
    Atomics.store(cells, 1, 0)
    const third = slab.lease({ buffer: undefined })
    const c = third.take(30)
    expect([a, b]).toContain(c)
    expect(slab.bytes()).toBe(80)
  })

  it("uses ordinary memory when the slab is full, and evicts free slots too small for a new tensor", () => {
    const cells = states()
    const slab = Slab.make(cells, 100)
    const lease = slab.lease({ buffer: undefined })
    const held = lease.take(60)
    lease.finish(held)
    const over = slab.lease({ buffer: undefined })
    expect(over.take(60)).toBeInstanceOf(ArrayBuffer)
    expect(over.finish(undefined)).toBeUndefined()
    // A small free slot makes way for a larger one once the big one is handed back.
    Atomics.store(cells, 0, 0)
    const big = slab.lease({ buffer: undefined })
    const slot = big.take(90)
    expect(slot).toBeInstanceOf(SharedArrayBuffer)
    expect(slot.byteLength).toBe(90)
    expect(slab.bytes()).toBe(90)
  })

  it("takes a spare of exactly the size when the slab is off", () => {
    const slab = Slab.make(states(), 0)
    const spare = { buffer: new ArrayBuffer(16) as ArrayBuffer | undefined }
    const given = spare.buffer
    const lease = slab.lease(spare)
    expect(lease.take(16)).toBe(given)
    expect(spare.buffer).toBeUndefined()
    expect(lease.take(16)).not.toBe(given)
  })

  it("keeps small free slots when dropping them cannot make room for a larger tensor", () => {
    const cells = states()
    const slab = Slab.make(cells, 100)
    decodeOnce(slab, 70, true)
    const small = decodeOnce(slab, 20, false)
    // 70 held + 50 new > 100 even with the free 20 dropped: ordinary memory, the small slot stays.
    expect(decodeOnce(slab, 50, false)).toBeInstanceOf(ArrayBuffer)
    expect(slab.bytes()).toBe(90)
    expect(decodeOnce(slab, 20, false)).toBe(small)
  })

  it("drops a free slot too small for a tensor when every slot index is in use", () => {
    const cells = states()
    const slab = Slab.make(cells, 10_000)
    const lease = slab.lease({ buffer: undefined })
    for (let k = 0; k < Slab.maxSlots; k++) lease.take(10)
    lease.finish(undefined)
    expect(slab.bytes()).toBe(10 * Slab.maxSlots)
    const big = slab.lease({ buffer: undefined })
    const slot = big.take(100)
    expect(slot).toBeInstanceOf(SharedArrayBuffer)
    expect(big.finish(slot)).toBeLessThan(Slab.maxSlots)
    expect(slab.bytes()).toBe(10 * (Slab.maxSlots - 1) + 100)
  })
})
