// Audit log: who changed what, with before/after JSON.
import { list, qs } from '../api.js'
import { dateTime, relative } from '../format.js'
import { attempt, h, jsonDetails, loading, table } from '../ui.js'

let limit = '100'

export default {
  title: 'Audit',
  async render({ content, actions, isCurrent }) {
    const limitSel = h(
      'select',
      { 'aria-label': 'Number of entries', value: limit },
      ['50', '100', '200', '500'].map((n) => h('option', { value: n }, `Last ${n}`)),
    )
    const search = h('input', {
      type: 'search',
      class: 'search',
      placeholder: 'Filter action, target, actor…',
      'aria-label': 'Filter audit log',
    })
    const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh')
    actions.append(search, limitSel, refresh)
    let entries = []

    const draw = () => {
      const q = search.value.trim().toLowerCase()
      const rows = entries.filter((e) =>
        [e.action, e.target_type, e.target_id, e.actor].some((v) =>
          String(v ?? '')
            .toLowerCase()
            .includes(q),
        ),
      )
      content.replaceChildren(
        table(
          [
            {
              label: 'When',
              class: 'nowrap',
              cell: (e) => h('span', { title: relative(e.created_at) }, dateTime(e.created_at)),
            },
            {
              label: 'Actor',
              cell: (e) => h('code', { class: 'small', title: 'Admin token fingerprint' }, e.actor ?? '—'),
            },
            { label: 'Action', cell: (e) => h('span', { class: 'strong' }, e.action) },
            {
              label: 'Target',
              cell: (e) => [
                e.target_type ?? '',
                ' ',
                e.target_id ? h('code', { class: 'muted small' }, e.target_id) : null,
              ],
            },
            { label: 'Before', class: 'json-cell', cell: (e) => jsonDetails('before', e.before) },
            { label: 'After', class: 'json-cell', cell: (e) => jsonDetails('after', e.after) },
          ],
          rows,
          {
            testid: 'audit-table',
            rowAttrs: () => ({ testid: 'audit-row' }),
            empty: entries.length ? 'No entries match.' : 'No audit entries yet.',
          },
        ),
      )
    }

    const load = async () => {
      content.replaceChildren(loading())
      const data = await list(`/admin/audit${qs({ limit })}`)
      if (!isCurrent()) return
      entries = data.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))
      draw()
    }
    search.addEventListener('input', draw)
    limitSel.addEventListener('change', () => {
      limit = limitSel.value
      attempt(load)
    })
    refresh.addEventListener('click', () => attempt(load))
    await load()
  },
}
