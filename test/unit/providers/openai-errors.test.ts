import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/upstream/fallback'
import type { AttemptError } from '../../../src/upstream/attempt'
import type { Target } from '../../../src/upstream/targets'

const target = { type: 'openai' } as Target
const status = (s: number, body = ''): AttemptError => ({
  reason: 'upstream_status',
  status: s,
  retryAfterMs: null,
  body,
  contentType: '',
  headers: new Headers(),
})

describe('OpenAI error table', () => {
  it.each([
    [{ reason: 'timeout' } as AttemptError, 'retry'],
    [{ reason: 'network' } as AttemptError, 'retry'],
    [status(429), 'retry'],
    [status(500), 'retry'],
    [status(503), 'retry'],
    [status(408), 'retry'],
    [status(409), 'retry'],
    [status(400), 'relay'],
    [status(404), 'relay'],
    [status(413), 'relay'],
    [status(422), 'relay'],
    [status(401), 'fallback'],
    [status(403), 'fallback'],
    [status(402), 'fallback'],
  ])('%o → %s', (error, action) => expect(decide(target, error).action).toBe(action))

  it('relays the upstream message in OpenAI shape, and a generic one for a non-JSON body', () => {
    const body = JSON.stringify({
      error: { message: 'bad', type: 'invalid_request_error', param: 'x', code: 'c' },
    })
    expect(decide(target, status(400, body))).toEqual({
      action: 'relay',
      status: 400,
      error: { message: 'bad', type: 'invalid_request_error', param: 'x', code: 'c' },
    })
    expect(decide(target, status(404, '<html>'))).toMatchObject({
      error: { message: 'The upstream rejected the request (HTTP 404).', type: 'invalid_request_error' },
    })
  })
})
