import * as z from 'zod/mini'
import type { ProviderRef } from '../db/admin-catalog'
import { GatewayError } from '../errors'
import { isStorableText, Uuid } from './schemas'

// Query strings and path ids of the admin routes, checked like bodies: a bad value is a 400 naming it.
// An empty parameter (`?model=`) means "no filter", as forms send it.
export function parseQuery<S extends z.ZodMiniType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(query).filter(([, value]) => value !== '')),
  )
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const param = issue.path.map(String).join('.') || null
  throw new GatewayError({
    code: 'invalid_request_error',
    message: `Invalid value for '${param ?? 'query'}': ${issue.message}`,
    param,
  })
}

// A malformed id cannot name a row, so it is answered like an unknown one.
export function rowId(id: string, what: string): string {
  if (!Uuid.safeParse(id).success) throw notFound(what, id)
  return id
}

// A free-text path id (a project's) Postgres could not even compare: a 400 naming it, not a store failure.
export function storedText(value: string, param: string): string {
  if (isStorableText(value)) return value
  throw new GatewayError({
    code: 'invalid_request_error',
    message: `Invalid value for '${param}': must not contain NUL characters or unpaired surrogates.`,
    param,
  })
}

// How an operator names a provider in a path or a body: its id, its number (the seed's
// `PATCH /admin/providers/1`) or its unique name. Names cannot be all digits or a UUID (see ProviderCreate).
export function providerRef(ref: string): ProviderRef {
  if (!isStorableText(ref)) return { number: 0 } // names no provider
  if (Uuid.safeParse(ref).success) return { id: ref }
  if (/^[1-9]\d{0,9}$/.test(ref) && Number(ref) <= 2_147_483_647) return { number: Number(ref) }
  return { name: ref }
}

export function notFound(what: string, id: string): GatewayError {
  return new GatewayError({ code: 'not_found', message: `No ${what} with id '${id}'.` })
}

export const PageQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 100),
  cursor: z.optional(z.string().check(z.maxLength(200))),
})

// Opaque keyset cursors: the sort key of the last row returned, base64url-encoded.
function encodeCursor(parts: string[]): string {
  return btoa(parts.join('|')).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function decodeCursor(cursor: string, patterns: RegExp[]): string[] {
  let parts: string[] = []
  try {
    parts = atob(cursor.replace(/-/g, '+').replace(/_/g, '/')).split('|')
  } catch {
    // fall through to the refusal below
  }
  if (parts.length !== patterns.length || !parts.every((part, i) => patterns[i]!.test(part))) {
    throw new GatewayError({
      code: 'invalid_request_error',
      message: 'Invalid cursor; pass the next_cursor of a previous page.',
      param: 'cursor',
    })
  }
  return parts
}

// Rows are fetched with limit + 1: the extra one only says whether another page exists.
export function page<T, W>(
  rows: T[],
  limit: number,
  serialize: (row: T) => W,
  cursorOf: (row: T) => string[],
) {
  const data = rows.slice(0, limit)
  const last = data.at(-1)
  return {
    object: 'list' as const,
    data: data.map(serialize),
    next_cursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null,
  }
}
