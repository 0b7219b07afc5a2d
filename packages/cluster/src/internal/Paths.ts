/**
 * The paths a coordinator sends and the ones its user gave: a relative video path travels
 * absolute (a runner resolves nothing against its own folder), and what comes back, the errors
 * of a reply or of a failed batch, names it again as given, as one machine's run names it.
 */
import { MetricError, type SampleError, type SampleResult } from "@vidpool/eval"
import { DecodeError, type DecodeReason, InvalidData, isVideo, ProcessFailed, Video } from "@vidpool/pool"
import * as nodePath from "node:path"

/** Each path made absolute for sending, with the path as given; the longest first. */
export type Given = ReadonlyArray<readonly [sent: string, given: string]>

/** A sample whose relative video paths are made absolute, and the paths as given. */
export const absolute = (sample: object): { readonly sample: object; readonly given: Given } => {
  let out: Record<string, unknown> | undefined
  const given: Array<readonly [string, string]> = []
  for (const [field, value] of Object.entries(sample)) {
    if (!isVideo(value) || nodePath.isAbsolute(value.path)) continue
    out ??= { ...sample }
    const resolved = nodePath.resolve(value.path)
    out[field] = value.source === "folder" ? Video.folder(resolved, value.options) : Video.file(resolved, value.options)
    if (resolved !== value.path) given.push([resolved, value.path])
  }
  // Longest first: a folder and a file inside it are both put back whole.
  given.sort((a, b) => b[0].length - a[0].length)
  return { sample: out ?? sample, given }
}

/** `text` with every sent path written as given. */
const show = (text: string, given: Given): string => {
  let out = text
  for (const [sent, as] of given) out = out.split(sent).join(as)
  return out
}

/** An error entry (a sample's, or a failed metric's `details.error`) with its strings shown as given. */
const showEntry = <E extends object>(entry: E, given: Given): E => {
  const out: Record<string, unknown> = { ...(entry as Record<string, unknown>) }
  for (const [key, value] of Object.entries(out)) if (typeof value === "string") out[key] = show(value, given)
  return out as E
}

/**
 * A sample's result from a runner, its recorded error and its failed metrics' errors naming the
 * sample's paths as given.
 */
export const showResult = (result: SampleResult, given: Given): SampleResult => {
  if (given.length === 0) return result
  let metrics = result.metrics
  for (const [name, metric] of Object.entries(result.metrics)) {
    const error = metric.details.error
    if (typeof error !== "object" || error === null) continue
    if (metrics === result.metrics) metrics = { ...result.metrics }
    metrics[name] = { ...metric, details: { ...metric.details, error: showEntry(error, given) } }
  }
  return {
    ...result,
    metrics,
    ...(result.error !== undefined ? { error: showEntry<SampleError>(result.error, given) } : {})
  }
}

const showReason = (reason: DecodeReason, given: Given): DecodeReason => {
  switch (reason._tag) {
    case "InvalidData":
      return new InvalidData({ detail: show(reason.detail, given), ...(reason.cause !== undefined ? { cause: reason.cause } : {}) })
    case "ProcessFailed":
      return new ProcessFailed({
        exitCode: reason.exitCode,
        stderr: show(reason.stderr, given),
        ...(reason.signal !== undefined ? { signal: reason.signal } : {}),
        ...(reason.cause !== undefined ? { cause: reason.cause } : {})
      })
    default:
      return reason
  }
}

/**
 * A batch's error, when it is a sample's (a DecodeError or MetricError of `onError: "fail"`),
 * naming that sample's paths as given; `given` says them for the sample at an index.
 */
export const showError = <E>(error: E, given: (index: number) => Given): E => {
  if (error instanceof DecodeError && error.index !== undefined) {
    const paths = given(error.index)
    if (paths.length === 0) return error
    return new DecodeError({
      path: show(error.path, paths),
      index: error.index,
      ...(error.key !== undefined ? { key: error.key } : {}),
      reason: showReason(error.reason, paths)
    }) as E
  }
  if (error instanceof MetricError && error.index !== undefined) {
    const paths = given(error.index)
    if (paths.length === 0) return error
    return new MetricError({ metric: error.metric, index: error.index, detail: show(error.detail, paths) }) as E
  }
  return error
}
