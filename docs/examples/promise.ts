import { createPrecall, PrecallError, startAliyunEmulator } from "precall"

// The local emulator stands in for Aliyun; in production pass your endpoint and key pair instead.
const emulator = await startAliyunEmulator()
const binding = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })

const precall = await createPrecall({ aliyunEndpoint: emulator.url, deadlineMs: 800 })
try {
  const decision = await precall.decide({
    poolKey: "FC100000000001",
    subsId: binding.subsId,
    phoneNoX: binding.phoneNoX,
    callerNo: "13800138000"
  })
  console.log(decision.decision, decision.dial, decision.source) // use-x 17000000000 provider

  // Bad input rejects with a PrecallError that lists every problem.
  const rejected = await precall.decide({ poolKey: "FC100000000001", subsId: "1", phoneNoX: "12345" }).catch((e: unknown) => e)
  if (rejected instanceof PrecallError) console.log(rejected.code, rejected.issues.map((i) => i.path)) // INVALID_REQUEST [ 'phoneNoX' ]
} finally {
  await precall.close()
  await emulator.close()
}
