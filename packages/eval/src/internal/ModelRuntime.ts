/**
 * ONNX Runtime for the model metrics: loading onnxruntime-node (an optional dependency), opening
 * a session of a model file with the settings, checking its signature against a `ModelSpec`, and
 * running it. Used on the main thread (the checks before decoding) and in the metric workers.
 *
 * @since 0.3.0
 */
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"
import { describeThrow } from "./Modules.ts"
import { type ModelSettings, type ModelSpec, type TensorSpec } from "../Models.ts"

/** The part of a tensor's metadata vidpool reads. */
interface ValueInfo {
  readonly name: string
  readonly isTensor: boolean
  readonly type?: string
  readonly shape?: ReadonlyArray<number | string>
}

/** The part of an ONNX Runtime session vidpool uses. */
export interface OrtSession {
  readonly inputNames: ReadonlyArray<string>
  readonly outputNames: ReadonlyArray<string>
  readonly inputMetadata: ReadonlyArray<ValueInfo>
  readonly outputMetadata: ReadonlyArray<ValueInfo>
  run(feeds: Record<string, unknown>, fetches?: ReadonlyArray<string>): Promise<Record<string, { readonly data: unknown; readonly dims: ReadonlyArray<number> }>>
  release(): Promise<void>
}

/** The part of onnxruntime-node vidpool uses. */
export interface Ort {
  readonly InferenceSession: {
    create(path: string, options?: Record<string, unknown>): Promise<OrtSession>
  }
  readonly Tensor: new(type: "float32" | "int64", data: Float32Array | BigInt64Array, dims: ReadonlyArray<number>) => unknown
  readonly listSupportedBackends?: () => ReadonlyArray<{ readonly name: string; readonly bundled: boolean }>
  readonly env?: { logLevel?: string }
}

/**
 * Why the runtime or a model could not be had, before the caller turns it into a `ModelError`.
 *
 * @since 0.3.0
 * @category models
 */
export interface Refusal {
  readonly reason: "FileMissing" | "NotOnnx" | "Signature" | "RuntimeMissing" | "ProviderUnavailable" | "Changed"
  readonly detail: string
  readonly cause?: unknown
}

/**
 * The package ONNX Runtime is loaded from.
 *
 * @since 0.3.0
 * @category loading
 */
export const runtimePackage = "onnxruntime-node"

/**
 * Imports onnxruntime-node (or the package `name`), or says why it cannot be.
 *
 * @since 0.3.0
 * @category loading
 */
export const loadRuntime = async (name: string = runtimePackage): Promise<Ort | Refusal> => {
  try {
    // Resolved where @vidpool/eval is installed (it is eval's optional dependency), also from a
    // bundle that inlined this module.
    const from = createRequire(createRequire(import.meta.url).resolve("@vidpool/eval/package.json"))
    const mod = await import(pathToFileURL(from.resolve(name)).href) as { default?: Ort } & Ort
    const ort = mod.InferenceSession === undefined && mod.default !== undefined ? mod.default : mod
    if (typeof ort.InferenceSession?.create !== "function") {
      return { reason: "RuntimeMissing", detail: `the package ${name} does not export InferenceSession` }
    }
    // What fails comes back as an error vidpool reports; ONNX Runtime's own log would repeat it on stderr.
    if (ort.env !== undefined) ort.env.logLevel = "fatal"
    return ort
  } catch (cause) {
    return {
      reason: "RuntimeMissing",
      detail: `ONNX Runtime for Node is not installed or does not load (${describeThrow(cause)}); ` +
        `install it beside vidpool: npm install onnxruntime-node@1.30.0`,
      cause
    }
  }
}

/**
 * A digest of a file's content (SHA-256, hex), or why the file cannot be read.
 *
 * @since 0.3.0
 * @category loading
 */
export const fileDigest = async (file: string): Promise<string | Refusal> => {
  try {
    const stat = await fs.stat(file)
    if (!stat.isFile()) return { reason: "FileMissing", detail: `${file} is not a file` }
  } catch (cause) {
    return { reason: "FileMissing", detail: `there is no readable file at ${file} (${describeThrow(cause)})`, cause }
  }
  try {
    const hash = createHash("sha256")
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
    return hash.digest("hex")
  } catch (cause) {
    return { reason: "FileMissing", detail: `cannot read ${file} (${describeThrow(cause)})`, cause }
  }
}

/**
 * Whether a value is a `Refusal` (and not what was asked for).
 *
 * @since 0.3.0
 * @category guards
 */
export const isRefusal = (u: unknown): u is Refusal =>
  typeof u === "object" && u !== null && "reason" in u && "detail" in u && !("run" in u)

/**
 * Opens a session of `file` with the settings (intra-op threads, providers in order; `cpu` is
 * never added silently). A file the runtime cannot load is `NotOnnx`; a provider it cannot load,
 * `ProviderUnavailable`, unless more providers follow it in the list (then those are tried).
 *
 * @since 0.3.0
 * @category sessions
 */
export const openSession = async (ort: Ort, file: string, settings: ModelSettings): Promise<OrtSession | Refusal> => {
  const backends = ort.listSupportedBackends?.()
  if (backends !== undefined) {
    const known = new Set(backends.map((b) => b.name))
    const absent = settings.providers.filter((p) => !known.has(p))
    if (absent.length > 0) {
      return {
        reason: "ProviderUnavailable",
        detail: `the execution provider ${absent.join(", ")} is not in this onnxruntime-node build ` +
          `(it has ${[...known].join(", ")}); ask for one of those, or add "cpu" to fall back to it`
      }
    }
  }
  // Each provider that does not load is an error, unless providers follow it: then the next ones are tried.
  let refusal: Refusal | undefined
  for (let from = 0; from < settings.providers.length; from++) {
    const providers = settings.providers.slice(from)
    try {
      return await ort.InferenceSession.create(file, {
        executionProviders: providers,
        intraOpNumThreads: settings.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: settings.checkOnly === true ? "disabled" : "all",
        enableCpuMemArena: settings.checkOnly !== true,
        // Failures come back as errors, which say more than ONNX Runtime's log would on stderr.
        logSeverityLevel: 4
      })
    } catch (cause) {
      const text = describeThrow(cause)
      const provider = providers[0] !== "cpu" && text.toLowerCase().includes(providers[0]) ? providers[0] : undefined
      if (provider === undefined) return { reason: "NotOnnx", detail: `ONNX Runtime cannot load it as a model (${text})`, cause }
      refusal ??= {
        reason: "ProviderUnavailable",
        detail: `the execution provider ${provider} does not load here (${text}); ` +
          `ask for another, or list "cpu" after it to fall back to the CPU`,
        cause
      }
    }
  }
  return refusal ?? { reason: "ProviderUnavailable", detail: "no execution provider was asked for" }
}

const showDims = (dims: ReadonlyArray<number | string> | undefined): string =>
  dims === undefined ? "[?]" : `[${dims.map((d) => (typeof d === "number" && d >= 0 ? String(d) : typeof d === "string" ? d : "?")).join(", ")}]`

/** Whether a model's tensor fits what the metric needs: the rank, and each fixed size. */
const fits = (want: TensorSpec, have: ValueInfo): boolean => {
  if (!have.isTensor || have.shape === undefined) return false
  if (have.type !== undefined && have.type !== (want.type ?? "float32")) return false
  if (have.shape.length !== want.dims.length) return false
  return want.dims.every((d, i) => {
    const found = have.shape![i]
    return typeof d === "string" || typeof found !== "number" || found < 0 || found === d
  })
}

const describeValue = (v: ValueInfo): string =>
  `"${v.name}" ${v.isTensor ? `${v.type ?? "tensor"} ${showDims(v.shape)}` : "(not a tensor)"}`

const describeSpec = (t: TensorSpec): string =>
  `"${t.name}" ${t.type ?? "float32"} ${showDims(t.dims)}${t.range === undefined ? "" : ` on [${t.range[0]}, ${t.range[1]}]`}`

/**
 * The output of `session` the spec's outputs name (the first it has), or a `Signature` refusal
 * saying what was expected and what was found.
 *
 * @since 0.3.0
 * @category sessions
 */
export const checkSignature = (spec: ModelSpec, session: OrtSession): TensorSpec | Refusal => {
  const found = () =>
    `found inputs ${session.inputMetadata.map(describeValue).join(", ") || "(none)"} and outputs ` +
    `${session.outputMetadata.map(describeValue).join(", ") || "(none)"}`
  const input = session.inputMetadata.find((v) => v.name === spec.input.name)
  if (input === undefined || !fits(spec.input, input) || session.inputMetadata.length !== 1) {
    return {
      reason: "Signature",
      detail: `expected one input ${describeSpec(spec.input)}; ${found()}`
    }
  }
  for (const want of spec.outputs) {
    const have = session.outputMetadata.find((v) => v.name === want.name)
    if (have !== undefined && fits(want, have)) return want
  }
  return {
    reason: "Signature",
    detail: `expected an output ${spec.outputs.map(describeSpec).join(" or ")}; ${found()}`
  }
}

/**
 * Runs `session` on one batch (float32, or int64 token ids), returning the named output's data and dims.
 *
 * @since 0.3.0
 * @category sessions
 */
export const runOnce = async (
  ort: Ort,
  session: OrtSession,
  input: string,
  output: string,
  data: Float32Array | BigInt64Array,
  dims: ReadonlyArray<number>
): Promise<{ readonly data: Float32Array; readonly dims: ReadonlyArray<number> }> => {
  const tensor = data instanceof BigInt64Array ? new ort.Tensor("int64", data, dims) : new ort.Tensor("float32", data, dims)
  const result = await session.run({ [input]: tensor }, [output])
  const value = result[output]
  if (value === undefined || !(value.data instanceof Float32Array)) {
    throw new Error(`the model gave no float32 output "${output}"`)
  }
  return { data: value.data, dims: value.dims }
}
