// The production bundle (`wrangler deploy --dry-run`) under a bare `workerd serve`, as `npm run bench`
// runs it, on the local stack (fresh database, private Redis, the mock upstream). Unlike `wrangler dev`,
// requests go through a front Worker (test/runtime/front.js) whose cancelled subrequests reach the
// gateway the way a client leaving reaches a Worker on the edge.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { wranglerSettings } from '../../scripts/bench/setup.ts'
import { buildBundle, freePort, serve } from '../../scripts/bench/workerd.ts'
import { prepareDatabase } from '../../scripts/local/postgres.ts'
import { startStack, type Stack } from '../../scripts/local/stack.ts'

export const ADMIN_TOKEN = `rt-admin-${randomBytes(8).toString('hex')}`

export type RuntimeStack = {
  url: string
  // Every gateway process serving the same stores (`instances`), the first being `url`.
  urls: string[]
  stack: Stack
  log(): string
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  close(): Promise<void>
}

export async function startRuntime(
  extraBindings: Record<string, string> = {},
  { instances = 1 } = {},
): Promise<RuntimeStack> {
  const root = join(import.meta.dirname, '..', '..')
  const tmp = await mkdtemp(join(os.tmpdir(), 'nexusai-runtime-'))
  const closers: (() => Promise<unknown>)[] = [() => rm(tmp, { recursive: true, force: true })]
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {})
  }
  try {
    const bundle = await buildBundle(root, join(tmp, 'bundle'))
    const database = await prepareDatabase({
      name: `nexusai_rt_${randomBytes(4).toString('hex')}`,
      adminUrl: process.env.TEST_POSTGRES_URL,
    })
    closers.push(() => database.drop())
    const stack = await startStack({
      databaseUrl: database.backend.kind === 'postgres' ? database.backend.url : undefined,
      pgliteDir: database.backend.kind === 'pglite' ? database.backend.dataDir : undefined,
      // Nothing answers there, so a private redis-server is started (and stopped with the stack).
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      upstashToken: `rt-${randomBytes(8).toString('hex')}`,
      recordMockRequests: true,
    })
    closers.push(() => stack.close())
    await copyFile(join(import.meta.dirname, 'front.js'), join(bundle.dir, 'front.js'))
    const wrangler = await wranglerSettings()
    const serveOne = async (name: string) => {
      const one = await serve({
        name,
        dir: bundle.dir,
        modules: bundle.modules.map((m) => ({ name: m, path: m })),
        compatibilityDate: wrangler.date,
        compatibilityFlags: wrangler.flags,
        port: await freePort(),
        front: 'front.js',
        bindings: { ...wrangler.vars, ...stack.vars, ADMIN_TOKEN, ...extraBindings },
      })
      closers.push(() => one.close())
      return one
    }
    const gateway = await serveOne('gateway')
    const others = []
    for (let i = 1; i < instances; i++) others.push(await serveOne(`gateway-${i + 1}`))
    return {
      url: gateway.url,
      urls: [gateway.url, ...others.map((o) => o.url)],
      stack,
      log: () => readFileSync(join(bundle.dir, 'gateway.log'), 'utf8'),
      async admin(method, path, body) {
        const res = await fetch(`${gateway.url}/admin${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const text = await res.text()
        return { status: res.status, body: text ? JSON.parse(text) : null }
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
