// The decoder keeps the VideoDecoder contract and reads files as every decoder does (pool's DecoderConformance and DecoderFileConformance suites).
import { decoderConformance } from "../../pool/test/DecoderConformance.ts"
import { decoderFileConformance } from "../../pool/test/DecoderFileConformance.ts"
import { at, Live } from "./helpers.ts"

decoderConformance("LibavDecoder", Live, { path: at("h264.mp4"), frames: 20, width: 64, height: 48, fps: 25 }, at("nothing-here.mp4"))

decoderFileConformance("LibavDecoder", Live, {
  clip: at("h264.mp4"),
  images: at("images"),
  sizes: at("sizes"),
  sizesMixed: at("sizes-mixed")
})
