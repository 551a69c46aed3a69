import { describe, expect, it } from 'vitest'
import type { AttemptError } from '../../src/upstream/attempt'
import { isRetryable } from '../../src/upstream/fallback'

const status = (s: number): AttemptError => ({
  reason: 'upstream_status',
  status: s,
  retryAfterMs: null,
  body: '',
  contentType: '',
})

describe('isRetryable', () => {
  it.each([
    [{ reason: 'timeout' } as AttemptError, true],
    [{ reason: 'network' } as AttemptError, true],
    [{ reason: 'client_gone' } as AttemptError, false],
    [status(429), true],
    [status(500), true],
    [status(503), true],
    [status(408), true],
    [status(400), false],
    [status(404), false],
    [status(413), false],
    [status(422), false],
    [status(401), false],
  ])('%o → %s', (error, expected) => expect(isRetryable(error)).toBe(expected))
})
