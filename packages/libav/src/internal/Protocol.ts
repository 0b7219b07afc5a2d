/**
 * The messages between the main thread and a decode worker thread: a request names the video and
 * its options; the reply carries the tensor (a view of the thread's shared slab, or memory
 * transferred, never copied) or the reason the decode failed, as plain data.
 *
 * @since 0.2.0
 */
import type { DecodeOptions, DType, Layout, SourceMetadata } from "@vidpool/pool"

/**
 * @since 0.2.0
 * @category models
 */
export interface DecodeRequest {
  readonly id: number
  readonly path: string
  readonly source: "file" | "folder"
  /** For a folder: its images in decode order, each checked to be a regular file (since 0.3.0). */
  readonly images?: ReadonlyArray<string> | undefined
  readonly options: DecodeOptions
  /** FFmpeg decoder threads for this decode (0: FFmpeg chooses). */
  readonly threads: number
  /**
   * Memory given back by a consumer (the decoder's `buffers.recycle`, or the end of a `Pool.lease`), transferred here: the tensor is
   * decoded into it when it has exactly the size needed; otherwise it travels back with the reply.
   */
  readonly spare?: ArrayBuffer | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface DecodeSuccess {
  /** Over a slot of the thread's slab (shared, not transferred), or over memory transferred with the reply. */
  readonly data: Uint8Array | Float32Array
  /** The slab slot `data` is in: the main thread clears its cell when the tensor is recycled or collected. */
  readonly slot?: number | undefined
  readonly shape: readonly [number, number, number, number]
  readonly layout: Layout
  readonly dtype: DType
  readonly fps: number
  readonly timestamps: ReadonlyArray<number>
  readonly source: SourceMetadata
}

/**
 * A failure, as the fields of a `DecodeError` reason.
 *
 * @since 0.2.0
 * @category models
 */
export type DecodeFailure =
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "PermissionDenied" }
  | { readonly _tag: "InvalidData"; readonly detail: string }
  | { readonly _tag: "TooLarge"; readonly bytes: number; readonly limit: number }

/**
 * What a decode thread posts: first `ready` (or `unavailable` when node-av does not load), then
 * one `done` per request.
 *
 * @since 0.2.0
 * @category models
 */
export type WorkerMessage =
  | { readonly _tag: "ready"; readonly ffmpeg: string }
  | { readonly _tag: "unavailable"; readonly detail: string }
  | {
    readonly _tag: "done"
    readonly id: number
    readonly result: DecodeSuccess | DecodeFailure | "cancelled"
    /** The request's spare buffer, when the decode did not use it. */
    readonly spare?: ArrayBuffer | undefined
  }
