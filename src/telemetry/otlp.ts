/**
 * OpenTelemetry export: traces, metrics and logs over OTLP/HTTP (JSON), through effect's own OTLP
 * exporters (effect/observability), so no OpenTelemetry SDK is loaded. Off unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. Every decision is one `precall.decide` span with a
 * `precall.provider.call` child per provider attempt; their attributes name the provider, the action,
 * the attempt, the decision and its source, never a number or a binding.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Layer } from "effect"
import { Otlp, OtlpExporter } from "effect/observability"
import { createRequire } from "node:module"

const { version } = createRequire(import.meta.url)("../../package.json") as { readonly version: string }

type Env = Readonly<Record<string, string | undefined>>

/**
 * The OTLP exporter layer for `env`: nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset or blank.
 * Service name from OTEL_SERVICE_NAME (default `precall`). Buffered telemetry is flushed when the
 * layer's scope closes (createPrecall().close(), the service's shutdown).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import type { Layer } from "effect"
 * import { PrecallFromEnv, telemetryLayer } from "precall"
 * const Live = Layer.merge(PrecallFromEnv, telemetryLayer(process.env))
 * ```
 */
export const telemetryLayer = (env: Env): Layer.Layer<OtlpExporter.Flusher> => {
  const endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim()
  // Off: a flusher with nothing registered, so callers can flush either way.
  if (endpoint === undefined || endpoint === "") return OtlpExporter.layerFlusher
  return Otlp.layerJson({
    baseUrl: endpoint.replace(/\/$/, ""),
    resource: { serviceName: env["OTEL_SERVICE_NAME"]?.trim() || "precall", serviceVersion: version },
    tracerExportInterval: "1 second",
    metricsExportInterval: "10 seconds"
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))
}
