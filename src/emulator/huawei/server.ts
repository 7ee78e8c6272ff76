/**
 * The Huawei emulator's HTTP server: the shared emulator server (src/emulator/httpServer.ts) with
 * the control API under `/_emulator/`, the platform's APIs everywhere else, Huawei-shaped errors
 * (a handler bug costs one request a `1010001`), and pushes stopped on close.
 */
import type { ServerResponse } from "node:http"
import { createEmulatorHttpServer, MAX_BODY_BYTES } from "../httpServer.ts"
import type { EmulatorServer } from "../httpServer.ts"
import { isControlUrl } from "../controlApi.ts"
import { handleControlRequest } from "./control.ts"
import type { HuaweiEmulatorCore } from "./emulator.ts"
import { result } from "./results.ts"
import { handleApiRequest } from "./wire.ts"

const sendError = (res: ServerResponse, status: number, code: string, desc: string): void => {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify({ resultcode: code, resultdesc: desc })
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8", "content-length": Buffer.byteLength(text), connection: "close" })
  res.end(text)
}

export const createHuaweiEmulatorServer = (core: HuaweiEmulatorCore): EmulatorServer =>
  createEmulatorHttpServer({
    dispatch: (req, res, body, schedule) => {
      const url = req.url ?? "/"
      if (isControlUrl(url)) return handleControlRequest(core, req, res, body)
      handleApiRequest(core, schedule, req, res, body)
    },
    tooLarge: (res) => sendError(res, 413, "1010002", `Invalid request: the body is larger than ${MAX_BODY_BYTES} bytes.`),
    internalError: (res, e) => sendError(res, 500, "1010001", `${result("1010001").resultdesc} ${e instanceof Error ? e.message : String(e)}`),
    onClose: () => core.outbox.stop()
  })
