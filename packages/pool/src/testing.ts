/**
 * The test kit of the pool: a scriptable fake decode (also `VideoDecoder.layerTest`) and the pixel
 * value it gives each path, for tests that need no ffmpeg.
 *
 * @since 0.3.0
 */
export { makeTestDecode, type TestDecoderOptions, testPixel, type TestStep } from "./internal/testDecode.ts"
