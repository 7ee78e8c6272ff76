/**
 * The emulator's business clock and the Beijing-time strings Dyplsapi speaks.
 *
 * Binding expiry runs on an adjustable clock (real time + offset) so tests can "advance time" without
 * sleeping. Request signatures (`Timestamp`, `x-acs-date`) are checked against the real wall clock,
 * so a client signing with its real clock keeps working after an advance.
 */

import { EmulatorControlError } from "../errors.ts"

const BEIJING_OFFSET_MS = 8 * 3600_000

/**
 * Where an emulator's clock stands, as its control API shows it: wall clock + offset, which binding
 * expiry runs on. Wire strings (Expiration, ExpireDate, GmtCreate) stay in wall-clock time, so an
 * advance ages the existing bindings.
 */
export interface ClockView {
  /** Emulator time, ISO UTC. */
  readonly now: string
  readonly epochMs: number
  readonly offsetSeconds: number
}

export class EmulatorClock {
  private offsetMs = 0
  private readonly realNow: () => number

  constructor(realNow: () => number = Date.now) {
    this.realNow = realNow
  }

  now(): number {
    return this.realNow() + this.offsetMs
  }

  get offset(): number {
    return this.offsetMs
  }

  advance(seconds: number): void {
    this.offsetMs += Math.round(seconds * 1000)
  }

  /** `advance` as a control operation: a negative or non-finite count is refused. */
  advanceBy(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new EmulatorControlError(400, "InvalidSeconds", "seconds must be a finite number >= 0")
    this.advance(seconds)
  }

  view(): ClockView {
    const epochMs = this.now()
    return { now: new Date(epochMs).toISOString(), epochMs, offsetSeconds: this.offsetMs / 1000 }
  }

  reset(): void {
    this.offsetMs = 0
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0")

/** `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8), the form of `Expiration`, `ExpireDate` and `GmtCreate`. */
export const formatBeijing = (epochMs: number): string => {
  const d = new Date(epochMs + BEIJING_OFFSET_MS)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** Parses a Beijing-time `yyyy-MM-dd HH:mm:ss`; undefined for any other shape or an impossible date. */
export const parseBeijing = (s: string): number | undefined => {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s)
  if (m === null) return undefined
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const utc = Date.UTC(y, mo - 1, d, h, mi, se)
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches every impossible field.
  return formatBeijing(utc - BEIJING_OFFSET_MS) === s ? utc - BEIJING_OFFSET_MS : undefined
}

/** Parses the gateway's UTC `yyyy-MM-ddTHH:mm:ssZ` (no fractional seconds); undefined otherwise. */
export const parseAliyunTimestamp = (s: string): number | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s)) return undefined
  const t = Date.parse(s)
  return Number.isNaN(t) || new Date(t).toISOString().replace(".000Z", "Z") !== s ? undefined : t
}
