// Docs drift: every reference resolves inside the repository. Fails (exit 1) when code or docs cite a
// document outside it (the session's shared notes: CONTRACT, REVIEW, GUIDE, protocols.md, providers.md,
// clients.md, ../shared), when code cites a docs/ page that does not exist, or when a relative link in the
// README or docs/ points at a missing file or heading.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const problems = []

function files(dir, match) {
  const out = []
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name)
    if (name === 'node_modules' || name.startsWith('.')) continue
    if (statSync(join(root, path)).isDirectory()) out.push(...files(path, match))
    else if (match.test(name)) out.push(path)
  }
  return out
}

const OUTSIDE =
  /\b(CONTRACT|REVIEW[\w-]*|GUIDE)(\.md)?\s*§|\b(CONTRACT|GUIDE|REVIEW[\w-]*|protocols)\.md\b|\.\.\/shared\b|\/work\/shared\b/
// Outside docs/, a bare `providers.md §…` is the old notes', not docs/providers.md.
const BARE = /(?<![\w/-])(providers|clients)\.md\s*§/
const code = [
  ...['src', 'scripts', 'test', 'drizzle'].flatMap((d) => files(d, /\.(ts|mjs|js|sh|sql)$/)),
  ...files('docs', /\.md$/),
  'README.md',
].filter((f) => !f.endsWith('worker-configuration.d.ts') && f !== 'scripts/check-docs.mjs')

for (const file of code) {
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const inDocs = file.endsWith('.md')
      if (OUTSIDE.test(line) || (!inDocs && BARE.test(line)))
        problems.push(`${file}:${i + 1}: cites a document outside the repository`)
      if (inDocs) return
      for (const [, page] of line.matchAll(/\bdocs\/([\w-]+\.md)/g))
        if (!existsSync(join(root, 'docs', page)))
          problems.push(`${file}:${i + 1}: docs/${page} does not exist`)
    })
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-')
function anchors(file) {
  let fenced = false
  const out = new Set()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line)
    if (heading) out.add(slug(heading[1]))
  }
  return out
}
for (const file of ['README.md', ...files('docs', /\.md$/)]) {
  const text = readFileSync(join(root, file), 'utf8')
  for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(link)) continue
    const [path, fragment] = link.split('#')
    const target = path ? resolve(root, dirname(file), path) : join(root, file)
    if (!existsSync(target)) problems.push(`${file}: link to ${link}: no such file`)
    else if (fragment && target.endsWith('.md') && !anchors(target).has(fragment))
      problems.push(`${file}: link to ${link}: no such heading in ${relative(root, target)}`)
  }
}

if (problems.length) {
  console.error(problems.join('\n'))
  console.error(`check-docs: ${problems.length} reference(s) that do not resolve inside the repository`)
  process.exit(1)
}
console.log('check-docs: every reference resolves inside the repository')
