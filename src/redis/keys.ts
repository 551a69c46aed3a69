// Every Redis key nexusai uses is built here; docs/architecture.md "Redis keys" lists each prefix and TTL.
const P = 'nx'

export const keys = {
  // Bumped by every admin write; caches in every isolate compare against it.
  configVersion: () => `${P}:cfgver`,
  // One key's or project's spend counters (scopeKey below), for the rebuild and the reconcile.
  spendDay: (keyId: string, day: string) => scopeKey.spendDay({ kind: 'key', id: keyId }, day),
  spendMonth: (keyId: string, month: string) => scopeKey.spendMonth({ kind: 'key', id: keyId }, month),
  tpmTotal: (keyId: string) => scopeKey.tpmTotal({ kind: 'key', id: keyId }),
  projectSpendDay: (projectId: string, day: string) =>
    scopeKey.spendDay({ kind: 'project', id: projectId }, day),
  projectSpendMonth: (projectId: string, month: string) =>
    scopeKey.spendMonth({ kind: 'project', id: projectId }, month),
  // Budget thresholds already announced in one period (HASH field = fraction or "exhausted"), per key
  // ("k") or project ("p") and UTC day or month: a crossing is announced once.
  budgetAlerts: (scope: 'k' | 'p', id: string, period: string) => `${P}:alert:${scope}:${id}:${period}`,
  // Usage rows waiting for Postgres (LIST of JSON rows), drained by the cron trigger.
  usageSpool: () => `${P}:spool:usage`,
  // Spooled or fresh usage rows Postgres rejected (bad data, not an outage): LIST kept for an operator.
  usageSpoolDead: () => `${P}:spool:usage:dead`,
  // Failed admin sign-ins per client IP (redis/scripts/fixed-window.ts appends ":<ip>:<window number>").
  adminAuthFailures: () => `${P}:adminfail`,
  // A provider's circuit breaker and health figures (HASH, fields in redis/lua/circuit.lua.ts), 7 days after
  // its last outcome.
  circuit: (providerId: string) => `${P}:circuit:${providerId}`,
  // Which provider created a Responses API response (JSON: key, model, provider), so follow-ups
  // (previous_response_id, GET, DELETE) go to the provider that stores it.
  response: (responseId: string) => `${P}:resp:${responseId}`,
  // A conversation's pin (docs/affinity.md): "<provider id>|<stored key id or ''>" that served its last
  // turn, read by the guard and written after the response, 1 hour after its last use.
  pin: (conversationId: string) => `${P}:pin:${conversationId}`,
  // A prepaid project's balance (HASH: credit, cid, spent; redis/scripts/balance.ts), no TTL: rebuilt from
  // Postgres when missing.
  balance: (projectId: string) => `${P}:pj:bal:${projectId}`,
  // Its in-flight reservations (ZSET member = reservationMember() in redis/scripts/guard.ts, score =
  // expiry in ms).
  balanceHolds: (projectId: string) => `${P}:pj:balresv:${projectId}`,
  // A rolling window's buckets (HASH, src/billing/windows.ts), per key ("k") or project ("p") and period;
  // expires one period after its last write.
  window: (scope: 'k' | 'p', id: string, period: string) => `${P}:win:${scope}:${id}:${period}`,
  // Wrong redemption codes per virtual key (redis/scripts/fixed-window.ts appends
  // ":<key id>:<window number>").
  redeemFailures: () => `${P}:redeemfail`,
  // Prometheus counters and histograms (HASH field = "<metric>{<labels>}", value = number).
  metrics: () => `${P}:metrics`,
}

// A scope is what limits and budgets apply to: an API key, or the project all its keys share. Both have
// the same Redis shapes, a project's under "pj" segments (so no project slug can collide with a key id).
export type ScopeKind = 'key' | 'project'
export type Scope = { kind: ScopeKind; id: string }
// The UTC day (YYYYMMDD) and month (YYYYMM) a request counts in.
export type Period = { day: string; month: string }

const scoped = (s: Scope) => (s.kind === 'project' ? `${P}:pj` : P)

const scopeKey = {
  // Sliding-window request log (ZSET member = request id, score = ms).
  rpm: (s: Scope) => `${scoped(s)}:rpm:${s.id}`,
  // Sliding-window token log (ZSET member = "<request id>:<tokens>", score = ms).
  tpm: (s: Scope) => `${scoped(s)}:tpm:${s.id}`,
  // Running total of that token log, so a decision never sums the whole window.
  tpmTotal: (s: Scope) => `${scoped(s)}:tpmsum:${s.id}`,
  // Settled spend in pico-USD (exactly the ledger's sum) for one UTC day / month; rebuilt from usage_logs
  // when missing.
  spendDay: (s: Scope, day: string) => `${scoped(s)}:spend:pd:${s.id}:${day}`,
  spendMonth: (s: Scope, month: string) => `${scoped(s)}:spend:pm:${s.id}:${month}`,
  // In-flight budget reservations (ZSET member = reservationMember() in redis/scripts/guard.ts, score =
  // expiry ms).
  reservations: (s: Scope) => `${scoped(s)}:resv:${s.id}`,
}

// A scope's keys in the one order the scripts read them in: the Lua gets each one's offset from this
// list (redis/lua/scope.lua.ts), so a new per-scope key (a rolling window's buckets, a balance) is one
// entry here and one in SCOPE_LAYOUT.
export const SCOPE_KEYS = ['rpm', 'tpm', 'tpmTotal', 'spendDay', 'spendMonth', 'reservations'] as const

const SCOPE_LAYOUT: Record<(typeof SCOPE_KEYS)[number], (s: Scope, p: Period) => string> = {
  rpm: (s) => scopeKey.rpm(s),
  tpm: (s) => scopeKey.tpm(s),
  tpmTotal: (s) => scopeKey.tpmTotal(s),
  spendDay: (s, p) => scopeKey.spendDay(s, p.day),
  spendMonth: (s, p) => scopeKey.spendMonth(s, p.month),
  reservations: (s) => scopeKey.reservations(s),
}

export const scopeKeys = (s: Scope, p: Period): string[] => SCOPE_KEYS.map((name) => SCOPE_LAYOUT[name](s, p))

// A scope's budget-alert hashes for the period's day and month.
export const scopeAlertKeys = (s: Scope, p: Period): string[] => {
  const tag = s.kind === 'project' ? 'p' : 'k'
  return [keys.budgetAlerts(tag, s.id, p.day), keys.budgetAlerts(tag, s.id, p.month)]
}
