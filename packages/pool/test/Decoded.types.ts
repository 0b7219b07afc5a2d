/**
 * Type-level tests of `Decoded`, checked by `tsc` (the root tsconfig includes every package's test folder):
 * each `Video` field becomes a tensor, keeping whether it is optional or nullable. Nothing runs here.
 */
import { expectTypeOf } from "vitest"
import type { Decoded, Video, VideoTensor } from "@vidpool/pool"

type Sample = { readonly a: Video; readonly b?: Video; readonly c: Video | null; readonly d: string }

// Every field: a required Video, an optional one, a nullable one, and a value that is not a Video.
expectTypeOf<Decoded<Sample, VideoTensor>>().toEqualTypeOf<{
  readonly a: VideoTensor
  readonly b?: VideoTensor
  readonly c: VideoTensor | null
  readonly d: string
}>()
expectTypeOf<Decoded<Sample, VideoTensor>["b"]>().toEqualTypeOf<VideoTensor | undefined>()

declare const tensor: VideoTensor
declare const video: Video

// An optional Video may be left out, a nullable one may be null.
export const minimal: Decoded<Sample, VideoTensor> = { a: tensor, c: null, d: "x" }

// @ts-expect-error a decoded field holds the tensor, not the Video
export const undecoded: Decoded<Sample, VideoTensor> = { a: video, c: null, d: "x" }

// @ts-expect-error a required Video field stays required
export const missing: Decoded<Sample, VideoTensor> = { c: tensor, d: "x" }

// @ts-expect-error an optional field may be undefined: it is not a tensor until checked
export const unchecked: VideoTensor = minimal.b

// @ts-expect-error a nullable field may be null: it is not a tensor until checked
export const unchecked2: VideoTensor = minimal.c
