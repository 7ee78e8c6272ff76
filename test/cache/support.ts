/** Engines with the cache layer over the scripted provider (TestClock tests) or the emulator (Redis tests). */
import { Effect, Layer } from "effect"
import type { DecideRequest } from "../../src/domain/request.ts"
import { cacheLayer } from "../../src/cache/cacheLayer.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { type Settings, settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider, type ProviderShape } from "../../src/providers/Provider.ts"
import { noRedis, SharedRedis } from "../../src/redis/SharedRedis.ts"

export const X = "17000000001"
export const request = (extra: Partial<Record<keyof DecideRequest, unknown>> = {}): DecideRequest =>
  ({ poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X, callerNo: "13800138000", ...extra }) as DecideRequest

/** Settings for a test; with Redis, the instances share a key secret as PRECALL_REDIS_KEY_SECRET would give them. */
export const settingsSync = (input: SettingsInput): Settings =>
  Effect.runSync(settingsFromObject(input.redisUrl === undefined ? input : { redisKeySecret: "test-shared-secret-0123456789", ...input }))

/** An engine with the cache layer and no Redis, over the given provider. */
export const cachedEngine = (settings: Settings, provider: ProviderShape) =>
  Effect.service(Engine).pipe(Effect.provide(
    engineLayer(settings).pipe(
      Layer.provide(Layer.mergeAll(Layer.succeed(PrivacyNumberProvider, provider), cacheLayer(settings))),
      Layer.provide(Layer.succeed(SharedRedis, noRedis))
    )
  ))
