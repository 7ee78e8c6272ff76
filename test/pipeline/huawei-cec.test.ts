/**
 * An outcome reported with only a `callSerialNo`, CEC configured against the Huawei emulator over
 * loopback: precall asks the emulator's queryCallState (token first) until the call has ended, on the
 * TestClock's polling schedule, and records the class the reasonCode gives. Nothing is recorded for
 * a call that never ends within the schedule.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { huaweiEmulatorScoped } from "../../src/emulator/huawei/index.ts"
import { EvidenceStore, makeEvidenceStore, type OutcomeInput } from "../../src/evidence/EvidenceStore.ts"
import { type CallState, CallStateSource, callStatePolling, Outcomes, outcomesLayer } from "../../src/evidence/outcomes.ts"
import { makeCecCallState } from "../../src/providers/huawei/cec.ts"
import { noRedis } from "../../src/redis/SharedRedis.ts"

const X = "17000000001"

/** Outcomes over CEC at the emulator; every query answered and every outcome recorded is offered to a queue. */
const setup = Effect.gen(function*() {
  const emu = yield* huaweiEmulatorScoped()
  const base = makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis)
  const recorded = yield* Queue.unbounded<OutcomeInput>()
  const queried = yield* Queue.unbounded<CallState | "unavailable">()
  const store = { ...base, recordOutcome: (o: OutcomeInput) => Effect.andThen(base.recordOutcome(o), Queue.offer(recorded, o)) }
  // the HTTP client lives as long as the test's scope (a provided layer would close it at once)
  const http = yield* Layer.build(NodeHttpClient.layerUndici)
  const cec = yield* makeCecCallState({ endpoint: emu.url, ak: emu.cec.ak, sk: Redacted.make(emu.cec.sk) }).pipe(Effect.provide(http))
  const source = {
    query: (serial: string) =>
      cec.query(serial).pipe(
        Effect.tap((s) => Queue.offer(queried, s)),
        Effect.tapError(() => Queue.offer(queried, "unavailable"))
      )
  }
  const context = yield* Layer.build(outcomesLayer.pipe(
    Layer.provide(Layer.succeed(EvidenceStore, store)),
    Layer.provide(Layer.succeed(CallStateSource, source))
  ))
  return { emu, store, recorded, queried, outcomes: Context.get(context, Outcomes) }
})

describe("CEC call state at the Huawei emulator", () => {
  it.effect("a running call is asked again on the schedule; once ended its class is recorded (reasonCode 5: callee)", () =>
    Effect.gen(function*() {
      const { emu, store, recorded, queried, outcomes } = yield* setup
      emu.setCecCall("CALL-1", { state: 2 })
      const receipt = yield* outcomes.report({ provider: "huawei", subsId: "sub-1", phoneNoX: X, callSerialNo: "CALL-1" })
      assert.deepStrictEqual(receipt, { outcomeClass: null, marksX: false, pending: true })
      const first = yield* Queue.take(queried)
      assert.isTrue(first !== "unavailable" && !first.ended)
      assert.isUndefined(yield* store.lastCall("huawei", "sub-1"))
      emu.setCecCall("CALL-1", { state: 3, reasonCode: 5 })
      yield* TestClock.adjust(callStatePolling.every)
      const outcome = yield* Queue.take(recorded)
      assert.deepStrictEqual([outcome.outcomeClass, outcome.code, outcome.callId], ["callee", "reasonCode:5", "serial:CALL-1"])
      assert.deepStrictEqual(yield* Effect.map(store.lastCall("huawei", "sub-1"), (c) => [c?.outcomeClass, c?.code]), ["callee", "reasonCode:5"])
      // the callee's problem never counts against the X
      assert.strictEqual((yield* store.xHealth("huawei", X)).numberFailures, 0)
      assert.strictEqual(emu.stats().actions["cecToken"]?.requests, 1)
      assert.strictEqual(emu.stats().actions["cecQueryCallState"]?.requests, 2)
    }).pipe(Effect.scoped))

  it.effect("an ITA call ended with Q.850 cause 22 (number changed) is the callee's number: callee", () =>
    Effect.gen(function*() {
      const { emu, recorded, outcomes } = yield* setup
      emu.setCecCall("CALL-2", { state: 3, reasonCode: 22 })
      yield* outcomes.report({ provider: "huawei", subsId: "sub-2", phoneNoX: X, callSerialNo: "CALL-2" })
      const outcome = yield* Queue.take(recorded)
      assert.deepStrictEqual([outcome.outcomeClass, outcome.code], ["callee", "reasonCode:22"])
    }).pipe(Effect.scoped))

  it.effect("a call that never ends within the schedule, or a serial CEC does not know, records nothing", () =>
    Effect.gen(function*() {
      const { emu, recorded, queried, outcomes } = yield* setup
      emu.setCecCall("CALL-3", { state: 1 })
      yield* outcomes.report({ provider: "huawei", subsId: "sub-3", phoneNoX: X, callSerialNo: "CALL-3" })
      yield* outcomes.report({ provider: "huawei", subsId: "sub-4", phoneNoX: X, callSerialNo: "UNKNOWN-1" })
      for (let i = 0; i < callStatePolling.times; i++) {
        yield* Queue.take(queried)
        yield* Queue.take(queried)
        yield* TestClock.adjust(callStatePolling.every)
      }
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(emu.stats().actions["cecQueryCallState"]?.requests, 2 * callStatePolling.times)
      assert.strictEqual(yield* Queue.size(recorded), 0)
    }).pipe(Effect.scoped))
})
