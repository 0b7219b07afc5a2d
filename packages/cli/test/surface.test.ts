// The packages' public surface as a user imports it (the built packages, through their `exports`):
// each index exports the API, test kits are the `./testing` subpath, internals and the deprecated
// aliases of 0.2 are not exported.
import { describe, expect, it } from "vitest"

const keys = async (specifier: string): Promise<Array<string>> => Object.keys(await import(specifier))

describe("the public surface", () => {
  it("pool: the test kit is @vidpool/pool/testing, not the index; the deprecated aliases are gone", async () => {
    const index = await import("@vidpool/pool")
    expect(Object.keys(index)).not.toContain("makeTestDecode")
    expect(Object.keys(index)).not.toContain("testPixel")
    expect(Object.keys(index)).toContain("VideoDecoder")
    expect(Object.keys(index.VideoTensor)).not.toContain("make")
    expect(Object.keys(index.FrameSelection)).not.toContain("select")
    expect(Object.keys(index.makeRunning())).not.toContain("count")
    const testing = await import("@vidpool/pool/testing")
    expect((await keys("@vidpool/pool/testing")).sort()).toEqual(["makeTestDecode", "testPixel"])
    // the kit is the one behind VideoDecoder.layerTest: the same pixel for the same path
    expect(testing.testPixel("a.mp4")).toBe(testing.testPixel("a.mp4"))
  })
})
