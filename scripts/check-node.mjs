// Plain JavaScript on purpose: it must run (and explain itself) on a Node too old for the rest.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `nexusai needs Node.js >= 22.12 (this is ${process.version}); install a current LTS from nodejs.org or with nvm: nvm install 24`,
  )
  process.exit(1)
}
