#!/usr/bin/env node
// The installed `precall` command: the built CLI (dist/, made by `npm run build`, which `npm ci` runs).
// undici 8, which precall's HTTP client runs on, needs Node 22.19 or later.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`precall: needs Node >= 22.19 (this is ${process.version})\n`)
  process.exit(2)
}
await import("../dist/cli/main.js")
