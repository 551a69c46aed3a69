// Plain JavaScript on purpose: it must run (and explain itself) on a Node too old for the rest.
// `npm install` puts Node 24 at node_modules/.bin/node (the node-<platform> optional dependency) and npm puts that
// folder first on PATH for every script, so this only fails when that package is missing for this platform.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `nexusai needs Node.js >= 22.12 for its scripts (this is ${process.version}). Run \`npm install\` first: it brings ` +
      'Node 24 into node_modules/.bin on Linux x64/arm64, macOS x64 and Windows x64. Elsewhere (e.g. macOS on Apple ' +
      'silicon) install a current LTS from nodejs.org or with nvm: nvm install 24',
  )
  process.exit(1)
}
