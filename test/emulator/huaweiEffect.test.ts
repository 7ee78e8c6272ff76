/** The Huawei emulator in Effect code: scoped (closed with its scope) and as a layer. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { HuaweiEmulator, huaweiEmulatorScoped } from "../../src/emulator/huawei/index.ts"

describe("Huawei emulator in Effect", () => {
  it.effect("huaweiEmulatorScoped closes the emulator with its scope", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(Effect.gen(function*() {
        const scoped = yield* huaweiEmulatorScoped()
        expect(yield* Effect.promise(() => fetch(`${scoped.url}/_emulator/health`).then((r) => r.json()))).toEqual({ ok: true })
        return scoped.url
      }))
      expect(yield* Effect.promise(() => fetch(`${url}/_emulator/health`).then(() => "answered", () => "refused"))).toBe("refused")
    }))

  it.effect("HuaweiEmulator.layer provides a running emulator", () =>
    Effect.gen(function*() {
      const running = yield* HuaweiEmulator
      const { subscriptionId } = running.createBinding({ mode: "AXB", callerNum: "+8613800000001", calleeNum: "+8613900000001", duration: 60 })
      expect(running.binding(subscriptionId).expiresInSeconds).toBe(60)
    }).pipe(Effect.provide(HuaweiEmulator.layer({ seed: 7 }))))
})
