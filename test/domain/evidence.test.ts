/**
 * The neutral evidence table (a provider that answers status 1-4 itself) and the status each verdict
 * stands for: the status a decision reports when the provider gave none.
 */
import { assert, describe, it } from "@effect/vitest"
import { evidenceOfStatus, statusOf } from "../../src/domain/evidence.ts"
import type { StatusAnswer } from "../../src/domain/status.ts"

const answer = (status: 1 | 2 | 3 | 4, calledNo?: string, extension?: string): StatusAnswer => ({ status, calledNo, extension, requestId: `rid-${status}` })

describe("evidenceOfStatus", () => {
  it("status 1: dial X (the number and extension given), the only answer that may be reused", () => {
    assert.deepStrictEqual(evidenceOfStatus(answer(1, "17000000001", "12"), "QueryCallStatus"), {
      source: "QueryCallStatus", requestId: "rid-1", status: 1, reusable: true,
      verdict: { _tag: "UseX", calledNo: "17000000001", extension: "12" }
    })
  })

  it("status 2 with a number: the temporary X, not reused", () => {
    assert.deepStrictEqual(evidenceOfStatus(answer(2, "17000000077", "3"), "QueryCallStatus"), {
      source: "QueryCallStatus", requestId: "rid-2", status: 2, reusable: false,
      verdict: { _tag: "TemporaryX", calledNo: "17000000077", extension: "3" }
    })
  })

  it("status 2 without a number (absent or empty) leaves nothing to dial", () => {
    for (const calledNo of [undefined, ""]) {
      const e = evidenceOfStatus(answer(2, calledNo), "QueryCallStatus")
      assert.deepStrictEqual(e.verdict, { _tag: "NothingDialable" })
      assert.isFalse(e.reusable)
      assert.strictEqual(e.status, 2)
    }
  })

  it("status 3: nothing dialable; status 4: expired; neither reused", () => {
    assert.deepStrictEqual(evidenceOfStatus(answer(3), "q"), { source: "q", requestId: "rid-3", status: 3, reusable: false, verdict: { _tag: "NothingDialable" } })
    assert.deepStrictEqual(evidenceOfStatus(answer(4), "q"), { source: "q", requestId: "rid-4", status: 4, reusable: false, verdict: { _tag: "Expired" } })
  })
})

describe("statusOf", () => {
  it("maps each verdict onto the QueryCallStatus answer it corresponds to", () => {
    assert.strictEqual(statusOf({ _tag: "UseX" }), 1)
    assert.strictEqual(statusOf({ _tag: "TemporaryX", calledNo: "17000000077" }), 2)
    assert.strictEqual(statusOf({ _tag: "NothingDialable" }), 3)
    assert.strictEqual(statusOf({ _tag: "XBroken", temporary: false }), 3)
    assert.strictEqual(statusOf({ _tag: "XBroken", temporary: true }), 3)
    assert.strictEqual(statusOf({ _tag: "Expired" }), 4)
  })
})
