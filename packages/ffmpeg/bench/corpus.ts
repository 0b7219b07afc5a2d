// The benchmark corpus: 48 clips, 320x240, 25 fps, 75 frames, H.264 crf 23, from three sources.
import { existsSync } from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { makeClip } from "../src/FfmpegFixtures.ts"

export const corpusDir = NodePath.join(Os.tmpdir(), "vidpool-bench-corpus-v1")
export const clipCount = 48
export const clipShape = { frames: 75, height: 240, width: 320, channels: 3 } as const
export const clipBytes = clipShape.frames * clipShape.height * clipShape.width * clipShape.channels

const sources = ["testsrc2", "mandelbrot", "noise"] as const

export const corpusPaths = Array.from(
  { length: clipCount },
  (_, i) => NodePath.join(corpusDir, `clip-${String(i).padStart(2, "0")}-${sources[i % 3]}.mp4`)
)

/** Makes the clips that are missing (kept between runs in the temp folder), two at a time. */
export const makeCorpus = async (ffmpegPath: string): Promise<ReadonlyArray<string>> => {
  const missing = corpusPaths.map((path, i) => [path, i] as const).filter(([path]) => !existsSync(path))
  for (let k = 0; k < missing.length; k += 2) {
    await Promise.all(missing.slice(k, k + 2).map(([path, i]) =>
      makeClip(ffmpegPath, path, {
        // vary the pictures: shift each source's start with the clip number
        source: sources[i % 3],
        width: 320,
        height: 240,
        fps: 25,
        frames: 75,
        codec: "h264",
        crf: 23,
        extraFilters: [`trim=start_frame=${i * 3}`, "setpts=PTS-STARTPTS"]
      })
    ))
  }
  return corpusPaths
}
