import { Effect } from "effect"
import { aliyunEmulatorScoped, decide, PrecallLive, settingsFromObject } from "precall"

const program = Effect.gen(function*() {
  // The local emulator stands in for Aliyun; it closes when the scope ends.
  const emulator = yield* aliyunEmulatorScoped()
  const binding = emulator.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 600 })
  emulator.advanceClock(3600) // the binding expires: precall rebinds it

  const settings = yield* settingsFromObject({ aliyunEndpoint: emulator.url, bindingTtlS: 1800 })
  const decision = yield* decide({
    poolKey: "FC100000000001",
    subsId: binding.subsId,
    phoneNoX: binding.phoneNoX,
    binding: { phoneNoA: "13800138000", mode: "AXN" }
  }).pipe(Effect.provide(PrecallLive(settings)))

  console.log(decision.decision, decision.status, decision.subsId !== binding.subsId) // rebind 4 true
  return decision
})

Effect.runPromise(Effect.scoped(program)).catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
