// Test kit: the fixture clips (made by the ffmpeg package's globalSetup), the decoder layers.
import * as NodePath from "node:path"
import { Effect } from "effect"
import { type DecodeOptions, Video, VideoDecoder } from "@vidpool/pool"
import { inject } from "vitest"
import { LibavDecoder } from "../src/index.ts"

export const fixtures = inject("fixtures")
export const ffmpegPath = inject("ffmpegPath")
export const at = (name: string) => NodePath.join(fixtures, name)

/** Two decode threads, one FFmpeg thread each: deterministic and light. */
export const Live = LibavDecoder.layerWith({}, { decodeThreads: 2, ffmpegThreads: 1 })

export const decode = (video: Video) => VideoDecoder.use((d) => d.decode(video))
export const decodeFile = (path: string, options: DecodeOptions = {}) => decode(Video.file(path, options))
export const failure = (video: Video) => Effect.flip(decode(video))
