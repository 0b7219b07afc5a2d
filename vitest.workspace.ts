// The one list of test projects. vitest 4 no longer reads this file by itself:
// vitest.config.ts imports it into `test.projects`.
export default [
  "packages/pool",
  "packages/ffmpeg",
  "packages/libav",
  "packages/eval",
  "packages/cluster",
  "packages/cli"
]
