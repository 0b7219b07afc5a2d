/**
 * The cache of reference features: what a model metric's `prepare` gave for a reference video,
 * stored under a key of the video's content, its decode options, the metric and the model file's
 * content, so a later evaluation against the same references neither decodes nor featurizes them.
 *
 * @since 0.3.0
 */
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import { homedir } from "node:os"
import * as path from "node:path"
import { DecodePlan, type Video } from "@vidpool/pool"
import type * as Metric from "./Metric.ts"

/**
 * `"off"`: neither read nor written; `"read"`: hits are used, nothing is written;
 * `"read-write"` (default): hits are used and misses written.
 *
 * @since 0.3.0
 * @category models
 */
export type CacheMode = "off" | "read" | "read-write"

/**
 * @since 0.3.0
 * @category constants
 */
export const cacheModes = ["off", "read", "read-write"] as const

/**
 * Where the cache lives: `dir` when given, else `VIDPOOL_CACHE_DIR`, else `$XDG_CACHE_HOME/vidpool`,
 * else `~/.cache/vidpool`; reference features go in its `features/` folder (delete it to clear them).
 *
 * @since 0.3.0
 * @category location
 */
export const cacheRoot = (dir?: string, env: Readonly<Record<string, string | undefined>> = process.env): string =>
  dir ?? (env.VIDPOOL_CACHE_DIR !== undefined && env.VIDPOOL_CACHE_DIR !== "" ? env.VIDPOOL_CACHE_DIR : undefined) ??
    path.join(env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(homedir(), ".cache"), "vidpool")

const hashFile = async (hash: ReturnType<typeof createHash>, file: string): Promise<void> => {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
}

/**
 * A digest of what a video reference decodes from: the file's content, or a folder's image names
 * and contents in the order they are decoded; with its decode options. `undefined` when it cannot
 * be read (the decode will say why).
 *
 * @since 0.3.0
 * @category keys
 */
export const videoDigest = async (video: Video): Promise<string | undefined> => {
  try {
    const hash = createHash("sha256")
    hash.update(JSON.stringify({ source: video.source, options: video.options }))
    if (video.source === "file") {
      await hashFile(hash, video.path)
    } else {
      for (const name of DecodePlan.imagesOf(await fs.readdir(video.path))) {
        hash.update(`\n${name}\n`)
        await hashFile(hash, path.join(video.path, name))
      }
    }
    return hash.digest("hex")
  } catch {
    return undefined
  }
}

/**
 * The cache key of one metric's features of one video.
 *
 * @since 0.3.0
 * @category keys
 */
export const entryKey = (parts: {
  readonly video: string
  readonly metric: string
  readonly version: number
  readonly models: ReadonlyArray<string>
}): string =>
  createHash("sha256").update(JSON.stringify([parts.video, parts.metric, parts.version, ...parts.models])).digest("hex")

/**
 * A cached entry: the features, or `null` for a video the metric leaves out (too short).
 *
 * @since 0.3.0
 * @category models
 */
export type Entry = { readonly features: Float32Array | null }

const entryFile = (root: string, key: string) => path.join(root, "features", key.slice(0, 2), `${key}.json`)

/**
 * The entry under `key`, or `undefined` (absent or unreadable: a miss).
 *
 * @since 0.3.0
 * @category io
 */
export const read = async (root: string, key: string): Promise<Entry | undefined> => {
  try {
    const parsed = JSON.parse(await fs.readFile(entryFile(root, key), "utf8")) as { key?: unknown; features?: unknown }
    if (parsed.key !== key) return undefined
    if (parsed.features === null) return { features: null }
    if (!Array.isArray(parsed.features) || !parsed.features.every((x) => typeof x === "number")) return undefined
    return { features: Float32Array.from(parsed.features as Array<number>) }
  } catch {
    return undefined
  }
}

/**
 * Writes the entry (to a temporary file, then renamed over, so a reader never sees half of one).
 * A failure is returned, not thrown: the cache only saves work.
 *
 * @since 0.3.0
 * @category io
 */
export const write = async (root: string, key: string, entry: Entry): Promise<unknown> => {
  const file = entryFile(root, key)
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    await fs.mkdir(path.dirname(file), { recursive: true })
    const features = entry.features === null ? null : Array.from(entry.features)
    await fs.writeFile(temporary, JSON.stringify({ key, features }))
    await fs.rename(temporary, file)
    return undefined
  } catch (cause) {
    await fs.rm(temporary, { force: true })
    return cause
  }
}

/**
 * What the cache holds for one evaluation's reference samples: `hits`, the samples whose every
 * set metric's features were found (they are not decoded), and `keys`, each reference sample's
 * key per metric (to write the misses under).
 *
 * @since 0.3.0
 * @category planning
 */
export interface CachePlan {
  readonly hits: ReadonlyMap<number, Readonly<Record<string, Entry>>>
  readonly keys: ReadonlyMap<number, Readonly<Record<string, string>>>
}

/**
 * Looks up the reference samples (role `"reference"`, a `Video` in `video`): the cache is used
 * only when every set metric chosen is cacheable (a sample decoded for one is decoded for all).
 *
 * @since 0.3.0
 * @category planning
 */
export const plan = async (options: {
  readonly mode: CacheMode
  readonly root: string
  readonly references: ReadonlyArray<readonly [index: number, video: Video]>
  readonly metrics: ReadonlyArray<{
    readonly name: string
    readonly kind: "sample" | "set"
    readonly cached?: { readonly field: string; readonly version: number }
    readonly models?: ReadonlyArray<{ readonly name: string }>
  }>
  readonly modelDigests: Readonly<Record<string, string>>
}): Promise<CachePlan> => {
  const hits = new Map<number, Record<string, Entry>>()
  const keys = new Map<number, Record<string, string>>()
  const sets = options.metrics.filter((m) => m.kind === "set")
  if (options.mode === "off" || sets.length === 0 || sets.some((m) => m.cached === undefined)) return { hits, keys }
  for (const [index, video] of options.references) {
    const digest = await videoDigest(video)
    if (digest === undefined) continue
    const byMetric: Record<string, string> = {}
    for (const m of sets) {
      byMetric[m.name] = entryKey({
        video: digest,
        metric: m.name,
        version: m.cached!.version,
        models: (m.models ?? []).map((spec) => options.modelDigests[spec.name] ?? "")
      })
    }
    keys.set(index, byMetric)
    const entries: Record<string, Entry> = {}
    let all = true
    for (const [name, key] of Object.entries(byMetric)) {
      const entry = await read(options.root, key)
      if (entry === undefined) {
        all = false
        break
      }
      entries[name] = entry
    }
    if (all) hits.set(index, entries)
  }
  return { hits, keys }
}

/**
 * Each set metric's partial of one reference sample from its cached entries: `accumulate` over
 * the features put where `prepare` would have (nothing, for a video the metric left out).
 *
 * @since 0.3.0
 * @category planning
 */
export const partialsOf = (
  metrics: ReadonlyArray<Metric.SetMetric>,
  hit: Readonly<Record<string, Entry>>
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const metric of metrics) {
    const entry = hit[metric.name]
    if (entry === undefined || metric.cached === undefined) continue
    const input = entry.features === null ? {} : { [metric.cached.field]: entry.features }
    out[metric.name] = metric.accumulate(metric.init(), input, "reference")
  }
  return out
}
