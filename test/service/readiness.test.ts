/** The readiness probe against endpoints that do not answer: it reports them unready, quickly, and never fails. */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { HttpClient } from "effect/http"
import { probeEndpoint } from "../../src/service/readiness.ts"

/** Port 1 (tcpmux): nothing on this machine listens there. */
const UNREACHABLE = "http://127.0.0.1:1"

it.live("an unreachable endpoint is reported not ok with the reason, and the probe itself succeeds", () =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const check = yield* probeEndpoint(client, UNREACHABLE)
    assert.isFalse(check.ok)
    assert.match(check.detail, /^unreachable: /)
    assert.strictEqual(check.endpoint, UNREACHABLE)
    assert.isNotNull(check.latencyMs)
  }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
