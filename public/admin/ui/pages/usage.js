// Usage: filters, totals strip, SVG chart, table and CSV download.
import { api, get, list, qs } from '../api.js'
import { barChart, columnChart } from '../chart.js'
import { compact, int, money, pct, ymd } from '../format.js'
import { attempt, h, loading, table } from '../ui.js'

const GROUPS = {
  day: { label: 'Day', field: 'day' },
  model: { label: 'Model', field: 'model' },
  provider: { label: 'Provider', field: 'provider' },
  api_key: { label: 'API key', field: 'api_key_id' },
  project: { label: 'Project', field: 'project_id' },
}
const METRICS = {
  cost_usd: { label: 'Cost', fmt: money, axis: (v) => (v >= 1000 ? `$${compact(v)}` : money(v)) },
  requests: { label: 'Requests', fmt: int, axis: compact },
  total_tokens: { label: 'Tokens', fmt: int, axis: compact },
}

const daysAgo = (n) => new Date(Date.now() - n * 86400000)
// Filter state survives navigation between pages.
const state = {
  from: ymd(daysAgo(29)),
  to: ymd(new Date()),
  group_by: 'day',
  api_key_id: '',
  project_id: '',
  model: '',
  provider: '',
}
let metric = 'cost_usd'

function dayAfter(day) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10)
}

/** Every YYYY-MM-DD from..to inclusive (treated as calendar dates, no time zone shifts). */
function dayRange(from, to) {
  const out = []
  const end = Date.parse(`${to}T00:00:00Z`)
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 800; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10))
  }
  return out
}

const field = (label, input) =>
  h('label', { class: 'field field-inline' }, h('span', { class: 'field-label' }, label), input)
const select = (name, options, value) =>
  h(
    'select',
    { name, value },
    Object.entries(options).map(([v, o]) => h('option', { value: v }, o.label ?? o)),
  )

export default {
  title: 'Usage',
  async render({ content, actions, isCurrent }) {
    const csv = h('button', { type: 'button', class: 'btn', testid: 'usage-csv' }, '⤓ Download CSV')
    actions.append(csv)

    const keyNames = new Map()
    const keyOptions = { '': 'All keys' }
    const keys = await list('/admin/api-keys').catch(() => [])
    for (const k of keys) {
      keyNames.set(String(k.id), `${k.name} (${k.key_prefix ?? k.id}…)`)
      keyOptions[k.id] = k.name
    }
    if (!isCurrent()) return

    const form = h(
      'form',
      { class: 'filters', testid: 'usage-filters' },
      field('From', h('input', { type: 'date', name: 'from', value: state.from, required: true })),
      field('To', h('input', { type: 'date', name: 'to', value: state.to, required: true })),
      field('Group by', select('group_by', GROUPS, state.group_by)),
      field('API key', select('api_key_id', keyOptions, state.api_key_id)),
      field(
        'Project',
        h('input', { name: 'project_id', value: state.project_id, placeholder: 'any', size: 10 }),
      ),
      field('Model', h('input', { name: 'model', value: state.model, placeholder: 'any', size: 12 })),
      field(
        'Provider',
        h('input', { name: 'provider', value: state.provider, placeholder: 'any', size: 10 }),
      ),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'usage-apply' }, 'Apply'),
    )
    const totalsEl = h('div', { class: 'totals', testid: 'usage-totals' })
    const metricSel = select('metric', METRICS, metric)
    const chartEl = h('div', { class: 'chart-box' })
    const tableEl = h('div')
    content.replaceChildren(
      form,
      totalsEl,
      h(
        'div',
        { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', null, 'Chart'), field('Metric', metricSel)),
        chartEl,
      ),
      tableEl,
    )

    let result = null
    // The form's `to` is an inclusive date; the API's `to` is exclusive, so send the day after.
    const params = () => ({ ...state, to: dayAfter(state.to) })
    const readForm = () => {
      for (const k of Object.keys(state)) state[k] = form.elements[k].value.trim()
    }

    const label = (row) => {
      const g = GROUPS[state.group_by] ?? GROUPS.day
      const v = row[g.field]
      if (v === null || v === undefined || v === '') return '(none)'
      return g.field === 'api_key_id' ? (keyNames.get(String(v)) ?? String(v)) : String(v)
    }

    const drawChart = () => {
      const m = METRICS[metric]
      const rows = result.data
      const tip = (name, r) => `${name}: ${m.fmt(r?.[metric] ?? 0)}`
      if (state.group_by === 'day') {
        const byDay = new Map(rows.map((r) => [String(r.day).slice(0, 10), r]))
        const days = dayRange(state.from, state.to)
        const items = (days.length ? days : [...byDay.keys()].sort()).map((d) => ({
          label: d.slice(5),
          value: Number(byDay.get(d)?.[metric] ?? 0),
          tip: tip(d, byDay.get(d)),
        }))
        chartEl.replaceChildren(columnChart(items, { axis: m.axis, testid: 'usage-chart' }))
      } else {
        const items = rows
          .map((r) => ({ label: label(r), value: Number(r[metric] ?? 0), tip: tip(label(r), r) }))
          .sort((a, b) => b.value - a.value)
          .slice(0, 15)
        chartEl.replaceChildren(
          items.length
            ? barChart(items, { format: m.fmt, testid: 'usage-chart' })
            : h('div', { class: 'empty', testid: 'usage-chart' }, 'No usage in this range.'),
        )
      }
    }

    const draw = () => {
      const t = result.totals ?? {}
      const stat = (name, value, sub) =>
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'stat-label', title: name }, name),
          h('div', { class: 'stat-value' }, value),
          sub ? h('div', { class: 'stat-sub' }, sub) : null,
        )
      totalsEl.replaceChildren(
        stat('Requests', int(t.requests)),
        stat('Success', int(t.success), pct(Number(t.success), Number(t.requests))),
        stat('Failed', int(t.failed), pct(Number(t.failed), Number(t.requests))),
        stat('Prompt tokens', int(t.prompt_tokens)),
        stat('Completion tokens', int(t.completion_tokens)),
        stat('Total tokens', int(t.total_tokens)),
        stat('Cost', money(t.cost_usd)),
        stat('Charged', money(t.charge_usd)),
      )
      drawChart()
      const g = GROUPS[state.group_by] ?? GROUPS.day
      const rows = [...result.data].sort((a, b) =>
        g.field === 'day'
          ? String(b.day).localeCompare(String(a.day))
          : Number(b.cost_usd) - Number(a.cost_usd),
      )
      const num = (key, fmt = int) => ({ label: key, class: 'num', cell: (r) => fmt(r[key]) })
      tableEl.replaceChildren(
        table(
          [
            {
              label: g.label,
              cell: (r) => h('span', { class: 'strong', title: String(r[g.field] ?? '') }, label(r)),
            },
            { ...num('requests'), label: 'Requests' },
            { ...num('success'), label: 'Success' },
            {
              label: 'Failed',
              class: 'num',
              cell: (r) =>
                Number(r.failed) ? h('span', { class: 'bad-text' }, int(r.failed)) : int(r.failed),
            },
            { ...num('prompt_tokens'), label: 'Prompt tokens' },
            { ...num('completion_tokens'), label: 'Completion tokens' },
            { ...num('total_tokens'), label: 'Total tokens' },
            { ...num('cost_usd', money), label: 'Cost' },
            { ...num('charge_usd', money), label: 'Charged' },
          ],
          rows,
          {
            testid: 'usage-table',
            rowAttrs: () => ({ testid: 'usage-row' }),
            empty: 'No usage in this range.',
          },
        ),
      )
    }

    const load = async () => {
      tableEl.replaceChildren(loading())
      const r = await get(`/admin/usage${qs(params())}`)
      if (!isCurrent()) return
      result = { data: r?.data ?? [], totals: r?.totals ?? {} }
      draw()
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault()
      readForm()
      if (state.from > state.to)
        return attempt(() => Promise.reject(new Error('“From” must be on or before “To”.')))
      attempt(load)
    })
    metricSel.addEventListener('change', () => {
      metric = metricSel.value
      if (result) drawChart()
    })
    csv.addEventListener('click', () =>
      attempt(async () => {
        readForm()
        csv.disabled = true
        try {
          const res = await api('GET', `/admin/usage${qs({ ...params(), format: 'csv' })}`, undefined, {
            raw: true,
          })
          const url = URL.createObjectURL(await res.blob())
          const a = h('a', {
            href: url,
            download: `usage_${state.from}_${state.to}_by-${state.group_by}.csv`,
            hidden: true,
          })
          document.body.append(a)
          a.click()
          a.remove()
          setTimeout(() => URL.revokeObjectURL(url), 10000)
        } finally {
          csv.disabled = false
        }
      }),
    )

    await load()
  },
}
