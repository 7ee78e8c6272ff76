/**
 * `precall emulator`: the Aliyun emulator and, on its own port beside it, the Huawei emulator, both
 * on loopback until SIGINT or SIGTERM. Aliyun takes its options from `--config` and the
 * ALIBABA_CLOUD_* key pair as before; Huawei runs with its demo apps and pool.
 */
import { readEmulatorConfig } from "./aliyun/configFile.ts"
import { DEFAULT_EMULATOR_PORT, keyPairFromEnv } from "./aliyun/options.ts"
import { startAliyunEmulator } from "./aliyun/index.ts"
import { DEFAULT_HUAWEI_EMULATOR_PORT, startHuaweiEmulator } from "./huawei/index.ts"

export interface EmulatorCliOptions {
  readonly port?: number | undefined
  readonly configFile?: string | undefined
  /** Default 8932, or 0 (a free port) when `port` is 0, so `--port 0` never collides on a fixed port. */
  readonly huaweiPort?: number | undefined
  /** Where the Huawei emulator pushes (loopback only); default none: pushes are only recorded. */
  readonly huaweiCallbackUrl?: string | undefined
  readonly json?: boolean | undefined
  readonly controlToken?: string | undefined
}

/** Starts both, announces them (a sentence each, or one JSON line), and resolves once a signal has closed them. */
export const runEmulatorCli = async (o: EmulatorCliOptions = {}): Promise<void> => {
  const port = o.port ?? DEFAULT_EMULATOR_PORT
  const fromFile = o.configFile === undefined ? {} : await readEmulatorConfig(o.configFile)
  const aliyun = await startAliyunEmulator({ ...fromFile, port, ...keyPairFromEnv(process.env), controlToken: o.controlToken })
  let huawei: Awaited<ReturnType<typeof startHuaweiEmulator>>
  try {
    huawei = await startHuaweiEmulator({ port: o.huaweiPort ?? (port === 0 ? 0 : DEFAULT_HUAWEI_EMULATOR_PORT), callbackUrl: o.huaweiCallbackUrl, controlToken: o.controlToken })
  } catch (e) {
    await aliyun.close()
    throw e
  }
  const axb = huawei.apps.find((a) => a.mode === "AXB")
  process.stdout.write(o.json === true
    ? `${JSON.stringify({
      url: aliyun.url, port: aliyun.port, accessKeyId: aliyun.accessKeyId, controlUrl: `${aliyun.url}/_emulator`,
      huawei: { url: huawei.url, port: huawei.port, controlUrl: `${huawei.url}/_emulator`, apps: huawei.apps.map(({ appKey, mode, auth }) => ({ appKey, mode, auth })), cecAk: huawei.cec.ak }
    })}\n`
    : `Aliyun Dyplsapi emulator listening on ${aliyun.url} (AccessKeyId ${aliyun.accessKeyId}; control API ${aliyun.url}/_emulator)\n` +
      `Huawei privacy-call and CEC emulator listening on ${huawei.url} (AXB app ${axb?.appKey ?? "none"}; control API ${huawei.url}/_emulator)\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop)
      process.off("SIGTERM", stop)
      void Promise.all([aliyun.close(), huawei.close()]).then(() => resolve())
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
  })
}
