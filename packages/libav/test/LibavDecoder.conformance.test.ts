// The in-process decoder keeps the VideoDecoder contract (pool's DecoderConformance suite).
import { decoderConformance } from "../../pool/test/DecoderConformance.ts"
import { at, Live } from "./helpers.ts"

decoderConformance("LibavDecoder", Live, { path: at("h264.mp4"), frames: 20, width: 64, height: 48, fps: 25 }, at("nothing-here.mp4"))
