/**
 * What every emulator's running handle offers beside its own provider's operations: where it
 * listens, its faults, its clock, its state and stats, reset and close. Both emulators' cores share
 * these operations (FaultTable, EmulatorClock, the control API's common routes), so the handle's
 * part of them is built once here.
 */
import type { ClockView } from "./aliyun/clock.ts"
import type { FaultSpec } from "./faults.ts"
import type { EmulatorServer } from "./httpServer.ts"

export interface EmulatorControls<State, Stats> {
  /** e.g. `http://127.0.0.1:8931`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Replaces the fault of an action (or `*`); throws EmulatorControlError on an invalid spec. */
  readonly setFault: (action: string, spec: FaultSpec) => void
  /** Clears the faults of one action, or of all when no action is given. */
  readonly clearFaults: (action?: string) => void
  readonly advanceClock: (seconds: number) => ClockView
  readonly clock: () => ClockView
  readonly state: () => State
  readonly stats: () => Stats
  readonly resetStats: () => void
  /** Back to just-started: no bindings, start faults, clock offset 0. */
  readonly reset: () => void
  /** Closes every socket, hanging requests included. */
  readonly close: () => Promise<void>
}

/** The operations of an emulator's core that the handle passes on. */
export interface ControlledCore<State, Stats> {
  setFault(action: string, spec: unknown): unknown
  clearFaults(action?: string): void
  advanceClock(seconds: number): ClockView
  clockView(): ClockView
  stateView(): State
  statsView(): Stats
  readonly stats: { reset(): void }
  reset(): void
}

/** Starts `server` on `port` and `host` and returns the common part of the running handle. */
export const listenWithControls = async <State, Stats>(
  core: ControlledCore<State, Stats>,
  server: EmulatorServer,
  port: number,
  host: string
): Promise<EmulatorControls<State, Stats>> => {
  const address = await server.listen(port, host)
  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address
  return {
    url: `http://${hostInUrl}:${address.port}`,
    host: address.address,
    port: address.port,
    setFault: (action, spec) => void core.setFault(action, spec),
    clearFaults: (action) => core.clearFaults(action),
    advanceClock: (seconds) => core.advanceClock(seconds),
    clock: () => core.clockView(),
    state: () => core.stateView(),
    stats: () => core.statsView(),
    resetStats: () => core.stats.reset(),
    reset: () => core.reset(),
    close: server.close
  }
}
