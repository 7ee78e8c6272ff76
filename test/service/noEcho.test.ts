/**
 * What the service answers and logs about bad input never repeats it: a phone number hidden in a
 * body, a path, a query, a header or a field value comes back nowhere (no run of 7 or more of its
 * digits in any answer or log line). Only a fallback-real decision may carry a real number.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { API_KEY, makeService, send } from "./harness.ts"

const NUMBER = "13812345678"
const auth = { authorization: `Bearer ${API_KEY}` }
const json = { ...auth, "content-type": "application/json" }

/** Every run of 7 digits of NUMBER: none may appear anywhere. */
const runs = Array.from({ length: NUMBER.length - 6 }, (_, i) => NUMBER.slice(i, i + 7))
const leaks = (text: string) => runs.filter((r) => text.includes(r))

const service = makeService()

layer(service.layer)("nothing echoed", (it) => {
  it.effect("no answer or log line repeats a number from a bad request", () =>
    Effect.gen(function*() {
      const requests: Array<readonly [string, RequestInit]> = [
        ["/v1/decisions", { method: "POST", headers: json, body: `{"phoneNoX": ${NUMBER}x}` }],
        ["/v1/decisions", { method: "POST", headers: json, body: `{"poolKey": "${NUMBER}` }],
        ["/v1/decisions", { method: "POST", headers: json, body: `${NUMBER}` }],
        ["/v1/decisions", { method: "POST", headers: json, body: JSON.stringify({ poolKey: NUMBER, subsId: NUMBER, phoneNoX: `${NUMBER}9`, callerNo: `+86 ${NUMBER}0`, [NUMBER]: 1 }) }],
        ["/v1/decisions", { method: "POST", headers: { ...auth, "content-type": `text/${NUMBER}` }, body: "{}" }],
        ["/v1/decisions", { method: "POST", headers: { ...json, "x-request-id": NUMBER }, body: "{}" }],
        [`/v1/decisions/${NUMBER}`, { method: "POST", headers: json, body: "{}" }],
        [`/${NUMBER}?callee=${NUMBER}`, { method: "GET" }],
        [`/v1/decisions?callee=${NUMBER}`, { method: "DELETE", headers: auth }],
        ["/v1/decisions", { method: "POST", headers: { authorization: `Bearer ${NUMBER}`, "content-type": "application/json" }, body: "{}" }]
      ]
      for (const [path, init] of requests) {
        const res = yield* send(path, init)
        assert.isAtLeast(res.status, 400, path)
        const answer = `${res.text} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join(" ")}`
        assert.deepStrictEqual(leaks(answer), [], `${init.method} ${path} answered ${answer}`)
      }
      assert.deepStrictEqual(leaks(service.rawLogs.join("\n")), [], service.rawLogs.join("\n"))
    }))
})
