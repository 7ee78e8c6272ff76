// With `npm ci --ignore-scripts` the node package's preinstall is skipped and the system Node would run vitest.
if (Number(process.versions.node.split(".")[0]) < 24) {
  throw new Error(`node ${process.version}: precall needs >= 24; run \`npm ci\` with scripts so the pinned node devDependency is linked`)
}
