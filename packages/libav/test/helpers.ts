// Test kit: the fixture clips (made by the ffmpeg package's globalSetup), the decoder layers.
import { readdirSync, readlinkSync } from "node:fs"
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

/**
 * Waits until this process holds `path` open, as /proc/self/fd shows it: the decode thread has
 * the input open and is inside its decode. Looks every millisecond, for at most 10 s.
 */
export const untilOpen = (path: string): Effect.Effect<void> =>
  Effect.promise(async () => {
    // A poll, because nothing else can signal this moment. A decode thread runs a request in one
    // synchronous call and posts two kinds of message only, `ready` once and one `done` per
    // request (the main thread acts on answers, never on progress), so no message falls between
    // opening the input and the answer; a per-request "opened" message would exist for these
    // tests alone. Nor can the file be the latch: a FIFO the test writes to would park the thread
    // inside a read, where it looks at no cancel cell, so the stop-at-the-next-frame the tests
    // measure would not happen. The kernel's table of this process's descriptors is the one
    // place the open shows.
    const deadline = Date.now() + 10_000
    const isOpen = () =>
      readdirSync("/proc/self/fd").some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path
        } catch {
          return false // closed meanwhile
        }
      })
    while (!isOpen()) {
      if (Date.now() > deadline) throw new Error(`${path} was not opened within 10 s`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  })
