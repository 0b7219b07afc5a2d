/**
 * Decoded memory held by one owner at a time. A sample taken with `Pool.lease` comes with a
 * `Lease` on its decoded tensors' memory, owned by the taker's Scope: closing it gives the memory
 * back to the decoder that lent it, whether the taker finished, failed or was interrupted. Handing
 * the tensors to another thread moves the lease to a `Holder` (that thread's, closed only once the
 * thread is done or ended); the thread's reply moves it back, with the memory it returned.
 *
 * @since 0.3.0
 */
import { Effect, type Scope } from "effect"
import type { TensorBuffersShape } from "./TensorBuffers.ts"

/**
 * Where a lease's memory goes back to when it ends, and who holds it now.
 *
 * @since 0.3.0
 * @category models
 */
export interface Lease {
  /** Whether `data` is memory the decoder shares with other threads (not moved by a transfer). */
  readonly isShared: (data: Uint8Array | Float32Array) => boolean
  /**
   * Moves the lease to `holder`: closing the taker's scope no longer gives the memory back,
   * closing the holder's does (unless `moveBack` comes first).
   */
  readonly moveTo: (holder: Holder) => Effect.Effect<void>
  /**
   * The lease comes back from its holder, with the memory the other thread returned (what was
   * transferred there, moved back): closing the taker's scope gives all of it back.
   */
  readonly moveBack: (returned: ReadonlyArray<Uint8Array | Float32Array>) => Effect.Effect<void>
  /** Whether the memory was given back already. */
  readonly ended: () => boolean
}

// Not exported, and not a registered symbol: no holder can be made but by `holder`.
const HolderTypeId: unique symbol = Symbol("@vidpool/pool/Lease/Holder")

/**
 * @since 0.3.0
 * @category type ids
 */
export type HolderTypeId = typeof HolderTypeId

/**
 * Leases moved to another thread, owned by a Scope that closes only once that thread no longer
 * reads them (ended, or done): closing it gives every lease still held back. Made by `holder`,
 * given to `Lease.moveTo`; what it holds is its own.
 *
 * @since 0.3.0
 * @category models
 */
export interface Holder {
  readonly [HolderTypeId]: HolderTypeId
}

/** A holder as this module sees it: the states of the leases it holds. */
interface HolderState extends Holder {
  readonly held: Set<LeaseState>
}

/** A lease's state: the memory it gives back, whether it did, and who holds it. */
interface LeaseState {
  readonly buffers: TensorBuffersShape
  readonly data: Array<Uint8Array | Float32Array>
  ended: boolean
  holder: HolderState | undefined
}

/** Every `Holder` is made by `holder`, so it is a `HolderState`. */
const stateOf = (holder: Holder): HolderState => holder as HolderState

const endUnsafe = (state: LeaseState): void => {
  if (state.ended) return
  state.ended = true
  for (const data of state.data) state.buffers.giveUnsafe(data)
  state.data.length = 0
}

/**
 * A lease on `data` (memory `buffers`' decoder lent), owned by the current Scope.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (
  buffers: TensorBuffersShape,
  data: ReadonlyArray<Uint8Array | Float32Array>
): Effect.Effect<Lease, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync((): LeaseState => ({ buffers, data: [...data], ended: false, holder: undefined })),
      (state) => Effect.sync(() => state.holder === undefined && endUnsafe(state))
    ),
    (state): Lease => ({
      isShared: (data) => buffers.isLent(data),
      moveTo: (holder) =>
        Effect.sync(() => {
          if (state.ended) return
          const next = stateOf(holder)
          state.holder?.held.delete(state)
          state.holder = next
          next.held.add(state)
        }),
      moveBack: (returned) =>
        Effect.sync(() => {
          state.holder?.held.delete(state)
          state.holder = undefined
          if (state.ended) {
            for (const data of returned) buffers.giveUnsafe(data)
            return
          }
          state.data.push(...returned)
        }),
      ended: () => state.ended
    })
  )

/**
 * A holder owned by the current Scope: closing it gives back every lease it still holds. Make it
 * before the thread it stands for is borrowed in the same Scope, so that the thread is ended (its
 * finalizer runs first) before the memory it may still read goes back.
 *
 * @since 0.3.0
 * @category constructors
 */
export const holder: Effect.Effect<Holder, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync((): HolderState => ({ [HolderTypeId]: HolderTypeId, held: new Set() })),
  (holder) =>
    Effect.sync(() => {
      for (const state of holder.held) {
        state.holder = undefined
        endUnsafe(state)
      }
      holder.held.clear()
    })
)
