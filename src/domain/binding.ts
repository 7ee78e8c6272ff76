/** Bindings (Aliyun "subscriptions"): the pool they live in, their id and their mode. */
import { Schema } from "effect"

/** Number pool key, e.g. `FC100000000001`. */
export const PoolKey = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => /^[A-Za-z0-9_-]{1,64}$/.test(s), { expected: "a pool key of 1-64 letters, digits, _ or -" })),
  Schema.brand("PoolKey")
)
export type PoolKey = typeof PoolKey.Type

/** Binding id returned by BindAxb / BindAxn / BindAxnExtension. */
export const SubsId = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => /^[A-Za-z0-9_-]{1,64}$/.test(s), { expected: "a SubsId of 1-64 letters, digits, _ or -" })),
  Schema.brand("SubsId")
)
export type SubsId = typeof SubsId.Type

/**
 * AXB: X shared by one A-B pair. AXN: X dedicated to A (Aliyun's name). AX: the same on Huawei (X
 * dedicated to A; AX bindings never expire). AXN_EXTENSION: X plus an extension reaches A.
 */
export const BindingMode = Schema.Literals(["AXB", "AXN", "AX", "AXN_EXTENSION"])
export type BindingMode = typeof BindingMode.Type

/** An extension dialled after X: 1-3 digits on Aliyun (AXN extension), up to 4 on Huawei (AXE). */
export const Extension = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => /^\d{1,4}$/.test(s), { expected: "an extension of 1-4 digits" }))
)
