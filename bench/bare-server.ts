/**
 * The floor for any HTTP API here: a bare node:http server that reads a JSON body, parses it and
 * answers JSON. Runs in its own process; the URL goes back over IPC, and `{ cpu: true }` asks for
 * this process's CPU time.
 */
import { createServer } from "node:http"
import { runAsChild } from "./child-server.ts"

const server = createServer((req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    let status = 200
    let body: string
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { subsId?: unknown; phoneNoX?: unknown }
      body = JSON.stringify({ decision: "use-x", dial: input.phoneNoX ?? null, subsId: input.subsId ?? null, source: "provider" })
    } catch {
      status = 400
      body = JSON.stringify({ error: "invalid_json" })
    }
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    res.end(body)
  })
})
runAsChild(server)
