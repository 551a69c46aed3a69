// A CPU profile of a Worker under load, taken through workerd's inspector (Chrome DevTools protocol),
// and attributed to the packages of the bundle: wrangler's bundle marks each module with a
// `// node_modules/<pkg>/...` or `// src/...` comment, so a sample's line tells which package it ran in.
type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] }
export type CpuProfile = {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export type Attribution = {
  totalMs: number
  idleMs: number
  busyMs: number
  byPackage: { name: string; ms: number; share: number }[] // share of busy time
  topFunctions: { name: string; where: string; ms: number; share: number }[]
  // The same for nexusai's own code only.
  topOwnFunctions: { name: string; where: string; ms: number; share: number }[]
}

export async function profileWorker(inspectorPort: number, during: () => Promise<void>): Promise<CpuProfile> {
  // A fresh workerd may list its target a moment after it listens.
  let wsUrl: string | undefined
  for (let i = 0; i < 40 && !wsUrl; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 50))
    const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
      webSocketDebuggerUrl?: string
    }[]
    wsUrl = list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl
  }
  if (!wsUrl) throw new Error('workerd inspector lists no target')
  const ws = new WebSocket(wsUrl)
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error(`cannot connect to ${wsUrl}`))
  })
  let nextId = 1
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  ws.onmessage = (event) => {
    const msg = JSON.parse(String(event.data)) as {
      id?: number
      result?: unknown
      error?: { message: string }
    }
    const w = msg.id === undefined ? undefined : waiting.get(msg.id)
    if (!w) return
    waiting.delete(msg.id!)
    if (msg.error) w.reject(new Error(msg.error.message))
    else w.resolve(msg.result)
  }
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      ws.send(JSON.stringify({ id, method, params }))
      setTimeout(() => {
        if (waiting.delete(id)) reject(new Error(`inspector: ${method} timed out`))
      }, 30_000)
    })
  try {
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: 200 }) // µs
    await call('Profiler.start')
    await during()
    const { profile } = (await call('Profiler.stop')) as { profile: CpuProfile }
    return profile
  } finally {
    ws.close()
  }
}

// Maps bundle line numbers (0-based, as the profiler reports them) to the module they came from.
function sectionsOf(bundleSource: string): { line: number; name: string }[] {
  const out: { line: number; name: string }[] = []
  const lines = bundleSource.split('\n')
  for (let i = 0; i < lines.length; i++) {
    // (a node_modules reached through a symlink is printed with its real path: ../<dir>/node_modules/…)
    const m =
      /^\/\/ (?:\.\.\/[^ ]*?\/(?=node_modules\/))?(node_modules\/(?:(@[^/]+\/[^/]+)|([^/]+))\/|src\/|drizzle\/)/.exec(
        lines[i]!,
      )
    if (!m) continue
    out.push({
      line: i,
      name: m[2] ?? m[3] ?? (m[1]!.startsWith('drizzle/') ? 'src (schema)' : 'src (nexusai)'),
    })
  }
  return out
}

function sectionAt(sections: { line: number; name: string }[], line: number): string {
  let lo = 0
  let hi = sections.length - 1
  let found = 'bundle (other)'
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (sections[mid]!.line <= line) {
      found = sections[mid]!.name
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

// Raw bytes of the bundle by package (before minification and compression; shares are indicative).
export function bundleComposition(bundleSource: string): { name: string; bytes: number; share: number }[] {
  const sections = sectionsOf(bundleSource)
  const lines = bundleSource.split('\n')
  const bytes = new Map<string, number>()
  let current = 'bundle (other)'
  let next = 0
  for (let i = 0; i < lines.length; i++) {
    while (next < sections.length && sections[next]!.line === i) current = sections[next++]!.name
    bytes.set(current, (bytes.get(current) ?? 0) + Buffer.byteLength(lines[i]!) + 1)
  }
  const total = Buffer.byteLength(bundleSource)
  return [...bytes.entries()]
    .map(([name, b]) => ({ name, bytes: b, share: b / total }))
    .sort((a, b) => b.bytes - a.bytes)
}

export function attribute(profile: CpuProfile, bundleSource: string, bundleName: string): Attribution {
  const sections = sectionsOf(bundleSource)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0 // a sample's duration is the gap to the next one
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta)
  }
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, { name: string; where: string; us: number }>()
  let idle = 0
  let total = 0
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0
    if (!us) continue
    total += us
    const f = node.callFrame
    let where: string
    if (f.functionName === '(idle)') {
      idle += us
      continue
    } else if (
      f.functionName === '(program)' ||
      f.functionName === '(garbage collector)' ||
      f.functionName === '(root)'
    ) {
      where = f.functionName === '(garbage collector)' ? 'garbage collector' : 'runtime (outside JS)'
    } else if (f.url.endsWith(bundleName)) {
      where = sectionAt(sections, f.lineNumber)
    } else if (f.url === '' || f.url.startsWith('node:') || f.url.startsWith('cloudflare:')) {
      where = 'runtime built-ins'
    } else where = f.url
    byPackage.set(where, (byPackage.get(where) ?? 0) + us)
    const key = `${f.functionName || '(anonymous)'}@${where}:${f.lineNumber}`
    const entry = byFunction.get(key) ?? {
      name: f.functionName || '(anonymous)',
      where: `${where}:${f.lineNumber + 1}`,
      us: 0,
    }
    entry.us += us
    byFunction.set(key, entry)
  }
  const busy = total - idle
  const share = (us: number) => (busy > 0 ? us / busy : 0)
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    busyMs: busy / 1000,
    byPackage: [...byPackage.entries()]
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) }))
      .sort((a, b) => b.ms - a.ms),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 15)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    topOwnFunctions: [...byFunction.values()]
      .filter((f) => f.where.startsWith('src'))
      .sort((a, b) => b.us - a.us)
      .slice(0, 12)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
  }
}
