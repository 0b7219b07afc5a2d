// The in-process decoder tells a variable frame rate from a file cut short (pool's shared suite).
import { variableRateSuite } from "../../pool/test/VariableRate.ts"
import { at, Live } from "./helpers.ts"

variableRateSuite("LibavDecoder", Live, { vfr: at("vfr.mp4"), cut: [at("cut.mp4"), at("av-cut.mp4")] })
