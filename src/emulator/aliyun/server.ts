/**
 * The Aliyun emulator's HTTP server: the shared emulator server (src/emulator/httpServer.ts) with
 * the control API under `/_emulator/`, the POP gateway everywhere else, and gateway-shaped errors.
 */
import type { ServerResponse } from "node:http"
import { createEmulatorHttpServer } from "../httpServer.ts"
import type { EmulatorServer } from "../httpServer.ts"
import { isControlUrl } from "../controlApi.ts"
import { handleControlRequest } from "./control.ts"
import type { EmulatorCore } from "./emulator.ts"
import { gatewayError, gatewayErrorBody, newRequestId, renderBody } from "./render.ts"
import { handleApiRequest } from "./wire.ts"

export type { EmulatorServer }

const sendGatewayError = (res: ServerResponse, code: string, detail?: string): void => {
  if (res.headersSent || res.destroyed) return
  const requestId = newRequestId()
  const e = gatewayError(code, detail)
  const { contentType, text } = renderBody("JSON", "Error", gatewayErrorBody(e, requestId))
  res.writeHead(e.status, { "content-type": contentType, "content-length": Buffer.byteLength(text), "x-acs-request-id": requestId })
  res.end(text)
}

export const createEmulatorServer = (core: EmulatorCore): EmulatorServer =>
  createEmulatorHttpServer({
    dispatch: (req, res, body, schedule) => {
      const url = req.url ?? "/"
      if (isControlUrl(url)) return handleControlRequest(core, req, res, body)
      handleApiRequest(core, schedule, req, res, body)
    },
    tooLarge: (res) => sendGatewayError(res, "EntityTooLarge"),
    internalError: (res, e) => sendGatewayError(res, "InternalError", e instanceof Error ? e.message : String(e))
  })
