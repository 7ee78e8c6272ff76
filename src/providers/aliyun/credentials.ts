/** Where the Aliyun adapter's key pair comes from. */
import { Redacted } from "effect"
import { isLoopbackEndpoint } from "../../policy/endpoint.ts"
import type { AliyunCredentials } from "./client.ts"

/** The key pair the local emulator accepts when none is configured; worthless anywhere else. */
export const DEMO_ACCESS_KEY_ID = "precall-demo-key-id"
export const DEMO_ACCESS_KEY_SECRET = "precall-demo-key-secret"


/**
 * The configured pair; with none configured, the emulator's demo pair, but only for a loopback
 * endpoint, so a missing secret can never send demo credentials to the real provider.
 */
export const resolveCredentials = (
  endpoint: string,
  accessKeyId: string | undefined,
  accessKeySecret: Redacted.Redacted<string> | undefined
): AliyunCredentials | undefined =>
  accessKeyId !== undefined && accessKeySecret !== undefined
    ? { accessKeyId, accessKeySecret }
    : isLoopbackEndpoint(endpoint)
    ? { accessKeyId: DEMO_ACCESS_KEY_ID, accessKeySecret: Redacted.make(DEMO_ACCESS_KEY_SECRET) }
    : undefined
