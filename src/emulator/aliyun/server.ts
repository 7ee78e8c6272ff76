/**
 * The emulator's HTTP server.
 *
 * Plain `node:http`, not the Effect HTTP stack: the emulator is the provider side of benchmarks and
 * must cost as little CPU per request as possible, so it is never the bottleneck being measured.
 * It must also never crash on bad input: every handler is guarded and bodies are capped at 64 KiB.
 */
import { createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { CONTROL_PREFIX, handleControlRequest } from "./control.ts"
import type { EmulatorCore } from "./emulator.ts"
import { gatewayError, gatewayErrorBody, newRequestId, renderBody } from "./render.ts"
import { handleApiRequest } from "./wire.ts"

export const MAX_BODY_BYTES = 64 * 1024
/** Past this a body is no longer drained for the sake of a clean 413; the connection is dropped. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024

export interface EmulatorServer {
  readonly server: Server
  readonly listen: (port: number, host: string) => Promise<AddressInfo>
  /** Stops listening, cancels pending delayed replies and destroys every socket, hanging ones included. */
  readonly close: () => Promise<void>
}

const sendGatewayError = (res: ServerResponse, code: string, detail?: string): void => {
  if (res.headersSent || res.destroyed) return
  const requestId = newRequestId()
  const e = gatewayError(code, detail)
  const { contentType, text } = renderBody("JSON", "Error", gatewayErrorBody(e, requestId))
  res.writeHead(e.status, { "content-type": contentType, "content-length": Buffer.byteLength(text), "x-acs-request-id": requestId })
  res.end(text)
}

export const createEmulatorServer = (core: EmulatorCore): EmulatorServer => {
  const timers = new Set<NodeJS.Timeout>()
  // A bug must cost one request, not the emulator.
  const guarded = (res: ServerResponse, fn: () => void): void => {
    try {
      fn()
    } catch (e) {
      sendGatewayError(res, "InternalError", e instanceof Error ? e.message : String(e))
    }
  }

  const dispatch = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = req.url ?? "/"
    if (url === CONTROL_PREFIX || url.startsWith(`${CONTROL_PREFIX}/`) || url.startsWith(`${CONTROL_PREFIX}?`)) {
      return guarded(res, () => handleControlRequest(core, req, res, body))
    }
    const schedule = (ms: number, fn: () => void): void => {
      const t = setTimeout(() => {
        timers.delete(t)
        guarded(res, fn)
      }, ms)
      timers.add(t)
    }
    guarded(res, () => handleApiRequest(core, schedule, req, res, body))
  }

  const server = createServer((req, res) => {
    req.on("error", () => req.destroy())
    res.on("error", () => res.destroy())
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
      sendGatewayError(res, "EntityTooLarge")
      drain(req)
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk)
        return
      }
      req.off("data", onData)
      req.off("end", onEnd)
      chunks.length = 0
      sendGatewayError(res, "EntityTooLarge")
      drain(req)
    }
    const onEnd = (): void => dispatch(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    req.on("data", onData)
    req.on("end", onEnd)
  })
  // Malformed HTTP: answer 400 when possible instead of letting the parser error escape.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
    else socket.destroy()
  })

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject)
        server.listen(port, host, () => {
          server.off("error", reject)
          resolve(server.address() as AddressInfo)
        })
      }),
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** Reads and discards the rest of an oversized body so the client gets its 413 rather than a broken pipe. */
const drain = (req: IncomingMessage): void => {
  let drained = 0
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy()
  })
  req.resume()
}
