// Builds the packages before any test runs: the tests import the TypeScript sources, but worker
// threads, the `vidpool` command and the packages' imports of one another run the compiled
// `dist/` (plain Node loads no TypeScript), which must not lag behind the sources.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup() {
  const root = fileURLToPath(new URL("..", import.meta.url))
  execFileSync("pnpm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" })
}
