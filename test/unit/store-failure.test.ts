import { describe, expect, it } from 'vitest'
import { storeFailure } from '../../src/admin/context'

// The admin API's answer to a store error: only a database that did not answer is "unavailable".
describe('storeFailure', () => {
  const wrapped = (code: string) => ({ name: 'DrizzleQueryError', cause: { name: 'NeonDbError', code } })
  const cases: [string, unknown, number, string][] = [
    ['a network failure (no SQLSTATE)', new TypeError('fetch failed'), 503, 'service_unavailable'],
    ['a NUL byte Postgres refused (22021)', wrapped('22021'), 400, 'invalid_request_error'],
    ['a date out of range (22008)', wrapped('22008'), 400, 'invalid_request_error'],
    ['a statement Postgres could not run (42703)', wrapped('42703'), 500, 'internal_error'],
    ['a check constraint (23514)', wrapped('23514'), 500, 'internal_error'],
  ]
  for (const [what, error, status, code] of cases) {
    it(`answers ${what} with ${status} ${code}`, () => {
      const answer = storeFailure(error)
      expect([answer.status, answer.code]).toEqual([status, code])
    })
  }
})
