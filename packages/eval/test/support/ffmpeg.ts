/**
 * ffmpeg for the tests: the binary that @vidpool/ffmpeg finds, and a plain rgb24 reader (ffmpeg's
 * rawvideo output) used to cross-check kernels against ffmpeg's own filters.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Ffmpeg } from "@vidpool/ffmpeg"
import { VideoTensor } from "@vidpool/pool"
import { Effect } from "effect"

/** Path of the ffmpeg binary, as `Ffmpeg.layer` finds it. */
export const ffmpegPath: string = await Effect.runPromise(
  Ffmpeg.useSync((ffmpeg) => ffmpeg.path).pipe(Effect.provide(Ffmpeg.layer))
)

/** Runs ffmpeg quietly; returns stdout. */
export const ffmpeg = (args: ReadonlyArray<string>): Buffer =>
  execFileSync(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-y", ...args], { maxBuffer: 1 << 30 })

/** A temporary folder, removed by the returned function. */
export const tempDir = (): { readonly dir: string; readonly remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "vidpool-eval-"))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Reads a clip as rgb24 THWC frames of the given size, through ffmpeg's rawvideo output. */
export const readRgb24 = (path: string, width: number, height: number): VideoTensor => {
  const raw = ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
  const frames = raw.length / (width * height * 3)
  return VideoTensor.makeUnsafe({
    data: new Uint8Array(raw),
    shape: [frames, height, width, 3],
    layout: "THWC",
    dtype: "uint8",
    fps: 25,
    source: { path }
  })
}
