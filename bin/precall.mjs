#!/usr/bin/env node
// npm puts node_modules/.bin (the pinned Node 24) first on PATH for `npx precall` and npm scripts.
if (Number(process.versions.node.split(".")[0]) < 24) {
  process.stderr.write(`precall needs Node >= 24 (this is ${process.version}); run it through \`npx precall\` after \`npm ci\`\n`)
  process.exit(2)
}
await import("../src/cli/main.ts")
