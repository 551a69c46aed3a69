import { Ratelimit } from '@upstash/ratelimit'
import { Redis } from '@upstash/redis/cloudflare'
import { describe, expect, inject, it } from 'vitest'

// The real Upstash clients, running inside workerd, against the local Upstash REST endpoint
// (scripts/local/upstash-rest.ts) that test/global-setup.ts starts.

const url = inject('upstashUrl')
const token = inject('upstashToken')
const key = (name: string) => `test:upstash:${name}:${crypto.randomUUID()}`

const variants = [
  ['with the client defaults (auto-pipelining, base64 responses)', {}],
  ['with enableAutoPipelining: false', { enableAutoPipelining: false }],
  ['with responseEncoding: false', { responseEncoding: false }],
] as const

describe.each(variants)('The local Upstash endpoint %s', (_, options) => {
  const redis = new Redis({ url, token, retry: false, ...options })

  it('round-trips strings, numbers, JSON objects, unicode and emoji', async () => {
    const k = key('values')
    // "test" and "abcd" are valid base64 themselves, so a response left unencoded would decode to garbage.
    for (const value of ['test', 'abcd', 'hello world', '', 'ünïcödé 中文 😀🎉', 42, -1.5]) {
      await redis.set(k, value)
      expect(await redis.get(k)).toEqual(value)
    }
    const object = { a: 1, nested: { list: [1, 'two', null] }, text: 'héllo 😀' }
    await redis.set(k, object)
    expect(await redis.get(k)).toEqual(object)
  })

  it('returns the stored value "OK" as "OK", also inside an array reply', async () => {
    const k = key('ok')
    expect(await redis.set(k, 'OK')).toBe('OK')
    expect(await redis.get(k)).toBe('OK')
    expect(await redis.mget(k, key('missing'), k)).toEqual(['OK', null, 'OK'])
  })

  it('returns null for a key that does not exist', async () => {
    expect(await redis.get(key('missing'))).toBeNull()
    expect(await redis.hget(key('missing'), 'field')).toBeNull()
  })

  it('returns hgetall as an object with parsed values', async () => {
    const k = key('hash')
    await redis.hset(k, { name: 'näme 😀', count: 2, status: 'OK' })
    expect(await redis.hgetall(k)).toEqual({ name: 'näme 😀', count: 2, status: 'OK' })
  })

  it('returns zrange withScores as a flat member, score list', async () => {
    const k = key('zset')
    await redis.zadd(k, { score: 1, member: 'a' }, { score: 2.5, member: 'b' })
    expect(await redis.zrange(k, 0, -1, { withScores: true })).toEqual(['a', 1, 'b', 2.5])
  })

  it('rejects a failing command with the Redis error message', async () => {
    const k = key('text')
    await redis.set(k, 'not a number')
    await expect(redis.incr(k)).rejects.toThrow('ERR value is not an integer or out of range')
  })

  it('fails a pipeline naming the failed command, and keepErrors returns each error beside the results', async () => {
    const k = key('pipeline')
    const failing = redis.pipeline().set(k, 'x').incr(k).get(k)
    await expect(failing.exec()).rejects.toThrow(
      'Command 2 [ incr ] failed: ERR value is not an integer or out of range',
    )
    const results = await redis.pipeline().set(k, 'x').incr(k).get(k).exec({ keepErrors: true })
    expect(results.map((r) => r.result)).toEqual(['OK', undefined, 'x'])
    expect(results[1]!.error).toBe('ERR value is not an integer or out of range')
  })

  it('runs multi as one transaction and returns every result', async () => {
    const k = key('multi')
    expect(await redis.multi().set(k, 5).incr(k).get(k).exec()).toEqual(['OK', 6, 6])
  })

  it('runs eval with keys and arguments and returns nested arrays', async () => {
    const k = key('eval')
    const result = await redis.eval('return {KEYS[1], ARGV[1], {1, "OK", ARGV[2]}}', [k], ['a b', 'ü'])
    expect(result).toEqual([k, 'a b', [1, 'OK', 'ü']])
  })

  it('returns from scriptLoad the sha1 that evalsha then runs', async () => {
    const nonce = crypto.randomUUID()
    const sha = await redis.scriptLoad(`return ARGV[1] .. "${nonce}"`)
    expect(sha).toMatch(/^[0-9a-f]{40}$/)
    expect(await redis.evalsha(sha, [], ['x'])).toBe(`x${nonce}`)
  })

  it('runs a script with a #!lua shebang: evalsha fails with NOSCRIPT, exec falls back to eval, then evalsha hits', async () => {
    // Real Redis 7 rejects this flag; the endpoint rewrites the shebang and maps the sha as Upstash would.
    const script = redis.createScript<number>(
      `#!lua flags=allow-key-locking\n-- ${crypto.randomUUID()}\nreturn redis.call('INCR', KEYS[1])`,
    )
    const k = key('script')
    await expect(script.evalsha([k], [])).rejects.toThrow('NOSCRIPT')
    expect(await script.exec([k], [])).toBe(1)
    expect(await script.evalsha([k], [])).toBe(2)
    expect(await redis.scriptExists(script.sha1, 'f'.repeat(40))).toEqual([1, 0])
  })

  it('rejects a wrong token with Unauthorized', async () => {
    const intruder = new Redis({ url, token: 'wrong-token', retry: false, ...options })
    await expect(intruder.get(key('any'))).rejects.toThrow('Unauthorized')
  })

  it('answers many parallel calls each with its own correct result', async () => {
    const counter = key('counter')
    const counts = await Promise.all(Array.from({ length: 200 }, () => redis.incr(counter)))
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))

    const keys = Array.from({ length: 50 }, (_, i) => key(`parallel-${i}`))
    await Promise.all(keys.map((k, i) => redis.set(k, { i, text: `välue ${i} 😀` })))
    const values = await Promise.all(keys.map((k) => redis.get(k)))
    expect(values).toEqual(keys.map((_, i) => ({ i, text: `välue ${i} 😀` })))
  })

  it('lets a sliding-window ratelimit of 3 allow three requests and block the fourth', async () => {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(3, '10 s'),
      ephemeralCache: false,
      prefix: key('ratelimit'),
    })
    const results = []
    for (let i = 0; i < 4; i++) results.push(await limiter.limit('user'))
    expect(results.map((r) => r.success)).toEqual([true, true, true, false])
    // A broken endpoint makes ratelimit fail open with reason "timeout" instead of answering.
    expect(results.map((r) => r.reason)).not.toContain('timeout')
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0])
  })
})

describe('The local Upstash endpoint control routes', () => {
  it('report the request count to the bearer of the token and refuse everyone else', async () => {
    const stats = await fetch(`${url}/__stats`, { headers: { authorization: `Bearer ${token}` } })
    expect(stats.status).toBe(200)
    expect(await stats.json()).toEqual({ requests: expect.any(Number) })
    const anonymous = await fetch(`${url}/__stats`)
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toEqual({ error: 'Unauthorized' })
  })
})
