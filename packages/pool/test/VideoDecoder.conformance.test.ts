// VideoDecoder.layerTest keeps the same contract as the real decoders (DecoderConformance.ts):
// its tensors are shaped by the decode options as theirs are.
import { NotFound, VideoDecoder } from "../src/index.ts"
import { decoderConformance } from "./DecoderConformance.ts"

decoderConformance(
  "VideoDecoder.layerTest",
  VideoDecoder.layerTest({ shape: [20, 48, 64, 3], fps: 25, script: { "missing.mp4": { fail: new NotFound({}) } } }),
  { path: "clip.mp4", frames: 20, width: 64, height: 48, fps: 25 },
  "missing.mp4"
)
