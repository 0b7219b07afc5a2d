/**
 * The entry of a decode worker thread: loads node-av, says `ready` with the FFmpeg version (or
 * `unavailable`), then decodes one request at a time and posts each tensor back with its buffer
 * transferred. Not imported by the library; `DecodeThreads` starts it (bundled by the build into
 * `dist/decode-worker.mjs`).
 *
 * @since 0.2.0
 */
import { parentPort, workerData } from "node:worker_threads"
import type { DecodeRequest, WorkerMessage } from "./Protocol.ts"

const port = parentPort!
// Set to 1 by the main thread to end this thread: a decode running stops at its next frame and
// frees what it holds, then the thread exits without answering (ending it inside a native call
// could abort the process).
const control = new Int32Array((workerData as { readonly control: SharedArrayBuffer }).control)
const stopAsked = () => Atomics.load(control, 0) !== 0
const post = (message: WorkerMessage, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)

try {
  const Decode = await import("./LibavDecode.ts")
  Decode.quiet()
  post({ _tag: "ready", ffmpeg: Decode.ffmpegVersion() })
  port.on("message", (request: DecodeRequest | "exit") => {
    if (request === "exit") return process.exit(0)
    const spare = { buffer: request.spare }
    const result = Decode.decode(request, new Int32Array(request.cancel), stopAsked, spare)
    if (stopAsked()) return process.exit(1)
    const transfer = typeof result === "object" && "data" in result ? [result.data.buffer as ArrayBuffer] : []
    if (spare.buffer !== undefined) transfer.push(spare.buffer)
    post({ _tag: "done", id: request.id, result, spare: spare.buffer }, transfer)
  })
} catch (error) {
  post({ _tag: "unavailable", detail: error instanceof Error ? error.message : String(error) })
}
