/**
 * The entry of a decode worker thread: loads node-av, says `ready` with the FFmpeg version (or
 * `unavailable`), then decodes one request at a time and posts each tensor back, a view of the
 * thread's slab (`Slab`) or, when the slab is full, with its memory transferred. Not imported by
 * the library; `DecodeThreads` starts it (bundled by the build into `dist/decode-worker.mjs`).
 *
 * @since 0.2.0
 */
import { parentPort, workerData } from "node:worker_threads"
import type { DecodeRequest, WorkerMessage } from "./Protocol.ts"
import * as Slab from "./Slab.ts"

/** What the main thread gives a decode thread when it starts it. */
export interface DecodeWorkerData {
  /** One Int32 cell: set to 1 to end the thread. */
  readonly control: SharedArrayBuffer
  /** One Int32 cell: set to 1 by the main thread to stop the decode running at its next frame. */
  readonly cancel: SharedArrayBuffer
  /** `Slab.maxSlots` Int32 cells: a slot's state (1: holding a tensor), cleared by the main thread. */
  readonly slots: SharedArrayBuffer
  /** The bound of this thread's slab in bytes (0: none). */
  readonly slabBytes: number
}

const port = parentPort!
const data = workerData as DecodeWorkerData
// Set to 1 by the main thread to end this thread: a decode running stops at its next frame and
// frees what it holds, then the thread exits without answering (ending it inside a native call
// could abort the process).
const control = new Int32Array(data.control)
const stopAsked = () => Atomics.load(control, 0) !== 0
const cancel = new Int32Array(data.cancel)
const slab = Slab.make(new Int32Array(data.slots), data.slabBytes)
const post = (message: WorkerMessage, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)

try {
  const Decode = await import("./LibavDecode.ts")
  Decode.quietUnsafe()
  post({ _tag: "ready", ffmpeg: Decode.ffmpegVersion() })
  port.on("message", (request: DecodeRequest | "exit") => {
    if (request === "exit") return process.exit(0)
    const spare = { buffer: request.spare }
    const lease = slab.lease(spare)
    const outcome = Decode.decodeUnsafe(request, cancel, stopAsked, lease)
    const tensor = typeof outcome === "object" && "data" in outcome ? outcome : undefined
    const slot = lease.finish(tensor?.data.buffer)
    if (stopAsked()) return process.exit(1)
    const transfer: Array<ArrayBuffer> = []
    if (tensor !== undefined && tensor.data.buffer instanceof ArrayBuffer) transfer.push(tensor.data.buffer)
    if (spare.buffer !== undefined) transfer.push(spare.buffer)
    const result = tensor !== undefined && slot !== undefined ? { ...tensor, slot } : outcome
    try {
      post({ _tag: "done", id: request.id, result, spare: spare.buffer }, transfer)
    } catch (error) {
      // The reply could not be sent: the slot goes back and the request still gets its answer.
      lease.finish(undefined)
      const detail = `the decoded tensor could not be sent to the main thread: ${
        error instanceof Error ? error.message : String(error)
      }`
      post({ _tag: "done", id: request.id, result: { _tag: "InvalidData", detail } })
    }
  })
} catch (error) {
  post({ _tag: "unavailable", detail: error instanceof Error ? error.message : String(error) })
}
