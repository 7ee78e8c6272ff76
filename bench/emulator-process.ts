/**
 * The Aliyun emulator in its own process, so its CPU never mixes with the measured process.
 * Options come as JSON in BENCH_EMULATOR_OPTIONS; the URL goes back over IPC as `{ url }` (and to
 * stdout when there is no IPC channel). Stops on SIGTERM/SIGINT or when the parent goes away.
 */
import { type AliyunEmulatorOptions, startAliyunEmulator } from "../src/emulator/aliyun/index.ts"

const options = JSON.parse(process.env["BENCH_EMULATOR_OPTIONS"] ?? "{}") as AliyunEmulatorOptions
const emulator = await startAliyunEmulator({ ...options, host: "127.0.0.1" })
if (process.send !== undefined) process.send({ url: emulator.url })
else process.stdout.write(`${emulator.url}\n`)

const stop = (): void => {
  void emulator.close().then(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
process.on("disconnect", stop)
