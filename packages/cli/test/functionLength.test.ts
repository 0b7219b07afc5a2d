// A function does one job: past 60 lines, the jobs inside it get functions of their own, or the
// function says why it is one job at its top, in a comment that reads "Long because ...": in the
// doc comment right above it or in the first lines of its body. This test parses every source file
// of every package (with oxc, the parser rolldown's `parseAst` wraps, as vite exports it) and lists
// the functions (declarations, expressions, arrows, nested ones too) that are longer and say nothing.
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { parseSync } from "vite"
import { packageDir } from "./helpers.ts"

const limit = 60
const reason = /\bLong because\b/i
/** Lines after a body's opening line where its reason may stand. */
const firstLines = 3

const packagesDir = path.resolve(packageDir, "..")
const root = path.resolve(packagesDir, "..")

interface Node {
  readonly type: string
  readonly start: number
  readonly end: number
  readonly [key: string]: unknown
}

interface Comment {
  readonly value: string
  readonly start: number
  readonly end: number
}

const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"

const keyName = (node: unknown): string | undefined =>
  isNode(node) && node.type === "Identifier" ? node.name as string : undefined

/** The name a function goes by: its own, its variable's, its property's or method's, else its parent's. */
const nameAt = (node: Node, outer: string | undefined): string | undefined => {
  if (node.type === "VariableDeclarator") return keyName(node.id) ?? outer
  if (node.type === "Property" || node.type === "MethodDefinition") return keyName(node.key) ?? outer
  if (node.type === "FunctionDeclaration") return keyName(node.id) ?? outer
  return outer
}

/** The functions of `source` longer than `limit` lines with no reason at their top, as `name (line, lines)`. */
const unexplained = (file: string, source: string): Array<{ readonly name: string; readonly line: number; readonly lines: number }> => {
  const parsed = parseSync(file, source, { lang: "ts" })
  if (parsed.errors.length > 0) throw new Error(`${file} does not parse: ${parsed.errors[0].message}`)
  const starts = [0]
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") starts.push(i + 1)
  const lineOf = (offset: number) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
  const comments = (parsed.comments as ReadonlyArray<Comment>).map((c) => ({ ...c, first: lineOf(c.start), last: lineOf(c.end) }))
  /** The comments right above line `line` (each ending on the line before the next), and those in its first lines. */
  const explained = (fnLine: number, bodyLine: number) => {
    let above = fnLine
    for (let i = comments.length - 1; i >= 0; i--) {
      const c = comments[i]
      if (c.last !== above - 1) continue
      if (reason.test(c.value)) return true
      above = c.first
    }
    return comments.some((c) => c.first >= fnLine && c.first <= bodyLine + firstLines && reason.test(c.value))
  }
  const found: Array<{ name: string; line: number; lines: number }> = []
  const walk = (value: unknown, outer: string | undefined): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, outer)
      return
    }
    if (!isNode(value)) return
    const name = nameAt(value, outer)
    if (/Function|Arrow/.test(value.type) && isNode(value.body)) {
      const line = lineOf(value.start)
      const lines = lineOf(value.end) - line + 1
      if (lines > limit && !explained(line, lineOf(value.body.start))) found.push({ name: name ?? "?", line, lines })
    }
    for (const key of Object.keys(value)) if (key !== "parent") walk(value[key], name)
  }
  walk(parsed.program, undefined)
  return found
}

/** Every `.ts` file under the `src` folder of every package, relative to the workspace root. */
const sourceFiles = (): Array<string> =>
  fs.readdirSync(packagesDir).flatMap((pkg) => {
    const src = path.join(packagesDir, pkg, "src")
    if (!fs.existsSync(src)) return []
    return fs.readdirSync(src, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => path.relative(root, path.join(src, file)).split(path.sep).join("/"))
  }).sort()

/** A function of `lines` lines (its first and last among them), with `top` as its first body lines. */
const fn = (name: string, lines: number, top: string = "") =>
  `const ${name} = (a: number) => {\n${top}${"  a++\n".repeat(lines - 2 - top.split("\n").length + 1)}}\n`

describe("function length", () => {
  it("finds a long function by its own name, a nested one by its own or its parent's, and not a short one", () => {
    const nested = "export const make = () => {\n  const inner = " + fn("x", 62).slice("const x = ".length) +
      "  return [1, 2].map((n) => {\n" + "    n++\n".repeat(60) + "    return n\n  })\n}\n"
    const source = fn("short", 60) + fn("long", 61) + nested
    const found = unexplained("x.ts", source).map((f) => `${f.name} ${f.lines}`)
    assert.deepStrictEqual(found, ["long 61", "make 127", "inner 62", "make 63"])
  })

  it("takes a reason from the doc comment right above or the first lines of the body, and no other comment", () => {
    const above = "/**\n * Does a thing.\n * Long because it is a table.\n */\n// @internal\n" + fn("documented", 70)
    const inside = fn("commented", 70, "  // Long because its cases share one loop.\n")
    const apart = "// Long because of nothing here.\n\n" + fn("separated", 70)
    const late = fn("late", 70).replace("  a++\n".repeat(10), "  a++\n".repeat(5) + "  // Long because too late.\n" + "  a++\n".repeat(4))
    const found = unexplained("x.ts", [above, inside, apart, late].join("\n")).map((f) => f.name)
    assert.deepStrictEqual(found, ["separated", "late"])
  })

  it("reads every source file of every package", () => {
    const files = sourceFiles()
    for (const pkg of ["pool", "ffmpeg", "libav", "eval", "cluster", "cli"]) {
      assert.isTrue(files.some((file) => file.startsWith(`packages/${pkg}/src/`)), pkg)
    }
    assert.isTrue(files.some((file) => file.includes("/internal/")))
  })

  it("no function of the packages is longer than 60 lines without a reason at its top", () => {
    const failing: Array<string> = []
    for (const file of sourceFiles()) {
      for (const f of unexplained(file, fs.readFileSync(path.join(root, file), "utf8"))) {
        failing.push(`${file}:${f.line} ${f.name} (${f.lines} lines)`)
      }
    }
    assert.deepStrictEqual(failing, [], "split these by job, or say at their top why each is one job (// Long because ...)")
  })
})
