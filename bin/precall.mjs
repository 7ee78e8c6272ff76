#!/usr/bin/env node
// The installed `precall` command: the built CLI (dist/, made by `npm run build`, which `npm ci` runs).
if (Number(process.versions.node.split(".")[0]) < 24) {
  process.stderr.write(`precall: needs Node >= 24 (this is ${process.version})\n`)
  process.exit(2)
}
await import("../dist/cli/main.js")
