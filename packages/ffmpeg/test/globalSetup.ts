// Makes every test video once per run, in one temp folder, with the ffmpeg the package resolves.
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Effect } from "effect"
import type { TestProject } from "vitest/node"
import { Ffmpeg } from "../src/Ffmpeg.ts"
import { degrade, makeClip, makeImageFolder, runFfmpeg } from "../src/FfmpegFixtures.ts"

declare module "vitest" {
  export interface ProvidedContext {
    readonly fixtures: string
    readonly ffmpegPath: string
  }
}

export default async function setup(project: TestProject) {
  const ffmpeg = await Effect.runPromise(Effect.provide(Effect.gen(function*() {
    return yield* Ffmpeg
  }), Ffmpeg.layer))
  const dir = await mkdtemp(NodePath.join(Os.tmpdir(), "vidpool-ffmpeg-test-"))
  await chmod(dir, 0o755)
  const at = (name: string) => NodePath.join(dir, name)
  const small = { width: 64, height: 48, frames: 20 } as const
  await Promise.all([
    makeClip(ffmpeg.path, at("h264.mp4"), small),
    makeClip(ffmpeg.path, at("vp9.webm"), { ...small, codec: "vp9" }),
    makeClip(ffmpeg.path, at("ffv1.mkv"), { ...small, codec: "ffv1" }),
    makeClip(ffmpeg.path, at("anim.gif"), { ...small, frames: 12, fps: 10, codec: "gif" }),
    makeClip(ffmpeg.path, at("index.mkv"), { source: "frameIndex", codec: "ffv1", width: 32, height: 24, frames: 60 }),
    // 11.5 MB decoded: read in parallel pieces
    makeClip(ffmpeg.path, at("index-large.mkv"), { source: "frameIndex", codec: "ffv1", width: 320, height: 240, frames: 50 }),
    makeClip(ffmpeg.path, at("plain.mov"), { width: 64, height: 48, frames: 5, codec: "png" }),
    makeClip(ffmpeg.path, at("rotated.mov"), { width: 64, height: 48, frames: 5, codec: "png", rotate: 90 }),
    makeClip(ffmpeg.path, at("long.mp4"), { width: 128, height: 96, frames: 50 }),
    makeImageFolder(ffmpeg.path, at("images"), { source: "frameIndex", width: 32, height: 24, frames: 6 }),
    runFfmpeg(ffmpeg.path, ["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", at("audio.m4a")]),
    // 1 s of video with 2 s of audio: complete, though the container lasts 2 s
    runFfmpeg(ffmpeg.path, [
      "-f", "lavfi", "-i", "testsrc2=s=128x96:r=25:d=1", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
      "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", at("long-audio.mp4")
    ])
  ])
  // A folder mixing png, bmp and jpg (in runs and alone), frame-numbered: png and bmp are lossless.
  await makeImageFolder(ffmpeg.path, at("mixed"), { source: "frameIndex", width: 32, height: 24, frames: 7 })
  await makeImageFolder(ffmpeg.path, at("mixed-bmp"), { source: "frameIndex", width: 32, height: 24, frames: 7, format: "bmp" })
  for (const i of [2, 3, 5]) {
    await rm(at(`mixed/frame_000${i}.png`))
    await rename(at(`mixed-bmp/frame_000${i}.bmp`), at(`mixed/frame_000${i}.bmp`))
  }
  await runFfmpeg(ffmpeg.path, ["-i", at("mixed/frame_0006.png"), at("mixed/frame_0007.jpg")])
  // Frame-numbered folders whose images change size (the first is 32x24): "sizes" in one format
  // (frames 3 and 4 are 16x16), "sizes-mixed" across formats (2 and 3 are 48x40 bmp, 4 is 16x16).
  await Promise.all([
    makeImageFolder(ffmpeg.path, at("sizes"), { source: "frameIndex", width: 32, height: 24, frames: 6 }),
    makeImageFolder(ffmpeg.path, at("sizes-mixed"), { source: "frameIndex", width: 32, height: 24, frames: 6 }),
    makeImageFolder(ffmpeg.path, at("small"), { source: "frameIndex", width: 16, height: 16, frames: 6 }),
    makeImageFolder(ffmpeg.path, at("large-bmp"), { source: "frameIndex", width: 48, height: 40, frames: 6, format: "bmp" })
  ])
  for (const i of [3, 4]) await copyFile(at(`small/frame_000${i}.png`), at(`sizes/frame_000${i}.png`))
  for (const i of [2, 3]) {
    await rm(at(`sizes-mixed/frame_000${i}.png`))
    await copyFile(at(`large-bmp/frame_000${i}.bmp`), at(`sizes-mixed/frame_000${i}.bmp`))
  }
  await copyFile(at("small/frame_0004.png"), at("sizes-mixed/frame_0004.png"))
  await rm(at("small"), { recursive: true })
  await rm(at("large-bmp"), { recursive: true })
  // Damaged files.
  const long = await readFile(at("long.mp4"))
  await writeFile(at("truncated.mp4"), long.subarray(0, Math.floor(long.length * 0.6))) // moov is at the end: lost
  await runFfmpeg(ffmpeg.path, ["-i", at("long.mp4"), "-c", "copy", "-movflags", "+faststart", at("faststart.mp4")])
  // A variable frame rate: 50 frames, 25 at 25 fps, then 25 at 0.1 s apart (3.5 s in all).
  await runFfmpeg(ffmpeg.path, [
    "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25", "-frames:v", "50", "-vf", "setpts='if(lt(N,25),N/25,1+(N-25)/10)/TB'",
    "-vsync", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-pix_fmt", "yuv420p", at("vfr.mp4")
  ])
  const faststart = await readFile(at("faststart.mp4"))
  await writeFile(at("cut.mp4"), faststart.subarray(0, Math.floor(faststart.length * 0.6))) // index intact
  await runFfmpeg(ffmpeg.path, ["-i", at("long-audio.mp4"), "-c", "copy", "-movflags", "+faststart", at("av-faststart.mp4")])
  const av = await readFile(at("av-faststart.mp4"))
  await writeFile(at("av-cut.mp4"), av.subarray(0, Math.floor(av.length * 0.5))) // with audio, index intact
  await writeFile(at("empty.mp4"), new Uint8Array(0))
  let seed = 12345
  await writeFile(at("random.mp4"), Uint8Array.from({ length: 65536 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24))
  await writeFile(at("text.mp4"), "this is not a video\n".repeat(200))
  await writeFile(at("unreadable.mp4"), await readFile(at("h264.mp4")))
  // Relative to the fixtures folder, "clip:1.mp4" looks like protocol "clip" to ffmpeg.
  await writeFile(at("clip:1.mp4"), await readFile(at("h264.mp4")))
  await chmod(at("unreadable.mp4"), 0o000)
  await mkdir(at("noimages"))
  await writeFile(at("noimages/readme.txt"), "no images here")
  await degrade(ffmpeg.path, at("h264.mp4"), at("choppy.mp4"), { dropEvery: 4 })
  // A stand-in for ffmpeg that starts a grandchild, then blocks reading its input (a FIFO).
  await writeFile(
    at("spawns-child.sh"),
    `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do if [ "$1" = "-i" ]; then input="\${2#file:}"; fi; shift; done\n` +
      `sleep 1000 &\nexec 3<"$input"\nwait\n`
  )
  await chmod(at("spawns-child.sh"), 0o755)
  project.provide("fixtures", dir)
  project.provide("ffmpegPath", ffmpeg.path)
  return async () => {
    await rm(dir, { recursive: true, force: true })
  }
}
