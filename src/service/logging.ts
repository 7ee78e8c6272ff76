/**
 * The service logs JSON lines: one object per line, `time`, `level`, `msg` and flat fields. A decision
 * line names the request, the outcome and the provider effort; dial numbers are masked and no phone
 * number, key or secret is ever a field. Causes are not rendered: their messages may carry request data.
 */
import { Effect, Logger } from "effect"
import type { Decision } from "../domain/decision.ts"
import { maskPhone } from "../domain/phone.ts"

/**
 * `{"time":..,"level":..,<fields>}`. A plain object of fields without its own `time`, `level` or
 * `toJSON` (every line precall logs) is stringified as it is and joined to the head, instead of being
 * copied into a new object first: the decision line is written once per request.
 */
export const renderLine = (time: string, level: string, fields: object): string => {
  if (Object.getPrototypeOf(fields) !== Object.prototype || Object.hasOwn(fields, "time") || Object.hasOwn(fields, "level") || Object.hasOwn(fields, "toJSON")) {
    return JSON.stringify({ time, level, ...fields })
  }
  const rest = JSON.stringify(fields)
  return `{"time":"${time}","level":"${level}"${rest === "{}" ? "}" : `,${rest.slice(1)}`}`
}

/**
 * `Date.prototype.toISOString` of epoch ms, from a cached `YYYY-MM-DDTHH:MM:SS.` of the current
 * second: formatting the whole date was about a third of a log line's cost, and every line in a
 * second shares all but the milliseconds. Outside 0000-9999 (where toISOString writes a signed
 * six-digit year) or for an invalid time it is toISOString itself.
 */
export const makeIsoTime = (): ((ms: number) => string) => {
  let second = Number.NaN
  let prefix = ""
  return (time) => {
    const ms = Math.trunc(time) // as Date does
    const s = Math.floor(ms / 1000)
    if (s !== second) {
      const full = new Date(ms).toISOString()
      if (full.length !== 24) return full
      second = s
      prefix = full.slice(0, 20)
    }
    const milli = ms - s * 1000
    return `${prefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`
  }
}

/** A logger that renders each entry as one JSON line and hands it to `write`. */
export const jsonLinesLogger = (write: (line: string) => void) => {
  const isoTime = makeIsoTime()
  return Logger.make(({ date, logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    const fields = parts.length === 1 && typeof parts[0] === "object" && parts[0] !== null ? parts[0] : { msg: parts.map(String).join(" ") }
    write(renderLine(isoTime(date.getTime()), logLevel.toLowerCase(), fields))
  })
}

/**
 * Lines for stdout, written once per event-loop turn: one write (a syscall when stdout is a file or
 * pipe) per decision was ~3 % of the service's CPU under load. Order is kept; lines still queued
 * when the process exits (including on an uncaught error) are written synchronously by the exit
 * hook (stdout writes to files and pipes are synchronous on Linux), so only a SIGKILL can lose the last turn's lines.
 */
export const batchedLineWriter = (out: (chunk: string) => void): ((line: string) => void) => {
  let pending = ""
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (pending === "") return
    const chunk = pending
    pending = ""
    out(chunk)
  }
  process.once("exit", flush)
  return (line) => {
    pending += `${line}\n`
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
}

export const stdoutLogger = Logger.layer([jsonLinesLogger(batchedLineWriter((chunk) => process.stdout.write(chunk)))])

export interface DecisionLogEntry {
  readonly requestId: string
  readonly decision: Decision
  /** Time the handler took to reach the decision. */
  readonly latencyMs: number
}

export const logDecision = ({ decision: d, latencyMs, requestId }: DecisionLogEntry) => {
  const fields: Record<string, unknown> = {
    msg: "decision",
    requestId,
    decision: d.decision,
    source: d.source,
    status: d.status,
    providerCode: d.providerCode,
    attempts: d.attempts,
    latencyMs,
    poolKey: d.poolKey,
    subsId: d.subsId,
    dial: d.dial === null ? null : maskPhone(d.dial)
  }
  // a refusal's WhatsApp alternative by channel only (null: none usable); absent without ChatApp
  if (d.decision === "refuse" && d.alternative !== undefined) fields.alternative = d.alternative?.channel ?? null
  return Effect.logInfo(fields)
}
