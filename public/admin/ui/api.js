// Thin fetch wrapper for the admin API: bearer auth, OpenAI-shaped errors, 401 handling.
const TOKEN_KEY = 'nexusai.adminToken'

export const getToken = () => sessionStorage.getItem(TOKEN_KEY)
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token)
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY)

export class ApiError extends Error {
  constructor(status, message, { param = null, type = null, code = null } = {}) {
    super(message)
    this.status = status
    this.param = param
    this.type = type
    this.code = code
  }
  get unauthorized() {
    return this.status === 401
  }
}

let unauthorizedHandler = () => {}
export const onUnauthorized = (fn) => (unauthorizedHandler = fn)

async function errorFrom(res) {
  const text = await res.text().catch(() => '')
  try {
    const err = JSON.parse(text).error
    if (err && (err.message || err.code)) {
      return new ApiError(res.status, err.message || String(err.code), err)
    }
  } catch {
    // not JSON; fall through
  }
  const snippet = text.trim().slice(0, 200)
  return new ApiError(res.status, `HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`)
}

/**
 * Call the admin API. Returns parsed JSON (null for 204), or the Response when opts.raw.
 * Throws ApiError. A 401 also clears the token and triggers the unauthorized handler.
 */
export async function api(method, path, body, { raw = false, auth = true } = {}) {
  const headers = { Accept: 'application/json' }
  if (auth) headers.Authorization = `Bearer ${getToken() ?? ''}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let res
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch (e) {
    throw new ApiError(0, `Network error: could not reach the server (${e.message})`)
  }
  if (res.status === 401 && auth) {
    const err = await errorFrom(res)
    clearToken()
    unauthorizedHandler(err)
    throw err
  }
  if (!res.ok) throw await errorFrom(res)
  if (raw) return res
  if (res.status === 204) return null
  const text = await res.text()
  return text ? JSON.parse(text) : null
}

export const get = (path) => api('GET', path)
export const post = (path, body) => api('POST', path, body ?? {})
export const patch = (path, body) => api('PATCH', path, body)
export const put = (path, body) => api('PUT', path, body)
export const del = (path) => api('DELETE', path)

/** List endpoints answer {"object":"list","data":[...],"next_cursor"?}; follow the cursor (up to 20 pages). */
export const list = async (path) => {
  const out = []
  let cursor = null
  for (let page = 0; page < 20; page++) {
    const sep = path.includes('?') ? '&' : '?'
    const r = await get(cursor ? `${path}${sep}limit=500&cursor=${encodeURIComponent(cursor)}` : path)
    if (Array.isArray(r)) return r
    out.push(...(r?.data ?? []))
    cursor = r?.next_cursor
    if (!cursor) break
  }
  return out
}

export const qs = (params) => {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}

/** Drop null/'' values so the server applies its defaults (used for create bodies). */
export const dropEmpty = (obj) =>
  Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== ''))
