// Prices: USD per 1M tokens, versioned by effective_from. Shows the current price and history per model.
import { list, put } from '../api.js'
import { dateTime, price } from '../format.js'
import { badge, formDialog, h, loading, table } from '../ui.js'

const fields = (isNew) => [
  { name: 'model', label: 'Model', required: true, readonly: !isNew, placeholder: 'gpt-4o-mini' },
  {
    name: 'input_per_million',
    label: 'Input, USD per 1M tokens',
    type: 'decimal',
    required: true,
    placeholder: '0.15',
  },
  {
    name: 'output_per_million',
    label: 'Output, USD per 1M tokens',
    type: 'decimal',
    required: true,
    placeholder: '0.60',
  },
  {
    name: 'effective_from',
    label: 'Effective from (local time)',
    type: 'datetime',
    hint: 'Blank = now. A later date schedules the change; earlier versions are kept as history.',
  },
]

const time = (v) => new Date(v.effective_from).getTime()

function versionTag(v) {
  if (v.current) return badge('current', 'good')
  return time(v) > Date.now() ? badge('scheduled', 'info') : badge('past', 'neutral')
}

function history(versions) {
  if (versions.length < 2) return h('span', { class: 'muted' }, '1 version')
  return h(
    'details',
    { class: 'history' },
    h('summary', null, `${versions.length} versions`),
    h(
      'table',
      { class: 'mini' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Effective from', 'Input', 'Output', ''].map((t) => h('th', null, t)),
        ),
      ),
      h(
        'tbody',
        null,
        versions.map((v) =>
          h(
            'tr',
            null,
            h('td', { class: 'nowrap' }, dateTime(v.effective_from)),
            h('td', { class: 'num' }, price(v.input_per_million)),
            h('td', { class: 'num' }, price(v.output_per_million)),
            h('td', null, versionTag(v)),
          ),
        ),
      ),
    ),
  )
}

export default {
  title: 'Prices',
  async render({ content, actions, isCurrent }) {
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-price' },
      '+ Price a model',
    )
    actions.append(create)

    const load = async () => {
      const all = await list('/admin/prices')
      if (!isCurrent()) return
      const byModel = new Map()
      for (const v of all) byModel.set(v.model, [...(byModel.get(v.model) ?? []), v])
      const rows = [...byModel.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([model, versions]) => {
          versions.sort((a, b) => time(b) - time(a))
          return { model, versions, current: versions.find((v) => v.current) }
        })
      const cur = (r, key) => (r.current ? price(r.current[key]) : h('span', { class: 'muted' }, 'none'))
      content.replaceChildren(
        h(
          'p',
          { class: 'summary' },
          'USD per 1M tokens. Setting a price adds a new version; earlier versions stay in the history.',
        ),
        table(
          [
            { label: 'Model', cell: (r) => h('span', { class: 'strong nowrap' }, r.model) },
            { label: 'Input / 1M', class: 'num', cell: (r) => cur(r, 'input_per_million') },
            { label: 'Output / 1M', class: 'num', cell: (r) => cur(r, 'output_per_million') },
            {
              label: 'Effective since',
              class: 'nowrap',
              cell: (r) => (r.current ? dateTime(r.current.effective_from) : '—'),
            },
            { label: 'History', cell: (r) => history(r.versions) },
            {
              label: '',
              class: 'actions',
              cell: (r) =>
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'price-edit', onclick: () => edit(r) },
                  'Set price',
                ),
            },
          ],
          rows,
          {
            testid: 'prices-table',
            rowAttrs: (r) => ({ testid: 'price-row', 'data-model': r.model }),
            empty: 'No prices yet.',
          },
        ),
      )
    }

    const open = (isNew, values) =>
      formDialog({
        title: isNew ? 'Price a model' : `Set price for “${values.model}”`,
        fields: fields(isNew),
        values,
        submitLabel: 'Save price',
        submitTestId: 'price-submit',
        onSubmit: async ({ model, effective_from, ...rest }) => {
          const body = effective_from ? { ...rest, effective_from } : rest
          await put(`/admin/prices/${encodeURIComponent(model)}`, body)
          await load()
        },
      })
    const edit = (r) =>
      open(false, {
        model: r.model,
        input_per_million: r.current?.input_per_million,
        output_per_million: r.current?.output_per_million,
      })
    create.addEventListener('click', () => open(true, {}))

    content.replaceChildren(loading())
    await load()
  },
}
