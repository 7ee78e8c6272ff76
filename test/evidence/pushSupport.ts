/**
 * Test support for the Huawei push route: signing as the platform signs (shared/providers/huawei.md
 * §2, AKSK and WSSE, computed here from the documented formulas, independently of the code under
 * test), push bodies, and the route served on a loopback port over a given store.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { createHash, createHmac, randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { EvidenceStore, type EvidenceStoreShape } from "../../src/evidence/EvidenceStore.ts"
import { huaweiPushCodec } from "../../src/providers/huawei/pushCodec.ts"
import type { HuaweiPushCodec, PushApp } from "../../src/providers/huawei/pushes.ts"
import { huaweiPushRoute } from "../../src/service/pushes.ts"

export const APP: PushApp = { appKey: "demoAppKey0001", appSecret: Redacted.make("demoAppSecret0001"), auth: "aksk" }

const digestOf = (auth: "aksk" | "wsse", secret: string, nonce: string, created: string) =>
  auth === "aksk"
    ? createHmac("sha256", secret).update(nonce + created).digest("base64")
    : createHash("sha256").update(nonce + created + secret).digest("base64")

export const created = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d+Z$/, "Z")

/** The headers the platform sends with a push. */
export const signedHeaders = (opts: { app?: PushApp; secret?: string; nonce?: string; at?: number } = {}) => {
  const app = opts.app ?? APP
  const nonce = opts.nonce ?? randomUUID().replaceAll("-", "").toUpperCase()
  const time = created(opts.at ?? Date.now())
  const digest = digestOf(app.auth, opts.secret ?? Redacted.value(app.appSecret), nonce, time)
  const scheme = app.auth === "aksk" ? "AKSK" : "WSSE"
  return {
    "content-type": "application/json;charset=UTF-8",
    authorization: `${scheme} realm="SDP",profile="UsernameToken",type="Appkey"`,
    [`x-${app.auth}`]: `UsernameToken Username="${app.appKey}",PasswordDigest="${digest}",Nonce="${nonce}",Created="${time}"`
  }
}

export const numStatus = (items: ReadonlyArray<{ number: string; status: string; cause?: string }>) => ({ eventType: "numStatus", numInfo: items })

export const fee = (items: ReadonlyArray<Record<string, unknown>>) => ({ eventType: "fee", feeLst: items })

/** The push route on a loopback port over `store`; the URL of the route. */
export const servePushes = (store: EvidenceStoreShape, codec: HuaweiPushCodec = huaweiPushCodec, apps: ReadonlyArray<PushApp> = [APP]) =>
  Effect.gen(function*() {
    const app = HttpRouter.serve(huaweiPushRoute({ apps, codec }), { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provide(Layer.succeed(EvidenceStore, store)),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
    )
    const server = Context.get(yield* Layer.build(app), HttpServer.HttpServer)
    return `${HttpServer.formatAddress(server.address)}/v1/providers/huawei/events`
  })

export const post = (url: string, body: unknown, headers: Record<string, string>) =>
  Effect.promise(async () => {
    const res = await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) })
    return { status: res.status, text: await res.text() }
  })
