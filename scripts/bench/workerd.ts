// Builds the Worker the way `wrangler deploy` does and serves bundles with a bare `workerd serve`
// (no wrangler dev, no miniflare: nothing of the dev tooling runs in the timed path).
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import net from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { stopChild } from '../local/util.ts'
export { freePort } from '../local/ports.ts'

const require = createRequire(import.meta.url)

export type Bundle = { dir: string; main: string; modules: string[]; rawBytes: number; gzipBytes: number }

// `wrangler deploy --dry-run --outdir dir`: the exact bundle production would upload.
export async function buildBundle(root: string, dir: string, extraArgs: string[] = []): Promise<Bundle> {
  const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
  const args = [wrangler, 'deploy', '--dry-run', '--outdir', dir, ...extraArgs]
  const { code, output } = await run(process.execPath, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
    timeoutMs: 120_000,
  })
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${output.slice(-2000)}`)
  const files = (await readdir(dir, { recursive: true })).map(String).filter((f) => /\.(m?js|wasm)$/.test(f))
  const main = files.includes('index.js') ? 'index.js' : files.find((f) => /\.m?js$/.test(f))
  if (!main) throw new Error(`no module in ${dir}`)
  let rawBytes = 0
  let gzipBytes = 0
  for (const f of files) {
    const bytes = await readFile(join(dir, f))
    rawBytes += bytes.byteLength
    gzipBytes += gzipSync(bytes, { level: 9 }).byteLength
  }
  return { dir, main, modules: [main, ...files.filter((f) => f !== main)], rawBytes, gzipBytes }
}

export type ServeOptions = {
  name: string
  dir: string // where the config is written; module paths are relative to it
  modules: { name: string; path: string }[] // first = main module
  compatibilityDate: string
  compatibilityFlags: string[]
  bindings: Record<string, string>
  port: number
  // A module (path relative to dir) served on the socket instead, with the Worker as its GATEWAY service
  // binding: a subrequest it cancels is cancelled in the Worker the way the edge cancels a request
  // whose client left (a bare workerd's HTTP listener does not notice a client leaving before the head).
  front?: string
}

const q = (s: string) => JSON.stringify(s) // capnp text strings use JSON-compatible escapes

function capnpConfig(o: ServeOptions): string {
  const modules = o.modules
    .map(
      (m) => `(name = ${q(m.name)}, ${m.path.endsWith('.wasm') ? 'wasm' : 'esModule'} = embed ${q(m.path)})`,
    )
    .join(',\n      ')
  const bindings = Object.entries(o.bindings)
    .map(([name, text]) => `(name = ${q(name)}, text = ${q(text)})`)
    .join(',\n      ')
  const front = o.front
    ? `(name = "front", worker = (modules = [(name = "front.js", esModule = embed ${q(o.front)})], ` +
      `compatibilityDate = ${q(o.compatibilityDate)}, bindings = [(name = "GATEWAY", service = "main")])),`
    : ''
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),${front}
    # The default globalOutbound: loopback allowed, since every store and the mock live on 127.0.0.1.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${o.port}", http = (), service = "${o.front ? 'front' : 'main'}") ],
);

const worker :Workerd.Worker = (
  modules = [
      ${modules}
  ],
  compatibilityDate = ${q(o.compatibilityDate)},
  compatibilityFlags = [${o.compatibilityFlags.map(q).join(', ')}],
  bindings = [
      ${bindings}
  ],
);
`
}

export function workerdBinary(): string {
  return (require('workerd') as { default: string }).default
}

export type Workerd = {
  name: string
  url: string
  pid: number
  child: ChildProcess
  log(): string
  close(): Promise<void>
}

export async function serve(o: ServeOptions & { inspectorPort?: number }): Promise<Workerd> {
  const configPath = join(o.dir, `${o.name}.capnp`)
  await writeFile(configPath, capnpConfig(o))
  const args = ['serve', configPath]
  if (o.inspectorPort) args.push(`--inspector-addr=127.0.0.1:${o.inspectorPort}`)
  // Output (the Worker's per-request log lines included) goes to a file, not through a pipe this process
  // would have to drain while it serves the stores.
  const logPath = join(o.dir, `${o.name}.log`)
  const logFd = openSync(logPath, 'w')
  const child = spawn(workerdBinary(), args, { cwd: o.dir, stdio: ['ignore', logFd, logFd], detached: false })
  closeSync(logFd)
  track(child)
  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').slice(-3000)
    } catch {
      return ''
    }
  }
  const url = `http://127.0.0.1:${o.port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`workerd (${o.name}) exited (${child.exitCode ?? child.signalCode}):\n${tail()}`)
    if (await canConnect(o.port)) break
    if (Date.now() > deadline) {
      await stopChild(child)
      throw new Error(`workerd (${o.name}) did not listen within 20 s:\n${tail()}`)
    }
    await sleep(50)
  }
  return { name: o.name, url, pid: child.pid!, child, log: tail, close: () => stopChild(child) }
}

// Every child this process starts, so an error or Ctrl-C never leaves one running.
const children = new Set<ChildProcess>()
export function track(child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
}
export function killAllTracked(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    track(child)
    let output = ''
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('error', (e) => (clearTimeout(timer), reject(e)))
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, output })))
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
