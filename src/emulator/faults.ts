/**
 * Fault injection: per action (or `*` for every action) latency, injected error codes, hangs,
 * connection resets, malformed bodies and a QPS ceiling. Draws come from a seeded PRNG so a test that
 * sends requests in a fixed order sees the same faults every run.
 */
import { EmulatorControlError } from "./errors.ts"

export type Latency =
  | { readonly kind: "fixed"; readonly ms: number }
  | { readonly kind: "uniform"; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: "normal"; readonly meanMs: number; readonly stddevMs: number }

export interface InjectedError {
  readonly code: string
  /** Probability in [0, 1] per request. */
  readonly rate: number
  /** Defaults: the gateway table for known gateway codes, 200 for isv.* / isp.*, else 400. */
  readonly httpStatus?: number | undefined
  readonly message?: string | undefined
}

export type MalformedKind = "truncated-json" | "html-502" | "empty"
export const MALFORMED_KINDS: ReadonlyArray<MalformedKind> = ["truncated-json", "html-502", "empty"]

export interface FaultSpec {
  readonly latency?: Latency | undefined
  readonly errors?: ReadonlyArray<InjectedError> | undefined
  /** Never answer; the socket stays open until the client gives up or the emulator closes. */
  readonly hang?: { readonly rate: number } | undefined
  /** Destroy the connection with a TCP RST instead of answering. */
  readonly reset?: { readonly rate: number } | undefined
  /** Answer with a broken body; `kind` unset picks one of the kinds at random per request. */
  readonly malformed?: { readonly rate: number; readonly kind?: MalformedKind | undefined } | undefined
  /** Above this many requests in any sliding second, answer `Throttling.User`. */
  readonly throttle?: { readonly qps: number } | undefined
}

export const ALL_ACTIONS = "*"

/** Small, fast, seedable PRNG (mulberry32); uniform in [0, 1). */
export const makeRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What happens to one request, decided before any waiting so the draw order never depends on timing. */
export interface FaultPlan {
  readonly delayMs: number
  readonly outcome:
    | { readonly kind: "answer" }
    | { readonly kind: "hang" }
    | { readonly kind: "reset" }
    | { readonly kind: "malformed"; readonly malformed: MalformedKind }
    | { readonly kind: "error"; readonly error: InjectedError }
}

const ANSWER: FaultPlan = { delayMs: 0, outcome: { kind: "answer" } }

const drawLatency = (latency: Latency | undefined, random: () => number): number => {
  if (latency === undefined) return 0
  switch (latency.kind) {
    case "fixed":
      return latency.ms
    case "uniform":
      return latency.minMs + random() * (latency.maxMs - latency.minMs)
    case "normal": {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      return Math.max(0, latency.meanMs + z * latency.stddevMs)
    }
  }
}

/** Only configured kinds consume draws, so adding latency does not reshuffle a test's error sequence. */
export const drawPlan = (spec: FaultSpec | undefined, random: () => number): FaultPlan => {
  if (spec === undefined) return ANSWER
  const delayMs = drawLatency(spec.latency, random)
  const hit = (rate: number | undefined) => rate !== undefined && rate > 0 && random() < rate
  if (hit(spec.hang?.rate)) return { delayMs: 0, outcome: { kind: "hang" } }
  if (hit(spec.reset?.rate)) return { delayMs, outcome: { kind: "reset" } }
  if (spec.malformed !== undefined && hit(spec.malformed.rate)) {
    const malformed = spec.malformed.kind ?? MALFORMED_KINDS[Math.floor(random() * MALFORMED_KINDS.length)]!
    return { delayMs, outcome: { kind: "malformed", malformed } }
  }
  if (spec.errors !== undefined && spec.errors.length > 0) {
    // One draw across the cumulative rates: {a: 0.1, b: 0.2} gives a 10% and b 20% of requests.
    let u = random()
    for (const error of spec.errors) {
      if (u < error.rate) return { delayMs, outcome: { kind: "error", error } }
      u -= error.rate
    }
  }
  return { delayMs, outcome: { kind: "answer" } }
}

/**
 * The fault an action runs under: a `<action>@<SubsId>` entry alone for that binding's calls, else
 * the action's own entry's fields over the `*` entry's. The throttle keeps
 * the key of the entry it came from, so a `*` throttle is one limiter summed over every action.
 */
export const effectiveFaults = (
  faults: ReadonlyMap<string, FaultSpec>,
  action: string,
  subsId?: string | undefined
): { readonly spec: FaultSpec | undefined; readonly throttleKey: string | undefined } => {
  const star = faults.get(ALL_ACTIONS)
  const forBinding = subsId === undefined ? undefined : faults.get(`${action}@${subsId}`)
  if (forBinding !== undefined) return { spec: forBinding, throttleKey: forBinding.throttle === undefined ? undefined : `${action}@${subsId}` }
  const own = faults.get(action)
  if (own === undefined) return { spec: star, throttleKey: star?.throttle === undefined ? undefined : ALL_ACTIONS }
  if (star === undefined) return { spec: own, throttleKey: own.throttle === undefined ? undefined : action }
  const spec: FaultSpec = { ...stripUndefined(star), ...stripUndefined(own) }
  return { spec, throttleKey: own.throttle !== undefined ? action : star.throttle !== undefined ? ALL_ACTIONS : undefined }
}

const stripUndefined = (spec: FaultSpec): FaultSpec => Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined))

/**
 * Sliding one-second window: a request passes when fewer than `qps` requests passed in the last
 * 1000 ms. A ring of the last `qps` pass times is all it needs, so memory is bounded by the QPS.
 * A window serves one QPS for life: changing a fault replaces its window.
 */
export class ThrottleWindow {
  private readonly passes: Array<number> = []
  private next = 0

  /** Milliseconds until a slot frees up, or 0 when the request passes (and is counted). */
  admit(qps: number, nowMs: number): number {
    if (this.passes.length < qps) {
      this.passes.push(nowMs)
      return 0
    }
    const oldest = this.passes[this.next]!
    if (nowMs - oldest < 1000) return Math.max(1, Math.ceil(1000 - (nowMs - oldest)))
    this.passes[this.next] = nowMs
    this.next = (this.next + 1) % qps
    return 0
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isRate = (u: unknown): u is number => typeof u === "number" && u >= 0 && u <= 1
const isMs = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u) && u >= 0

const KNOWN_KEYS = new Set(["latency", "errors", "hang", "reset", "malformed", "throttle"])

/** Validates a FaultSpec from JSON (control API or options); a message says what is wrong. */
export const parseFaultSpec = (u: unknown): { readonly ok: true; readonly spec: FaultSpec } | { readonly ok: false; readonly message: string } => {
  const bad = (message: string) => ({ ok: false as const, message })
  if (!isObject(u)) return bad("a fault spec is a JSON object")
  const unknown = Object.keys(u).find((k) => !KNOWN_KEYS.has(k))
  if (unknown !== undefined) return bad(`unknown fault field ${JSON.stringify(unknown)}; expected ${[...KNOWN_KEYS].join(", ")}`)
  const { latency, errors, hang, reset, malformed, throttle } = u
  if (latency !== undefined) {
    if (!isObject(latency)) return bad("latency must be an object")
    const okLatency =
      (latency["kind"] === "fixed" && isMs(latency["ms"])) ||
      (latency["kind"] === "uniform" && isMs(latency["minMs"]) && isMs(latency["maxMs"]) && latency["minMs"] <= latency["maxMs"]) ||
      (latency["kind"] === "normal" && isMs(latency["meanMs"]) && isMs(latency["stddevMs"]))
    if (!okLatency) return bad('latency must be {"kind":"fixed","ms"} | {"kind":"uniform","minMs","maxMs"} | {"kind":"normal","meanMs","stddevMs"} with non-negative numbers')
  }
  if (errors !== undefined) {
    if (!Array.isArray(errors)) return bad("errors must be an array")
    let total = 0
    for (const e of errors as ReadonlyArray<unknown>) {
      if (!isObject(e) || typeof e["code"] !== "string" || e["code"] === "" || !isRate(e["rate"])) return bad('each error is {"code": string, "rate": 0..1, "httpStatus"?, "message"?}')
      const status = e["httpStatus"]
      if (status !== undefined && !(Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599)) return bad("httpStatus must be an integer 200-599")
      if (e["message"] !== undefined && typeof e["message"] !== "string") return bad("message must be a string")
      total += e["rate"]
    }
    if (total > 1 + 1e-9) return bad("error rates add up to more than 1")
  }
  for (const [name, v] of [["hang", hang], ["reset", reset], ["malformed", malformed]] as const) {
    if (v !== undefined && !(isObject(v) && isRate(v["rate"]))) return bad(`${name} must be {"rate": 0..1}`)
  }
  if (isObject(malformed) && malformed["kind"] !== undefined && !MALFORMED_KINDS.includes(malformed["kind"] as MalformedKind)) {
    return bad(`malformed.kind must be one of ${MALFORMED_KINDS.join(", ")}`)
  }
  if (throttle !== undefined && !(isObject(throttle) && Number.isInteger(throttle["qps"]) && (throttle["qps"] as number) >= 1 && (throttle["qps"] as number) <= 1_000_000)) {
    return bad('throttle must be {"qps": integer 1..1000000}')
  }
  return { ok: true, spec: u as FaultSpec }
}

/**
 * The faults in force, per action (or `*`, or `action@<binding id>`), with the throttle window of
 * each: what both emulators' control APIs change. The start faults come back on reset.
 */
export class FaultTable {
  readonly specs = new Map<string, FaultSpec>()
  readonly throttles = new Map<string, ThrottleWindow>()

  private readonly start: Iterable<readonly [string, FaultSpec]>
  /** Why an action name is no fault target of this emulator, or undefined when it is one. */
  private readonly targetError: (action: string) => string | undefined

  constructor(start: Iterable<readonly [string, FaultSpec]>, targetError: (action: string) => string | undefined) {
    this.start = start
    this.targetError = targetError
    this.reset()
  }

  reset(): void {
    this.specs.clear()
    for (const [action, spec] of this.start) this.specs.set(action, spec)
    this.throttles.clear()
  }

  /** Replaces the fault of an action; an unknown action is 404, an invalid spec 400. */
  set(action: string, spec: unknown): FaultSpec {
    this.checkTarget(action)
    const parsed = parseFaultSpec(spec)
    if (!parsed.ok) throw new EmulatorControlError(400, "InvalidFault", parsed.message)
    this.specs.set(action, parsed.spec)
    this.throttles.delete(action)
    return parsed.spec
  }

  /** Clears the fault of one action, or every fault. */
  clear(action?: string): void {
    if (action === undefined) {
      this.specs.clear()
      this.throttles.clear()
      return
    }
    this.checkTarget(action)
    this.specs.delete(action)
    this.throttles.delete(action)
  }

  /** The throttle window under `key`, made on first use. */
  window(key: string): ThrottleWindow {
    let window = this.throttles.get(key)
    if (window === undefined) this.throttles.set(key, (window = new ThrottleWindow()))
    return window
  }

  private checkTarget(action: string): void {
    const unknownAction = this.targetError(action)
    if (unknownAction !== undefined) throw new EmulatorControlError(404, "UnknownAction", unknownAction)
  }
}

/** What a played plan does to the request, by its kind. */
export interface PlanHandlers {
  /** Counts the request under a fault label, `(hang)` or `(reset)`, that never reaches the action. */
  readonly answered: (label: "(hang)" | "(reset)") => void
  readonly socket: { readonly resetAndDestroy: () => void }
  readonly malformed: (kind: MalformedKind) => void
  readonly error: (error: InjectedError) => void
  readonly answer: () => void
}

/**
 * Plays a drawn plan: a hang answers nothing (the server's close() destroys the socket if the client
 * never gives up); the rest happen after the plan's delay: a reset, a malformed body, an injected
 * error or the action's own answer.
 */
export const playPlan = (plan: FaultPlan, schedule: (ms: number, fn: () => void) => void, on: PlanHandlers): void => {
  const outcome = plan.outcome
  if (outcome.kind === "hang") return on.answered("(hang)")
  const finish = (): void => {
    switch (outcome.kind) {
      case "reset":
        on.answered("(reset)")
        return on.socket.resetAndDestroy()
      case "malformed":
        return on.malformed(outcome.malformed)
      case "error":
        return on.error(outcome.error)
      case "answer":
        return on.answer()
    }
  }
  if (plan.delayMs > 0) schedule(plan.delayMs, finish)
  else finish()
}
