// Every Redis key nexusai uses is built here; docs/architecture.md "Redis keys" lists each prefix and TTL.
const P = 'nx'

export const keys = {
  // Bumped by every admin write; caches in every isolate compare against it.
  configVersion: () => `${P}:cfgver`,
  // Sliding-window request log (ZSET member = request id, score = ms).
  rpm: (keyId: string) => `${P}:rpm:${keyId}`,
  // Sliding-window token log (ZSET member = "<request id>:<tokens>", score = ms).
  tpm: (keyId: string) => `${P}:tpm:${keyId}`,
  // Running total of that token log, so a decision never sums the whole window.
  tpmTotal: (keyId: string) => `${P}:tpmsum:${keyId}`,
  // Settled spend in pico-USD (exactly the ledger's sum) for one UTC day / month; rebuilt from usage_logs
  // when missing.
  spendDay: (keyId: string, day: string) => `${P}:spend:pd:${keyId}:${day}`,
  spendMonth: (keyId: string, month: string) => `${P}:spend:pm:${keyId}:${month}`,
  // In-flight budget reservations (ZSET member = "<request id>|<day>|<month>|<pico-USD>", score = expiry ms).
  reservations: (keyId: string) => `${P}:resv:${keyId}`,
  // A project's shared windows, counters and reservations: the same shapes as the key's above, for
  // all keys of the project together ("pj" segments, so no project slug can collide with a key id).
  projectRpm: (projectId: string) => `${P}:pj:rpm:${projectId}`,
  projectTpm: (projectId: string) => `${P}:pj:tpm:${projectId}`,
  projectTpmTotal: (projectId: string) => `${P}:pj:tpmsum:${projectId}`,
  projectSpendDay: (projectId: string, day: string) => `${P}:pj:spend:pd:${projectId}:${day}`,
  projectSpendMonth: (projectId: string, month: string) => `${P}:pj:spend:pm:${projectId}:${month}`,
  projectReservations: (projectId: string) => `${P}:pj:resv:${projectId}`,
  // Budget thresholds already announced in one period (HASH field = fraction or "exhausted"), per key
  // ("k") or project ("p") and UTC day or month: a crossing is announced once.
  budgetAlerts: (scope: 'k' | 'p', id: string, period: string) => `${P}:alert:${scope}:${id}:${period}`,
  // Usage rows waiting for Postgres (LIST of JSON rows), drained by the cron trigger.
  usageSpool: () => `${P}:spool:usage`,
  // Spooled or fresh usage rows Postgres rejected (bad data, not an outage): LIST kept for an operator.
  usageSpoolDead: () => `${P}:spool:usage:dead`,
  // Failed admin sign-ins per client IP (@upstash/ratelimit fixed window; it appends ":<ip>:<window>").
  adminAuthFailures: () => `${P}:adminfail`,
  // A provider's circuit breaker and health figures (HASH, fields in redis/circuit-lua.ts), 7 days after its last outcome.
  circuit: (providerId: string) => `${P}:circuit:${providerId}`,
  // Which provider created a Responses API response (JSON: key, model, provider), so follow-ups
  // (previous_response_id, GET, DELETE) go to the provider that stores it.
  response: (responseId: string) => `${P}:resp:${responseId}`,
  // A prepaid project's balance (HASH: credit, cid, spent; redis/balance.ts), no TTL: rebuilt from Postgres
  // when missing.
  balance: (projectId: string) => `${P}:pj:bal:${projectId}`,
  // A rolling window's buckets (HASH, src/billing/windows.ts), per key ("k") or project ("p") and period;
  // expires one period after its last write.
  window: (scope: 'k' | 'p', id: string, period: string) => `${P}:win:${scope}:${id}:${period}`,
  // Wrong redemption codes per virtual key (@upstash/ratelimit fixed window; it appends ":<key id>:<window>").
  redeemFailures: () => `${P}:redeemfail`,
  // Prometheus counters and histograms (HASH field = "<metric>{<labels>}", value = number).
  metrics: () => `${P}:metrics`,
}
