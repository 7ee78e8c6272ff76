/**
 * OpenTelemetry against a local OTLP/HTTP receiver (a node:http server on port 0 that keeps what it
 * is sent): with OTEL_EXPORTER_OTLP_ENDPOINT set, a decision is one precall.decide span with a
 * precall.provider.call child per attempt, named by provider and action, and no phone number is in
 * anything exported. Unset, nothing is sent.
 */
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { createPrecall } from "../../src/precall.ts"

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}

const received: Array<{ readonly path: string; readonly body: string }> = []
const receiver = createServer((req: IncomingMessage, res) => {
  let body = ""
  req.on("data", (c) => (body += String(c)))
  req.on("end", () => {
    received.push({ path: req.url ?? "", body })
    res.writeHead(200, { "content-type": "application/json" })
    res.end("{}")
  })
})
let endpoint: string
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r))
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  emulator = await startAliyunEmulator()
})
afterAll(async () => {
  await emulator.close()
  await new Promise((r) => receiver.close(r))
})

const spansIn = (bodies: ReadonlyArray<{ readonly path: string; readonly body: string }>): Array<OtlpSpan> =>
  bodies.filter((b) => b.path === "/v1/traces").flatMap((b) => {
    const json = JSON.parse(b.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<OtlpSpan> }> }> }
    return json.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
  })
const attr = (span: OtlpSpan, key: string) => Object.values(span.attributes.find((a) => a.key === key)?.value ?? {})[0]

describe("OTLP export", () => {
  it("a decision is one precall.decide span with the provider attempts as children, and no number in any of it", async () => {
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
    const saved = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    try {
      const precall = await createPrecall({ aliyunEndpoint: emulator.url, statusTtlMs: 0 })
      const d = await precall.decide({ poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: "13800138000" })
      expect(d.decision).toBe("use-x")
      await precall.close() // flushes
    } finally {
      if (saved === undefined) delete process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
      else process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = saved
    }
    const spans = spansIn(received)
    const decides = spans.filter((s) => s.name === "precall.decide")
    expect(decides).toHaveLength(1)
    const calls = spans.filter((s) => s.name === "precall.provider.call")
    expect(calls.length).toBeGreaterThanOrEqual(1)
    for (const call of calls) {
      expect(call.parentSpanId).toBe(decides[0]!.spanId)
      expect(call.traceId).toBe(decides[0]!.traceId)
      expect([attr(call, "precall.provider"), attr(call, "precall.action")]).toEqual(["aliyun", "QueryCallStatus"])
    }
    expect(attr(decides[0]!, "precall.decision")).toBe("use-x")
    const everything = received.map((r) => r.body).join("\n")
    for (const number of ["13800138000", "13900139000", b.phoneNoX]) expect(everything).not.toContain(number)
  })

  it("without OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported", async () => {
    const before = received.length
    delete process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
    const precall = await createPrecall({ aliyunEndpoint: emulator.url })
    await precall.decide({ poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX })
    await precall.close()
    expect(received.length).toBe(before)
  })
})
