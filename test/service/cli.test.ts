/**
 * `precall serve` as a process: the zero-credential demo starts open only with --demo and stops with
 * exit 0; without --demo and without a provider, or with real credentials and no keys, it refuses.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { resolve } from "node:path"
import { createInterface } from "node:readline"

const root = resolve(import.meta.dirname, "../..")

/** The environment without any precall, Aliyun or PORT setting of the machine running the tests. */
const cleanEnv = (extra: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k))),
  ...extra
})

const serve = (env: Record<string, string>, flags: ReadonlyArray<string> = []) =>
  spawn(process.execPath, ["src/cli/main.ts", "serve", "--port", "0", ...flags], { cwd: root, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] })

const collect = (stream: NodeJS.ReadableStream) => {
  const chunks: Array<string> = []
  stream.on("data", (c) => chunks.push(String(c)))
  return () => chunks.join("")
}

/** The first line of `stream` that matches. */
const lineMatching = async (stream: NodeJS.ReadableStream, re: RegExp): Promise<string> => {
  for await (const line of createInterface({ input: stream })) if (re.test(line)) return line
  throw new Error(`no line matching ${re}`)
}

const exitCode = async (child: ChildProcess) => (child.exitCode ?? (await once(child, "exit"))[0]) as number

describe("precall serve", () => {
  const children: Array<ChildProcess> = []
  // A failed assertion must not leave a server running.
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL")
  })

  it("runs the open demo with --demo, answers, and exits 0 after draining on SIGTERM", async () => {
    const child = serve({}, ["--demo"])
    children.push(child)
    const stderr = collect(child.stderr!)
    const [listening, curl] = await Promise.all([
      lineMatching(child.stdout!, /"msg":"listening"/).then((l) => JSON.parse(l)),
      lineMatching(child.stderr!, /^\s+curl /)
    ])
    assert.deepInclude(listening, { auth: "open", demo: true })
    assert.include(stderr(), "OPEN: no API keys")
    const url = String(listening.url)
    const request = /-d '([^']+)'/.exec(curl)![1]!
    const res = await fetch(`${url}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json" }, body: request })
    assert.strictEqual(res.status, 200)
    assert.strictEqual(((await res.json()) as { decision: string }).decision, "use-x")
    const rest = collect(child.stdout!)
    child.kill("SIGTERM")
    assert.strictEqual(await exitCode(child), 0, stderr())
    assert.include(rest(), '"msg":"stopped","drained":true')
  })

  it("SIGTERM with a request in flight: the request is answered, then the process exits 0", async () => {
    const child = serve({}, ["--demo"])
    children.push(child)
    const stderr = collect(child.stderr!)
    const [listening, curl, provider] = await Promise.all([
      lineMatching(child.stdout!, /"msg":"listening"/).then((l) => JSON.parse(l)),
      lineMatching(child.stderr!, /^\s+curl /),
      lineMatching(child.stderr!, /^provider: /)
    ])
    const emulatorUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(provider)![1]!
    const fault = await fetch(`${emulatorUrl}/_emulator/faults/QueryCallStatus`, {
      method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ latency: { kind: "fixed", ms: 600 } })
    })
    assert.strictEqual(fault.status, 200)
    const request = /-d '([^']+)'/.exec(curl)![1]!
    const answer = fetch(`${String(listening.url)}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json" }, body: request })
    await new Promise((r) => setTimeout(r, 150))
    child.kill("SIGTERM")
    const res = await answer
    assert.strictEqual(res.status, 200)
    assert.strictEqual(((await res.json()) as { decision: string }).decision, "use-x")
    assert.strictEqual(await exitCode(child), 0, stderr())
  })

  it("without --demo and without a provider it exits 2 naming what to set, and serves nothing", async () => {
    const child = serve({})
    children.push(child)
    const stderr = collect(child.stderr!)
    const stdout = collect(child.stdout!)
    assert.strictEqual(await exitCode(child), 2)
    assert.match(stderr(), /ALIBABA_CLOUD_ACCESS_KEY_ID: no provider configured: .*PRECALL_ALIYUN_ENDPOINT.*precall serve --demo/)
    assert.strictEqual(stderr().trim().split("\n").length, 1)
    assert.notInclude(stdout(), "listening")
  })

  it("refuses --demo beside production settings", async () => {
    const child = serve({ PRECALL_REDIS_URL: "redis://:hunter2-password@127.0.0.1:6379" }, ["--demo"])
    children.push(child)
    const stderr = collect(child.stderr!)
    assert.strictEqual(await exitCode(child), 2)
    assert.match(stderr(), /--demo: refusing to run the open demo beside production settings \(PRECALL_REDIS_URL set\)/)
    assert.notInclude(stderr(), "hunter2")
  })

  it("refuses to start with real credentials and no API keys, and says why", async () => {
    const child = serve({ ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-test", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "test-secret" })
    children.push(child)
    const stderr = collect(child.stderr!)
    const stdout = collect(child.stdout!)
    assert.strictEqual(await exitCode(child), 2)
    assert.match(stderr(), /PRECALL_API_KEYS: refusing to start without API keys: ALIBABA_CLOUD_ACCESS_KEY_ID is set/)
    assert.notInclude(stderr() + stdout(), "test-secret")
    assert.notInclude(stdout(), "listening")
  })
})
