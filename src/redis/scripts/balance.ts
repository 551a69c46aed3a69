import type { Config } from '../../env'
import { hotScript, runHotScript } from '../hot-script'

// A prepaid project's balance in Redis (keys.balance): HASH of `credit` (Σ credits, pico-USD), `cid` (how
// many credit rows that sum holds), `spent` (Σ charges settled since the project turned prepaid, pico-USD);
// balance = credit − spent. The guard reserves against it and the finish step adds to `spent` in their own
// scripts; this one writes what Postgres says. The credit ledger is append-only, so a view with at least as
// many rows is at least as recent: `credit` is replaced only by such a view (a slower writer with an older
// view never undoes a newer one). `spent` is only ever raised: a count above Postgres holds charges settled
// here whose usage rows are not committed yet. Returns {credit, spent} as decimal strings.
const SYNC_BALANCE = `
local cid = tonumber(redis.call('HGET', KEYS[1], 'cid') or '-1')
if tonumber(ARGV[2]) >= cid then redis.call('HSET', KEYS[1], 'credit', ARGV[1], 'cid', ARGV[2]) end
local spent = redis.call('HGET', KEYS[1], 'spent')
if not spent or tonumber(spent) < tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], 'spent', ARGV[3]) end
local now = redis.call('HMGET', KEYS[1], 'credit', 'spent')
return {now[1], now[2]}
`
const syncScript = hotScript(SYNC_BALANCE)

export async function syncBalanceCounters(
  config: Config,
  key: string,
  truth: { creditPico: bigint; creditCount: number; spentPico: bigint },
): Promise<{ creditPico: bigint; spentPico: bigint }> {
  const reply = await runHotScript(
    config,
    syncScript,
    [key],
    [String(truth.creditPico), String(truth.creditCount), String(truth.spentPico)],
  )
  const [credit, spent] = counters(reply)
  if (credit === null || spent === null) throw new Error('Redis: unexpected balance reply')
  return { creditPico: credit, spentPico: spent }
}

// The counters as stored (the client's automatic JSON parsing would round integers above 2^53).
const READ_BALANCE = `return redis.call('HMGET', KEYS[1], 'credit', 'spent')`
const readScript = hotScript(READ_BALANCE)

export async function readBalanceCounters(
  config: Config,
  key: string,
): Promise<{ creditPico: bigint; spentPico: bigint } | null> {
  const [credit, spent] = counters(await runHotScript(config, readScript, [key], []))
  return credit !== null && spent !== null ? { creditPico: credit, spentPico: spent } : null
}

// {credit, spent} as stored (decimal strings, or null when absent) → pico-USD.
function counters(reply: unknown): [bigint | null, bigint | null] {
  if (!Array.isArray(reply)) throw new Error('Redis: unexpected balance reply')
  const pico = (v: unknown) => (v === null || v === undefined ? null : BigInt(String(v)))
  return [pico(reply[0]), pico(reply[1])]
}
