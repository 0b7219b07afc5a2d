// The packages' public types as the built `.d.ts` files state them: no `any` in a type, and no
// need for Node's types (`@types/node`) where the API has nothing of Node. A consumer outside the
// workspace (the `.d.ts` files copied, so that nothing resolves into the workspace's
// `node_modules/@types`) type-checks them with `types: []` and `skipLibCheck: false`.
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { packageDir, removeDir, tempDir } from "./helpers.ts"

const run = promisify(execFile)
const workspace = path.resolve(packageDir, "..", "..")
const tsc = path.join(workspace, "node_modules", "typescript", "bin", "tsc")
const packages = ["pool", "ffmpeg", "libav", "eval", "cluster", "cli"] as const
type Package = (typeof packages)[number]

/**
 * The packages whose types must check without Node's. Cluster (and the CLI, which exports the
 * cluster's layers) hands out `@effect/sql-pg`'s `PgClient`, whose own `.d.ts` import `node:stream`
 * and `node:tls`: they may need Node's types there, and only there.
 */
const withoutNode: ReadonlyArray<Package> = ["pool", "ffmpeg", "libav", "eval"]
const needNodeOnlyThrough = `${path.sep}sql-pg${path.sep}`

const distOf = (name: Package): string => path.join(workspace, "packages", name, "dist")

const declarationFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".d.ts"))
    .map((file) => path.join(dir, file))

/**
 * The source with comments removed and the text of string and template literals blanked (a
 * template's `${...}` types kept): what is left is declarations and types.
 */
const typeText = (source: string): string => {
  let out = ""
  let i = 0
  // One entry per open `${`: the brace depth inside it; empty at the top level.
  const templates: Array<number> = []
  const template = (): void => {
    while (i < source.length && source[i] !== "`") {
      if (source[i] === "\\") {
        out += source.slice(i, i + 2).replace(/[^\n]/g, " ")
        i += 2
      } else if (source.startsWith("${", i)) {
        out += "${"
        i += 2
        templates.push(0)
        return
      } else {
        out += source[i] === "\n" ? "\n" : " "
        i++
      }
    }
    out += "`"
    i++
  }
  while (i < source.length) {
    const c = source[i]
    if (source.startsWith("//", i)) {
      while (i < source.length && source[i] !== "\n") i++
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2)
      const stop = end === -1 ? source.length : end + 2
      out += source.slice(i, stop).replace(/[^\n]/g, " ")
      i = stop
    } else if (c === "\"" || c === "'") {
      out += c
      i++
      while (i < source.length && source[i] !== c && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1
      out += c
      i++
    } else if (c === "`") {
      out += c
      i++
      template()
    } else if (templates.length > 0 && c === "{") {
      templates[templates.length - 1]++
      out += c
      i++
    } else if (templates.length > 0 && c === "}") {
      i++
      if (templates[templates.length - 1] === 0) {
        templates.pop()
        out += "}"
        template()
      } else {
        templates[templates.length - 1]--
        out += c
      }
    } else {
      out += c
      i++
    }
  }
  return out
}

/**
 * Each `any` in type position of a `.d.ts`, as `file:line: text`. A member or parameter named
 * `any` (`any:`, `any?:`) and a property access (`.any`) are names, not the type.
 */
const anyTypes = (file: string, source: string): Array<string> => {
  const lines = source.split("\n")
  return typeText(source).split("\n").flatMap((line, index) =>
    /(?<![\w$.])any(?![\w$])(?!\s*\??\s*:)/.test(line) ? [`${file}:${index + 1}: ${lines[index].trim()}`] : []
  )
}

interface Diagnostic {
  readonly file: string
  readonly text: string
}

/**
 * Runs the workspace's `tsc` on a project; its errors, each with the file it is in. A `tsc` that
 * fails without naming an error (it did not start, say) fails the test.
 */
const typeCheck = async (project: string): Promise<Array<Diagnostic>> => {
  const output = await run(process.execPath, [tsc, "-p", project], { maxBuffer: 1 << 24 }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string }) => {
      if (error.stdout === undefined || !/error TS\d+/.test(error.stdout)) throw error
      return error.stdout
    }
  )
  return output.split("\n")
    .filter((line) => /error TS\d+/.test(line))
    .map((text) => ({ file: path.resolve(path.dirname(project), text.replace(/\(\d+,\d+\).*$/, "")), text }))
}

/** Every module a package exports with types: `@vidpool/eval`, and each typed subpath. */
const typedEntries = (name: Package): Array<string> => {
  const manifest = JSON.parse(fs.readFileSync(path.join(workspace, "packages", name, "package.json"), "utf8")) as {
    readonly exports: Record<string, unknown>
  }
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === "object" && target !== null && "types" in target)
    .map(([subpath]) => `@vidpool/${name}${subpath.slice(1)}`)
}

const consumerOf = (names: ReadonlyArray<Package>): string =>
  names.flatMap(typedEntries).map((entry, i) => `import * as M${i} from "${entry}"\nexport type T${i} = typeof M${i}\n`).join("")

const tsconfig = (types: ReadonlyArray<string>) => ({
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    // Effect's own `.d.ts` use web globals (AbortSignal, URL, ReadableStream): DOM has them, as
    // Node's types do.
    lib: ["ES2022", "DOM"],
    types,
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    noEmit: true
  },
  files: ["consumer.ts"]
})

describe("the packages' public types", () => {
  let scratch: string | undefined
  let nodeModules = ""

  /** A consumer project in the scratch folder: `consumer.ts` importing `names`, with `types`. */
  const project = (folder: string, names: ReadonlyArray<Package>, types: ReadonlyArray<string>): string => {
    const dir = path.join(scratch!, folder)
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "consumer.ts"), consumerOf(names))
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig(types), null, 2))
    return path.join(dir, "tsconfig.json")
  }

  beforeAll(() => {
    scratch = tempDir("vidpool-public-types-")
    nodeModules = path.join(scratch, "node_modules")
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    // Our packages as copies of their manifests and `.d.ts` files.
    for (const name of packages) {
      const target = path.join(nodeModules, "@vidpool", name)
      for (const file of declarationFiles(distOf(name))) {
        const to = path.join(target, "dist", path.relative(distOf(name), file))
        fs.mkdirSync(path.dirname(to), { recursive: true })
        fs.copyFileSync(file, to)
      }
      fs.copyFileSync(path.join(workspace, "packages", name, "package.json"), path.join(target, "package.json"))
    }
    // Their peers as the workspace installed them.
    const link = (request: string, from: Package | "workspace") => {
      const manifest = from === "workspace" ? path.join(workspace, "package.json") : path.join(workspace, "packages", from, "package.json")
      const dir = path.dirname(createRequire(manifest).resolve(`${request}/package.json`))
      fs.mkdirSync(path.dirname(path.join(nodeModules, request)), { recursive: true })
      fs.symlinkSync(fs.realpathSync(dir), path.join(nodeModules, request), "dir")
    }
    link("effect", "pool")
    link("@effect/sql-pg", "cluster")
    link("@types/node", "workspace")
  })

  afterAll(() => removeDir(scratch))

  it("state no `any`", () => {
    const found = packages.flatMap((name) =>
      declarationFiles(distOf(name)).flatMap((file) =>
        anyTypes(path.relative(workspace, file), fs.readFileSync(file, "utf8"))
      )
    )
    expect(found).toEqual([])
  })

  it(`check without Node's types: ${withoutNode.join(", ")}`, async () => {
    const errors = await typeCheck(project("without-node", withoutNode, []))
    expect(errors.map((e) => e.text)).toEqual([])
  })

  it("need Node's types elsewhere only through @effect/sql-pg", async () => {
    const rest = packages.filter((name) => !withoutNode.includes(name))
    const errors = await typeCheck(project("rest-without-node", rest, []))
    expect(errors.filter((e) => !e.file.includes(needNodeOnlyThrough)).map((e) => e.text)).toEqual([])
  })

  it("check in full with Node's types", async () => {
    const errors = await typeCheck(project("with-node", packages, ["node"]))
    expect(errors.map((e) => e.text)).toEqual([])
  })

  it("are recognised as `any` where they are, and not in comments, strings or names", () => {
    const source = [
      "/** any number of frames */",
      "export declare const a: SetMetric<any>;",
      "export declare const b: \"any\" | `${any}px`;",
      "export interface C { readonly any: string; any?: number; f(any: number): void }",
      "export type D = typeof Effect.any; // any",
      "export type E<T> = T extends any ? T : never;"
    ].join("\n")
    expect(anyTypes("x.d.ts", source).map((line) => line.split(":")[1])).toEqual(["2", "3", "6"])
  })
})
