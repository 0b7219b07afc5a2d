/**
 * Type-level tests of `Lease`, checked by `tsc` (the root tsconfig includes every package's test
 * folder): a `Holder` shows nothing of what it holds; the lease's state is not part of the API.
 * Nothing runs here.
 */
import type { Effect, Scope } from "effect"
import { expectTypeOf } from "vitest"
import { Lease } from "@vidpool/pool"

// A holder is a token made by `Lease.holder` and given to `moveTo`: its only key is its type id.
expectTypeOf<keyof Lease.Holder>().toEqualTypeOf<Lease.HolderTypeId>()
expectTypeOf(Lease.holder).toEqualTypeOf<Effect.Effect<Lease.Holder, never, Scope.Scope>>()

declare const holder: Lease.Holder
// @ts-expect-error the leases a holder keeps are not readable from outside
holder.held

// @ts-expect-error the state of a lease is internal
export type State = Lease.LeaseState

// A plain object is not a holder: only `Lease.holder` makes one.
// @ts-expect-error missing the type id
export const fake: Lease.Holder = { held: new Set() }

// Nor is an object carrying the type id: the id is not exported as a value.
// @ts-expect-error not exported
export const id = Lease.HolderTypeId
