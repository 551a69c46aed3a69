// Number, money and date formatting. Money/tokens use en-US grouping ($1,234.56); dates use local time.
const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const usd6 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 6,
  maximumFractionDigits: 6,
})
const usdPrice = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 6,
})
const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export const DASH = '—'

const num = (v) => (v === null || v === undefined || v === '' ? null : Number(v))

/** $1,234.56; tiny non-zero amounts get 6 decimals ($0.000150). */
export function money(v) {
  const n = num(v)
  if (n === null || Number.isNaN(n)) return DASH
  if (n !== 0 && Math.abs(n) < 0.01) return Math.abs(n) < 0.000001 ? '<$0.000001' : usd6.format(n)
  return usd2.format(n)
}

/** Unit prices: keep up to 6 significant decimals ($0.075, $2.50). */
export function price(v) {
  const n = num(v)
  return n === null || Number.isNaN(n) ? DASH : usdPrice.format(n)
}

export function int(v) {
  const n = num(v)
  return n === null || Number.isNaN(n) ? DASH : intFmt.format(n)
}

export const compact = (n) => compactFmt.format(n)

export function pct(part, whole) {
  if (!whole) return DASH
  return `${((100 * part) / whole).toFixed(1)}%`
}

/** Local date + time, e.g. "Nov 26, 2026, 9:05 AM". */
export function dateTime(iso) {
  if (!iso) return DASH
  const d = new Date(iso)
  return Number.isNaN(d.getTime())
    ? String(iso)
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** Local date only, e.g. "Nov 26, 2026". */
export function date(iso) {
  if (!iso) return DASH
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(undefined, { dateStyle: 'medium' })
}

export function relative(iso, { never = 'never' } = {}) {
  if (!iso) return never
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  const secs = (d.getTime() - Date.now()) / 1000
  const units = [
    ['year', 31536000],
    ['month', 2592000],
    ['week', 604800],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ]
  for (const [unit, size] of units) {
    if (Math.abs(secs) >= size) return rtf.format(Math.round(secs / size), unit)
  }
  return Math.abs(secs) < 45 ? 'just now' : rtf.format(Math.round(secs), 'second')
}

/** ISO -> value for <input type="datetime-local"> in local time. */
export function toLocalInput(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
}

/** <input type="datetime-local"> value (local) -> ISO string, '' -> null. */
export const fromLocalInput = (v) => (v ? new Date(v).toISOString() : null)

/** YYYY-MM-DD for a local Date (for <input type="date">). */
export function ymd(d) {
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}
