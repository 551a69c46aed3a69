// Writes the tokenizer's rank tables (from the gpt-tokenizer package) as static assets under public/tokenizer/,
// where the Worker fetches them only when an upstream reported no usage (src/usage/tokenizer.ts): they never
// weigh on the Worker's bundle. Run by `npm install` (postinstall); plain JavaScript so any Node runs it.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'tokenizer')
mkdirSync(out, { recursive: true })
for (const encoding of ['o200k_base', 'cl100k_base']) {
  const { default: ranks } = await import(`gpt-tokenizer/bpeRanks/${encoding}`)
  writeFileSync(join(out, `${encoding}.json`), JSON.stringify(ranks))
}
