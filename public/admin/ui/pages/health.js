// Health: GET /healthz?deep=1 (no auth). A degraded answer may come with a 5xx status; show it anyway.
import { dateTime, int } from '../format.js'
import { badge, h, loading, showError } from '../ui.js'

function dependency(name, d) {
  const ok = d?.ok === true
  return h(
    'div',
    { class: `card health-card ${ok ? 'ok' : 'bad'}`, testid: `health-${name.toLowerCase()}` },
    h(
      'div',
      { class: 'card-head' },
      h('h2', null, name),
      ok ? badge('ok', 'good') : badge(d ? 'failing' : 'unknown', 'bad'),
    ),
    h('div', { class: 'stat-value' }, d?.latency_ms == null ? '—' : `${int(d.latency_ms)} ms`),
    h('div', { class: 'stat-sub' }, 'latency'),
    d?.error ? h('pre', { class: 'health-error' }, d.error) : null,
  )
}

export default {
  title: 'Health',
  async render({ content, actions, isCurrent }) {
    const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh')
    actions.append(refresh)

    const load = async () => {
      content.replaceChildren(loading())
      let res
      let body = null
      try {
        res = await fetch('/healthz?deep=1', { headers: { Accept: 'application/json' }, cache: 'no-store' })
        body = await res.json().catch(() => null)
      } catch (e) {
        if (isCurrent()) {
          content.replaceChildren(h('p', { class: 'empty' }, 'Health endpoint unreachable.'))
          showError(new Error(`Network error: could not reach /healthz (${e.message})`))
        }
        return
      }
      if (!isCurrent()) return
      if (!body || typeof body !== 'object') {
        content.replaceChildren()
        showError(new Error(`Health check returned HTTP ${res.status} without a JSON body`))
        return
      }
      const status = body.status ?? (res.ok ? 'ok' : 'degraded')
      content.replaceChildren(
        h(
          'div',
          { class: `health-status ${status === 'ok' ? 'ok' : 'bad'}`, testid: 'health-status' },
          h('span', { class: 'dot' }),
          h('strong', null, status === 'ok' ? 'All systems operational' : `Status: ${status}`),
          h(
            'span',
            { class: 'muted' },
            ` · HTTP ${res.status} · checked ${dateTime(new Date().toISOString())}`,
          ),
        ),
        h(
          'div',
          { class: 'health-grid' },
          dependency('Postgres', body.postgres),
          dependency('Redis', body.redis),
        ),
      )
    }
    refresh.addEventListener('click', load)
    await load()
  },
}
