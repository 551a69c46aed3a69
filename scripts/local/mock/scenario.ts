// Fault scenarios, picked per request from the path: `/s/<scenario>/v1/...`. Parts joined by `+`, plus an
// optional trailing `~<tag>` that only makes the string unique, e.g. `fail2x500+gap20~t1`. Parts:
// status<CODE>, retryafter<MS>, fail<N>x<CODE>, hang, hangbody, cut<K>, gap<MS>, chunks<N>, nousage,
// delay<MS>, secretleak, deny<SUFFIX> (a key ending in SUFFIX is refused: 401), limit<SUFFIX> (a key ending
// in SUFFIX gets a 429 with Retry-After, see retryafter), redirect (a 307 to the same path under scenario
// `redirected-<scenario>`). Protocol mocks read their own extra parts from `parts`. Unknown parts are
// ignored.
import { isErrorCode } from './http.ts'

export type Scenario = {
  status?: number
  retryAfterMs?: number
  fail?: { n: number; code: number }
  hang: boolean
  hangBody: boolean
  cut?: number
  gapMs: number
  chunks: number
  noUsage: boolean
  delayMs: number
  secretLeak: boolean
  redirect: boolean
  denyKeys: string[]
  limitKeys: string[]
  parts: string[]
}

export function parseScenario(name: string): Scenario {
  const s: Scenario = {
    hang: false,
    hangBody: false,
    gapMs: 0,
    chunks: 5,
    noUsage: false,
    delayMs: 0,
    secretLeak: false,
    redirect: false,
    denyKeys: [],
    limitKeys: [],
    parts: [],
  }
  const tilde = name.indexOf('~')
  const spec = tilde === -1 ? name : name.slice(0, tilde)
  s.parts = spec.split('+')
  for (const part of s.parts) {
    let m: RegExpExecArray | null
    if (part === 'hang') s.hang = true
    else if (part === 'hangbody') s.hangBody = true
    else if (part === 'nousage') s.noUsage = true
    else if (part === 'secretleak') s.secretLeak = true
    else if (part === 'redirect') s.redirect = true
    else if ((m = /^status(\d{3})$/.exec(part)) && isErrorCode(Number(m[1]))) s.status ??= Number(m[1])
    else if ((m = /^retryafter(\d{1,9})$/.exec(part))) s.retryAfterMs = Number(m[1])
    else if ((m = /^fail(\d{1,9})x(\d{3})$/.exec(part)) && isErrorCode(Number(m[2])))
      s.fail ??= { n: Number(m[1]), code: Number(m[2]) }
    else if ((m = /^cut(\d{1,9})$/.exec(part))) s.cut = Number(m[1])
    else if ((m = /^gap(\d{1,9})$/.exec(part))) s.gapMs = Number(m[1])
    else if ((m = /^chunks(\d{1,9})$/.exec(part))) s.chunks = Math.min(Number(m[1]), 100_000)
    else if ((m = /^delay(\d{1,9})$/.exec(part))) s.delayMs = Number(m[1])
    else if ((m = /^deny([A-Za-z0-9]{1,40})$/.exec(part))) s.denyKeys.push(m[1]!)
    else if ((m = /^limit([A-Za-z0-9]{1,40})$/.exec(part))) s.limitKeys.push(m[1]!)
  }
  return s
}
