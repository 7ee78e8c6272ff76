/**
 * The skeleton contender of scenario (b): what a pre-call service costs with no policy at all. A
 * node:http server that reads the JSON body, makes the same V3-signed QueryCallStatus precall makes
 * (bench/signed.ts) with undici, and answers the decision the status maps to, as JSON: no
 * validation beyond JSON.parse, no deadline, retry, limit, breaker, cache, metrics or logs. precall's
 * service is measured against it (target: 0.7× its throughput). Runs in its own process; the URL
 * goes back over IPC, `{ cpu: true }` asks for this process's CPU time. BENCH_EMULATOR_URL names the
 * emulator.
 */
import { createServer } from "node:http"
import { runAsChild } from "./child-server.ts"
import { Agent, request } from "undici"
import { signedQueryCallStatus } from "./signed.ts"

const endpoint = process.env["BENCH_EMULATOR_URL"] ?? "http://127.0.0.1:8931"
const host = new URL(endpoint).host
const agent = new Agent()
const DECISIONS: Readonly<Record<number, string>> = { 1: "use-x", 2: "use-temporary-x", 3: "refuse", 4: "rebind" }

interface Input {
  readonly poolKey: string
  readonly subsId: string
  readonly phoneNoX: string
  readonly callerNo: string
}

const decide = async (input: Input): Promise<string> => {
  const { url, headers } = signedQueryCallStatus(endpoint, host, input)
  const res = await request(url, { method: "POST", headers, dispatcher: agent, signal: AbortSignal.timeout(5000) })
  const reply = JSON.parse(await res.body.text()) as { SecretCallStatusDTO?: { Status?: number; CalledNo?: string } }
  const status = reply.SecretCallStatusDTO?.Status
  const decision = (status !== undefined ? DECISIONS[status] : undefined) ?? "refuse"
  return JSON.stringify({ decision, dial: decision === "use-x" ? input.phoneNoX : null, subsId: input.subsId, status: status ?? null, source: "provider" })
}

const server = createServer((req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    const answer = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    }
    let input: Input
    try {
      input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Input
    } catch {
      return answer(400, JSON.stringify({ error: "invalid_json" }))
    }
    decide(input).then((body) => answer(200, body), () => answer(502, JSON.stringify({ error: "provider" })))
  })
})
runAsChild(server, () => agent.close())
