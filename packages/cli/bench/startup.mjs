// Run by bench/index.ts with plain `node`: a small parent process (so that spawning costs little
// and the same for both) times `node -e 0` and `node bin/vidpool.js --version`, alternating, and
// prints JSON { node: [ms...], vidpool: [ms...] }.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const rounds = Number(process.argv[2] ?? 15)
const bin = fileURLToPath(new URL("../bin/vidpool.js", import.meta.url))
const time = (args) => {
  const start = performance.now()
  const result = spawnSync(process.execPath, args, { stdio: "ignore" })
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${result.status}`)
  return performance.now() - start
}
const out = { node: [], vidpool: [] }
time(["-e", "0"])
time([bin, "--version"])
for (let i = 0; i < rounds; i++) {
  out.node.push(time(["-e", "0"]))
  out.vidpool.push(time([bin, "--version"]))
}
console.log(JSON.stringify(out))
