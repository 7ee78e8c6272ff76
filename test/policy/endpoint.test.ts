/** Provider endpoints: loopback decided on the address, https elsewhere, no credentials in the URL. */
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import { endpointProblem, isLoopbackEndpoint } from "../../src/policy/endpoint.ts"
import { resolveCredentials } from "../../src/providers/aliyun/credentials.ts"
import { settingsFromEnv, settingsFromObject } from "../../src/policy/settings.ts"
import { Effect, Exit } from "effect"

describe("loopback", () => {
  it.each([
    "http://127.0.0.1:8931", "http://127.1.2.3", "http://127.1:80", "http://localhost:9", "http://[::1]:8931", "https://127.0.0.1"
  ])("%s is loopback", (url) => expect(isLoopbackEndpoint(url)).toBe(true))

  it.each([
    "https://127.evil.example", "http://127.0.0.1.nip.io", "https://localhost.evil.example", "https://dyplsapi.aliyuncs.com",
    "http://128.0.0.1", "http://[::2]", "not a url", "http://0x7f000001.example"
  ])("%s is not loopback", (url) => expect(isLoopbackEndpoint(url)).toBe(false))

  it("a name that merely starts like a loopback address is never loopback (property)", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.integer({ min: 0, max: 255 }), (label, octet) =>
      !isLoopbackEndpoint(`https://127.${octet}.${label}.example`)))
  })

  it("the demo key pair goes to loopback addresses only", () => {
    expect(resolveCredentials("https://127.evil.example", undefined, undefined)).toBeUndefined()
    expect(resolveCredentials("http://127.0.0.1:8931", undefined, undefined)?.accessKeyId).toBe("precall-demo-key-id")
  })
})

describe("endpoint rules", () => {
  it.each([
    ["http://dyplsapi.aliyuncs.com", "https unless"],
    ["https://user:pass@dyplsapi.aliyuncs.com", "user name or password"],
    ["https://key@dyplsapi.aliyuncs.com", "user name or password"],
    ["https://dyplsapi.aliyuncs.com/path", "no path"],
    ["ftp://dyplsapi.aliyuncs.com", "http(s)"],
    ["dyplsapi.aliyuncs.com", "http(s) URL"]
  ])("%s is refused (%s)", (url, why) => expect(endpointProblem(url)).toContain(why))

  it.each(["https://dyplsapi.aliyuncs.com", "https://dyplsapi.aliyuncs.com/", "http://127.0.0.1:8931", "http://localhost:1"])("%s is accepted", (url) =>
    expect(endpointProblem(url)).toBeUndefined())

  it("settings refuse a plain-http public endpoint and userinfo, naming the variable", async () => {
    for (const aliyunEndpoint of ["http://dyplsapi.aliyuncs.com", "https://a:b@dyplsapi.aliyuncs.com"]) {
      const exit = await Effect.runPromiseExit(settingsFromObject({ aliyunEndpoint }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(JSON.stringify(exit)).not.toContain("a:b@")
    }
  })
})

describe("shared-state secret", () => {
  it("a Redis URL without any secret is a settings error naming PRECALL_REDIS_KEY_SECRET", async () => {
    const exit = await Effect.runPromiseExit(settingsFromEnv({ PRECALL_REDIS_URL: "redis://127.0.0.1:6379" }))
    expect(Exit.isFailure(exit) && JSON.stringify(exit)).toContain("PRECALL_REDIS_KEY_SECRET")
    for (const env of [
      { PRECALL_REDIS_URL: "redis://127.0.0.1:6379", PRECALL_REDIS_KEY_SECRET: "shared" },
      { PRECALL_REDIS_URL: "redis://127.0.0.1:6379", ALIBABA_CLOUD_ACCESS_KEY_ID: "id", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s" }
    ]) expect(Exit.isSuccess(await Effect.runPromiseExit(settingsFromEnv(env)))).toBe(true)
  })
})
