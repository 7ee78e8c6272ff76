/**
 * Spans only where a tracer receives them. effect makes a span for every `withSpan` even when the
 * tracer in context is its native one, which keeps them to itself (no exporter, no processor): two
 * span objects, their attribute maps and a context per decision that nothing reads. With the OTLP
 * exporter (telemetry/otlp.ts), a user's tracer or a test's, the spans are made as before.
 */
import { type Fiber, References, Tracer } from "effect"

/** True when a span made on `fiber` would reach a tracer: tracing is on and the tracer is not effect's native one. */
export const spansReceived = (fiber: Fiber.Fiber<unknown, unknown>): boolean =>
  fiber.getRef(References.TracerEnabled) && fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer
