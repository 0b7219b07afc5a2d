/**
 * The seed's design in Python (bench/seed_pool.py: loader threads, a bounded queue.Queue,
 * `(idx, array)` items, PyAV decoding to rgb24 numpy), measured in the same run as the benchmark
 * that compares with it. PyAV and numpy are Debian's packages, installed here when missing.
 */
import { execFile, execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import * as NodePath from "node:path"
import { promisify } from "node:util"

export const python = "/usr/bin/python3"
const script = NodePath.join(import.meta.dirname, "seed_pool.py")
const run = promisify(execFile)

/** PyAV and numpy from Debian, installed when missing; the reason when they cannot be. */
export const ensurePython = (): string | undefined => {
  const check = () => {
    try {
      execFileSync(python, ["-c", "import av, numpy"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  }
  if (!existsSync(python)) return `${python} is not installed`
  if (check()) return undefined
  const install = () => execFileSync("apt-get", ["install", "-y", "-qq", "python3-av", "python3-numpy"], { stdio: "ignore" })
  try {
    console.log("installing Debian's python3-av and python3-numpy for the baseline")
    install()
  } catch (error) {
    try {
      execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" })
      install()
    } catch {
      return `apt-get install python3-av python3-numpy failed (${(error as Error).message}); run it as root`
    }
  }
  return check() ? undefined : "python3-av is installed but `import av` fails"
}

/** One run of the seed's design over `clips`: its last JSON line (clips_per_s, max_rss_mb, scores). */
export const seedPool = async (
  loaders: number,
  maxSize: number,
  metric: "none" | "flicker",
  clips: ReadonlyArray<string>
): Promise<{ readonly clips_per_s: number; readonly max_rss_mb: number; readonly scores?: ReadonlyArray<number> }> => {
  const { stdout } = await run(python, [script, String(loaders), String(maxSize), metric, ...clips], { maxBuffer: 1 << 26 })
  return JSON.parse(stdout.trim().split("\n").pop()!)
}
