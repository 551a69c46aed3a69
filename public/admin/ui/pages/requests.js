// Request log: the most recent usage rows (one per request), filterable by key, project, model and status.
import { get, list, qs } from '../api.js'
import { DASH, dateTime, int, money, relative } from '../format.js'
import { attempt, badge, h, loading, table } from '../ui.js'

const state = { api_key_id: '', project_id: '', model: '', status: '' }
const STATUSES = { '': 'Any status', ok: 'Succeeded (< 400)', error: 'Failed (≥ 400)', 429: '429 only' }

const field = (label, input) =>
  h('label', { class: 'field field-inline' }, h('span', { class: 'field-label' }, label), input)
const select = (name, options, value) =>
  h(
    'select',
    { name, value },
    Object.entries(options).map(([v, label]) => h('option', { value: v }, label)),
  )

const statusBadge = (r) =>
  badge(String(r.status), r.status < 400 ? 'good' : r.status === 429 ? 'warn' : 'bad', r.error_code ?? '')

export default {
  title: 'Request log',
  async render({ content, actions, isCurrent }) {
    const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh')
    actions.append(refresh)
    const keys = await list('/admin/api-keys').catch(() => [])
    if (!isCurrent()) return
    const keyNames = new Map(keys.map((k) => [k.id, k.name]))
    const form = h(
      'form',
      { class: 'filters', testid: 'requests-filters' },
      field(
        'API key',
        select('api_key_id', { '': 'All keys', ...Object.fromEntries(keyNames) }, state.api_key_id),
      ),
      field(
        'Project',
        h('input', { name: 'project_id', value: state.project_id, placeholder: 'any', size: 10 }),
      ),
      field('Model', h('input', { name: 'model', value: state.model, placeholder: 'any', size: 12 })),
      field('Status', select('status', STATUSES, state.status)),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'requests-apply' }, 'Apply'),
    )
    const tableEl = h('div')
    content.replaceChildren(form, tableEl)

    const load = async () => {
      tableEl.replaceChildren(loading())
      const page = await get(`/admin/usage/logs${qs({ ...state, limit: 100 })}`)
      if (!isCurrent()) return
      tableEl.replaceChildren(
        table(
          [
            {
              label: 'When',
              class: 'nowrap',
              cell: (r) => h('span', { title: dateTime(r.created_at) }, relative(r.created_at)),
            },
            { label: 'Status', cell: statusBadge },
            {
              label: 'Model',
              cell: (r) => [
                h('div', null, r.model),
                r.upstream_model && r.upstream_model !== r.model
                  ? h('div', { class: 'muted small' }, r.upstream_model)
                  : null,
              ],
            },
            { label: 'Provider', cell: (r) => r.provider ?? DASH },
            {
              label: 'Key / project',
              cell: (r) => [
                h('div', null, keyNames.get(r.api_key_id) ?? r.api_key_id),
                h('div', { class: 'muted small' }, r.project_id),
              ],
            },
            {
              label: 'Tokens',
              class: 'num',
              cell: (r) => `${int(r.prompt_tokens)} + ${int(r.completion_tokens)}`,
            },
            { label: 'Cost', class: 'num', cell: (r) => money(r.cost_usd) },
            { label: 'Latency', class: 'num', cell: (r) => `${int(r.latency_ms)} ms` },
            { label: 'Request id', cell: (r) => h('code', { class: 'small' }, r.request_id) },
          ],
          page.data,
          {
            testid: 'requests-table',
            rowAttrs: () => ({ testid: 'request-row' }),
            empty: 'No requests match these filters in the last 30 days.',
          },
        ),
      )
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      for (const k of Object.keys(state)) state[k] = form.elements[k].value.trim()
      attempt(load)
    })
    refresh.addEventListener('click', () => attempt(load))
    await load()
  },
}
