/**
 * User code loaded from modules: the metrics a module exports, the feature extractor a module
 * exports, and how a path becomes an import specifier (the same on the main and worker threads).
 *
 * @since 0.2.0
 */
import { pathToFileURL } from "node:url"
import * as path from "node:path"
import type { FeatureExtractorShape } from "../Frechet.ts"
import type * as Metric from "../Metric.ts"

/**
 * A module path as an import specifier: absolute and relative paths become file URLs.
 *
 * @since 0.1.0
 * @category loading
 */
export const moduleUrl = (specifier: string): string =>
  specifier.startsWith(".") || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(specifier)).href : specifier

/**
 * Reads the metrics a module exports: its `metrics` export (an array), or its default export (a
 * metric or an array of them). Throws when there are none or one is not a metric.
 *
 * @since 0.1.0
 * @category loading
 */
export const metricsOfModule = (specifier: string, mod: Record<string, unknown>): ReadonlyArray<Metric.Metric> => {
  const exported = mod.metrics ?? mod.default
  const list = Array.isArray(exported) ? exported : exported === undefined ? [] : [exported]
  if (list.length === 0) throw new Error(`module ${specifier} exports no "metrics" array and no default metric`)
  for (const m of list) {
    const ok = typeof m === "object" && m !== null && typeof m.name === "string" &&
      (m.kind === "sample" ? typeof m.compute === "function" :
        m.kind === "set" && typeof m.accumulate === "function" && typeof m.finalize === "function")
    if (!ok) throw new Error(`module ${specifier} exports something that is not a metric: ${String(m?.name ?? m)}`)
    if (m.version !== undefined && (typeof m.version !== "string" || m.version.length === 0)) {
      throw new Error(`module ${specifier}: metric ${m.name} has a version that is not a non-empty string`)
    }
  }
  return list as ReadonlyArray<Metric.Metric>
}

/**
 * Reads the extractor a module exports: its `extractor` export, or its default export. Throws
 * when it is not `{ name, dimension >= 1, extract() }`.
 *
 * @since 0.1.0
 * @category loading
 */
export const extractorOfModule = (specifier: string, mod: Record<string, unknown>): FeatureExtractorShape => {
  const e = (mod.extractor ?? mod.default) as Partial<FeatureExtractorShape> | undefined
  if (
    typeof e !== "object" || e === null || typeof e.name !== "string" || typeof e.extract !== "function" ||
    typeof e.dimension !== "number" || !Number.isInteger(e.dimension) || e.dimension < 1
  ) {
    throw new Error(`module ${specifier} exports no "extractor" (or default) with a name, a dimension >= 1 and extract()`)
  }
  return e as FeatureExtractorShape
}

/**
 * The message of something thrown, for an error's detail.
 *
 * @since 0.2.0
 * @category loading
 */
export const describeThrow = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)
