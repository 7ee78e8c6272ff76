/**
 * Huawei's evidence table (shared/providers/huawei.md §6): Huawei has no status query and never
 * assigns a temporary X, so the status comes from what precall knows locally (the binding cache
 * written at bind/modify, X status from `numStatus` pushes, the binding's last call) and at most one
 * binding query. Pure: the adapter gathers the facts, this reads them, first match wins. X health
 * from call outcomes is read by the engine before it asks (rules 3 by outcomes, 7 and 8).
 */
import type { Evidence } from "../../domain/evidence.ts"

/** What the binding query (GET by subscriptionId) said, when one was made. */
export type BindingQueryFact =
  | { readonly _tag: "InEffect" }
  | { readonly _tag: "Gone"; readonly code: string }

export interface HuaweiFacts {
  readonly now: number
  /** The code of the last account-level refusal (1010007, 1010008, 1010029) or last call's stateCode 7108. */
  readonly accountBlocked: string | undefined
  /** The binding cache entry: expiry in epoch ms, null when it never expires; undefined when not cached. */
  readonly cached: { readonly expiresAt: number | null } | undefined
  readonly query: BindingQueryFact | undefined
  /** The last `numStatus` push for the X; undefined when none was ever received (assume 5). */
  readonly xStatus: { readonly status: string; readonly cause: string | null; readonly at: number } | undefined
  /** The last call on the binding, as `stateCode:<n>` / `q850:<n>`, when one was reported. */
  readonly lastCallCode: string | undefined
}

/** Result codes that mean the binding is gone (huawei.md §3.4). */
export const bindingGoneCodes: ReadonlySet<string> = new Set(["1012007", "1016001", "1011004", "1012001"])
/** Result codes and hang-up codes that mean the account cannot call at all (§6 rule 1). */
export const accountBlockedCodes: ReadonlySet<string> = new Set(["1010007", "1010008", "1010029", "stateCode:7108"])

/**
 * The X status the adapter records for an X that a bind or modify refused with `1012102` (X
 * abnormal or blacklisted, §6 rule 3): not a pushed status, so it cannot be confused with one; a later
 * `numStatus` push replaces it.
 */
export const X_REFUSED_STATUS = "reply:1012102"

/** A cache entry this close to expiry is checked with the platform before it is believed. */
export const NEAR_EXPIRY_MS = 60_000

/** The binding query is worth its call: nothing cached, or the cached binding is about to expire. */
export const needsBindingQuery = (cached: HuaweiFacts["cached"], now: number): boolean =>
  cached === undefined || (cached.expiresAt !== null && cached.expiresAt - now < NEAR_EXPIRY_MS && cached.expiresAt > now)

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z")

const verdictOf = (f: HuaweiFacts): Pick<Evidence, "verdict" | "source"> => {
  // 1. the account is frozen or in arrears: nothing on Huawei can be dialled
  if (f.accountBlocked !== undefined) return { verdict: { _tag: "NothingDialable" }, source: `account blocked: ${f.accountBlocked}` }
  // 2. the binding is gone or expired
  if (f.query?._tag === "Gone") return { verdict: { _tag: "Expired" }, source: `binding query: ${f.query.code}` }
  if (f.query === undefined && f.cached?.expiresAt != null && f.now >= f.cached.expiresAt) {
    return { verdict: { _tag: "Expired" }, source: `binding cache: expired at ${iso(f.cached.expiresAt)}` }
  }
  if (f.lastCallCode === "stateCode:8014") return { verdict: { _tag: "Expired" }, source: "last call: stateCode 8014 (no binding)" }
  // 3. the X is broken: paused / unavailable (unless the carrier just lifted a restriction), or no call right
  const x = f.xStatus
  if (x !== undefined && (x.status === "9" || x.status === "10") && x.cause !== "6") {
    return {
      verdict: { _tag: "XBroken", temporary: x.status === "9" && x.cause === "5" },
      source: `X status push ${x.status}${x.cause === null ? "" : ` (cause ${x.cause})`} at ${iso(x.at)}`
    }
  }
  if (x?.status === X_REFUSED_STATUS) return { verdict: { _tag: "XBroken", temporary: false }, source: `X refused by bind/modify with 1012102 at ${iso(x.at)}` }
  if (f.lastCallCode === "stateCode:8055") return { verdict: { _tag: "XBroken", temporary: false }, source: "last call: stateCode 8055 (X has no call right)" }
  // 4. bindings frozen on the X: the existing binding still calls
  if (x?.status === "11") return { verdict: { _tag: "UseX" }, source: `X status push 11 (bindings frozen) at ${iso(x.at)}` }
  // 6-8. the binding works; callee or transient failures are not the X's (X health is the engine's)
  const binding = f.query?._tag === "InEffect"
    ? "binding query: in effect"
    : f.cached === undefined
    ? "binding not cached"
    : f.cached.expiresAt === null
    ? "binding cache: never expires"
    : `binding cache: in effect until ${iso(f.cached.expiresAt)}`
  const xText = x === undefined ? "no X status push" : `X status push ${x.status} at ${iso(x.at)}`
  return { verdict: { _tag: "UseX" }, source: `${binding}; ${xText}` }
}

/** The evidence Huawei's facts amount to. Read from local state and pushes: never reused by the status cache. */
export const huaweiEvidence = (facts: HuaweiFacts, requestId: string | undefined): Evidence => ({
  ...verdictOf(facts),
  requestId,
  reusable: false
})
