/**
 * A provider's reply body as a JSON object, or undefined when it is not one (not JSON, an array, a
 * scalar): what each client's reply table reads its code and request id from. Never throws.
 */
export const jsonObjectOf = (text: string): Readonly<Record<string, unknown>> | undefined => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
}
