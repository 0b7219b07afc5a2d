/**
 * vidpool's core: the data model, the `VideoDecoder` service and the `VideoPool` that prefetches
 * decoded videos for the code that scores them.
 *
 * @since 0.1.0
 */
export {
  DecodeError,
  describeReason,
  FileKind,
  InvalidData,
  NotFound,
  NotRegularFile,
  PermissionDenied,
  ProcessFailed,
  Reason as DecodeReason,
  Timeout,
  TooLarge
} from "./DecodeError.ts"
export * as DecodePlan from "./DecodePlan.ts"
export * as FrameSelection from "./FrameSelection.ts"
export * as InputCheck from "./InputCheck.ts"
export * as Lease from "./Lease.ts"
export * as TensorBuffers from "./TensorBuffers.ts"
export type { TensorBuffersShape } from "./TensorBuffers.ts"
export { type Decoded, type DecodedValue, type DecodeOptions, isVideo, type ResizeMode, type Source, Video } from "./Video.ts"
export { decodeWith, makeRunning, VideoDecoder } from "./VideoDecoder.ts"
export { InvalidPoolOptions, metrics as poolMetrics, type Pool, type PoolOptions, positiveInt, VideoPool } from "./VideoPool.ts"
export * as Options from "./Options.ts"
export { type DType, type Layout, type SourceMetadata, VideoTensor } from "./VideoTensor.ts"
