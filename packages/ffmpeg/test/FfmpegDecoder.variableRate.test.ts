// The command-line decoder tells a variable frame rate from a file cut short (pool's shared suite).
import { variableRateSuite } from "../../pool/test/VariableRate.ts"
import { at, Live } from "./helpers.ts"

variableRateSuite("FfmpegDecoder", Live, { vfr: at("vfr.mp4"), cut: [at("cut.mp4"), at("av-cut.mp4")] })
