// What eval's sources name, doc examples included: a program copying an example must be able to
// install what it imports. Eval depends on the pool only; the default wiring with a decoder is
// `Live` of @vidpool/cli, the package above eval and the decoders.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

const sourceFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : []
  })

describe("eval's sources", () => {
  it("import, in code and in doc examples, only eval itself, its dependencies, and the composition root @vidpool/cli", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
      readonly dependencies?: Record<string, string>
      readonly peerDependencies?: Record<string, string>
    }
    const allowed = new Set([
      "@vidpool/eval",
      "@vidpool/cli",
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {})
    ])
    const strays = sourceFiles(path.join(packageDir, "src")).flatMap((file) =>
      [...fs.readFileSync(file, "utf8").matchAll(/from\s+"(@vidpool\/[a-z-]+)/g)]
        .map((match) => match[1])
        .filter((name) => !allowed.has(name))
        .map((name) => `${path.relative(packageDir, file)}: ${name}`)
    )
    expect(strays).toEqual([])
  })
})
