// The package as a dialing app gets it: `npm pack`, the tarball installed into an empty ESM project
// in a temporary folder, then (a) the Promise API decides against the bundled emulator on plain
// Node 24, (b) a strict TypeScript project type-checks against the shipped declarations (Decision
// narrows on `decision`), (c) the installed `precall --help`, `--version` and `emulator` work.
// Run by `npm test` after the build; prints one line per check and exits non-zero on the first failure.
import { execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const tmp = mkdtempSync(join(tmpdir(), "precall-consumer-"))
const app = join(tmp, "app")
// `node` on PATH is this Node 24, as in a dialing app's own environment (the machine's may be older).
const bin = join(tmp, "bin")
mkdirSync(bin)
symlinkSync(process.execPath, join(bin, "node"))
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 })
const ok = (what) => process.stdout.write(`consumer-check: ok  ${what}\n`)

try {
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp, "--ignore-scripts"], root))
  const shipped = packed.files.map((f) => f.path)
  const stray = shipped.filter((p) => /^(test|bench|scripts|docs)\//.test(p) || /\.test\.ts$/.test(p))
  if (stray.length > 0) throw new Error(`the tarball ships ${stray.join(", ")}`)
  if (!shipped.includes("dist/index.js") || !shipped.includes("dist/index.d.ts")) throw new Error("the tarball has no dist/index.js + .d.ts: run npm run build first")
  ok(`npm pack: ${packed.filename}, ${shipped.length} files, no tests, benchmarks or fixtures`)

  mkdirSync(app)
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "dialing-app", private: true, type: "module" }))
  const ts = pkg.devDependencies.typescript
  const types = pkg.devDependencies["@types/node"]
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(tmp, packed.filename), `typescript@${ts}`, `@types/node@${types}`], app)
  ok("installed the tarball into an empty ESM project")

  // (a) the Promise API against the bundled emulator
  writeFileSync(join(app, "decide.mjs"), `
import { createPrecall } from "precall"
import { startAliyunEmulator } from "precall/emulator"
const emulator = await startAliyunEmulator()
const binding = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
const precall = await createPrecall({ aliyunEndpoint: emulator.url })
try {
  const d = await precall.decide({ poolKey: "FC100000000001", subsId: binding.subsId, phoneNoX: binding.phoneNoX, callerNo: "13800138000" })
  console.log(JSON.stringify({ decision: d.decision, dial: d.dial, source: d.source, x: binding.phoneNoX }))
} finally {
  await precall.close()
  await emulator.close()
}
`)
  const decided = JSON.parse(run(process.execPath, ["decide.mjs"], app).trim())
  if (decided.decision !== "use-x" || decided.source !== "provider" || decided.dial !== decided.x) throw new Error(`decide.mjs: ${JSON.stringify(decided)}`)
  ok(`(a) createPrecall().decide() on Node ${process.versions.node}: use-x ${decided.dial} from the provider`)

  // (b) strict TypeScript against the shipped declarations, which are checked too (skipLibCheck off;
  // effect's own declarations name WebCrypto types, hence the dom lib)
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "es2024", lib: ["es2024", "dom"], types: ["node"], module: "nodenext", moduleResolution: "nodenext", strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false },
    include: ["check.ts"]
  }))
  writeFileSync(join(app, "check.ts"), `
import { createPrecall, type Decision } from "precall"
import { startAliyunEmulator, type RunningAliyunEmulator } from "precall/emulator"

/** What a dialing app does with each decision; the switch narrows the union on \`decision\`. */
export const dialOf = (d: Decision): string | null => {
  switch (d.decision) {
    case "refuse": {
      const nothing: null = d.dial
      return nothing
    }
    case "rebind":
      return \`\${d.dial} (new binding \${d.subsId ?? "?"} replaces \${d.previousSubsId})\`
    case "use-x":
    case "use-temporary-x":
    case "fallback-real":
      return d.dial
  }
}
// @ts-expect-error previousSubsId exists on the rebind variant only
export const notNarrowed = (d: Decision): string => d.previousSubsId
// @ts-expect-error a refuse has nothing to dial
export const refuseDials = (d: Decision & { decision: "refuse" }): string => d.dial

export const main = async (emulator: RunningAliyunEmulator): Promise<string | null> => {
  const precall = await createPrecall({ aliyunEndpoint: emulator.url, deadlineMs: 800 })
  try {
    return dialOf(await precall.decide({ poolKey: "FC100000000001", subsId: "1", phoneNoX: "17000000000" }))
  } finally {
    await precall.close()
  }
}
export { startAliyunEmulator }
`)
  run(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app)
  ok("(b) a strict TypeScript project type-checks against the shipped declarations, Decision narrowing on `decision`")

  // (c) the installed command
  const precallBin = join(app, "node_modules", ".bin", "precall")
  const help = run(precallBin, ["--help"], app)
  for (const command of ["decide", "emulator", "serve"]) if (!help.includes(command)) throw new Error(`precall --help does not list ${command}`)
  const version = run(precallBin, ["--version"], app).trim()
  if (!version.endsWith(pkg.version)) throw new Error(`precall --version printed ${version}, package.json says ${pkg.version}`)
  const announced = await new Promise((resolve, reject) => {
    const child = spawn(precallBin, ["emulator", "--port", "0", "--json"], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`precall emulator said nothing in 30 s: ${err}`))), 30_000)
    child.stderr.on("data", (c) => (err += c))
    child.stdout.on("data", (c) => {
      out += c
      if (!out.includes("\n")) return
      clearTimeout(timer)
      const line = JSON.parse(out.split("\n")[0])
      fetch(`${line.url}/_emulator/state`).then((res) => {
        child.kill("SIGTERM")
        // 130: stopped by a signal, as runMain reports it (docs/cli.md)
        child.once("exit", (code) => (code === 130 ? resolve({ ...line, control: res.status }) : reject(new Error(`precall emulator exited ${code} on SIGTERM: ${err}`))))
      }, (e) => (child.kill("SIGKILL"), reject(e)))
    })
    child.once("error", reject)
  })
  if (announced.control !== 200) throw new Error(`the emulator's control API answered ${announced.control}`)
  ok(`(c) precall --help, precall --version (${version}), precall emulator (${announced.url}, stopped by SIGTERM)`)
} catch (e) {
  process.stderr.write(`consumer-check: FAILED ${e instanceof Error ? e.message : String(e)}\n${e?.stdout ?? ""}${e?.stderr ?? ""}\n`)
  process.exitCode = 1
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
