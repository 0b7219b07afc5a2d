import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "libav",
    include: ["test/**/*.test.ts"],
    // The same fixture clips as the command-line decoder's tests, made once by ffmpeg.
    globalSetup: ["../ffmpeg/test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
