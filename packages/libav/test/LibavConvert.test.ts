import { assert, describe, it } from "@effect/vitest"
import { placement } from "../src/internal/LibavConvert.ts"
import type { Header } from "../src/internal/LibavInput.ts"

const header = (width: number, height: number, rotation: number): Header => ({
  width,
  height,
  rotation,
  fps: 25,
  duration: 1,
  ownDuration: true,
  indexed: 25,
  streams: 1,
  codec: "h264",
  pixelFormat: "yuv420p"
})

describe("placement", () => {
  it("lets swscale write straight into the tensor only for unrotated, uncropped uint8 rgb24", () => {
    assert.isTrue(placement(header(64, 48, 0), {}).direct)
    assert.isTrue(placement(header(64, 48, 0), { layout: "TCHW", width: 32 }).direct)
    assert.isFalse(placement(header(64, 48, 0), { dtype: "float32" }).direct)
    assert.isFalse(placement(header(64, 48, 0), { pixelFormat: "gray" }).direct)
    assert.isFalse(placement(header(64, 48, 90), {}).direct)
    assert.isFalse(placement(header(64, 48, 0), { width: 32, height: 32, resize: "crop" }).direct)
  })

  it("sizes a quarter-turned frame as displayed, and scales it before the turn", () => {
    const p = placement(header(64, 48, 90), { width: 24 })
    // Displayed 48 x 64, scaled to 24 x 32; swscale makes it unturned, 32 x 24.
    assert.deepStrictEqual([p.width, p.height, p.scaleWidth, p.scaleHeight, p.rotation], [24, 32, 32, 24, 90])
  })

  it("crops the centre of the scaled frame for resize crop", () => {
    const p = placement(header(64, 48, 0), { width: 32, height: 32, resize: "crop" })
    assert.deepStrictEqual([p.width, p.height, p.scaleWidth, p.scaleHeight, p.crop.x, p.crop.y], [32, 32, 43, 32, 5, 0])
  })
})
