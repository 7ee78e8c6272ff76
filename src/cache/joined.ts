/**
 * The decision a waiter gives: the one another request made for the same question. It keeps every
 * field that says what to do and why, and the provider request ids behind it (for support tickets),
 * but reports the waiter's own `elapsedMs` and `attempts: 0`, since the waiter called no provider.
 */
import { Clock, Effect } from "effect"
import type { Decision } from "../domain/decision.ts"
import { recordDecision } from "../engine/metrics.ts"

/** Stamps a shared decision for a waiter that started at `startedAt`, and counts it as a decision made. */
export const joined = (decision: Decision, startedAt: number): Effect.Effect<Decision> =>
  Effect.gen(function*() {
    // The engine counts only the decisions it makes itself (inside `coalesce`), so a waiter's is counted here.
    const own: Decision = { ...decision, attempts: 0, elapsedMs: (yield* Clock.currentTimeMillis) - startedAt }
    yield* recordDecision(own)
    return own
  })
