/** Setup shared by the scenarios: bindings on the emulator to decide about. */
import type { EmulatorProcess } from "./emulator.ts"
import type { Target } from "./contenders.ts"

/**
 * `n` live AXB bindings (a day long), each with its own A and B; the caller is A. Worker (or
 * connection) i asks about binding i, so with n ≥ concurrency no two identical requests are in flight.
 */
export const makeTargets = async (emulator: EmulatorProcess, n: number): Promise<Array<Target>> => {
  const targets: Array<Target> = []
  for (let i = 0; i < n; i++) {
    const phoneNoA = `1380000${String(1000 + i).padStart(4, "0")}`
    const phoneNoB = `1390000${String(1000 + i).padStart(4, "0")}`
    const b = await emulator.createBinding({ mode: "AXB", phoneNoA, phoneNoB, ttlSeconds: 86_400 })
    targets.push({ poolKey: b.poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: phoneNoA })
  }
  return targets
}
