// Model mappings: public model name -> provider + upstream model, with priority/weight routing.
import { del, dropEmpty, list, patch, post } from '../api.js'
import { int } from '../format.js'
import { attempt, badge, confirmDialog, formDialog, h, loading, table } from '../ui.js'

const fields = (providers) => [
  { name: 'model', label: 'Model (as clients request it)', required: true, placeholder: 'gpt-4o-mini' },
  {
    name: 'provider_id',
    label: 'Provider',
    type: 'select',
    required: true,
    options: [
      { value: '', label: 'Choose a provider…' },
      ...providers.map((p) => ({ value: p.id, label: `${p.name}${p.enabled ? '' : ' (disabled)'}` })),
    ],
  },
  { name: 'upstream_model', label: 'Upstream model', required: true, placeholder: 'gpt-4o-mini-2024-07-18' },
  {
    name: 'priority',
    label: 'Priority',
    type: 'int',
    hint: 'Lower is tried first; higher ones are fallbacks',
  },
  { name: 'weight', label: 'Weight', type: 'int', hint: 'Load share among mappings with equal priority' },
  {
    name: 'capabilities',
    label: 'Capabilities (JSON)',
    type: 'json',
    wide: true,
    placeholder: '{"sampling": false, "thinking": "adaptive"}',
    hint: 'What the upstream model accepts: anthropic_version, sampling, thinking, default_max_tokens, …',
  },
  { name: 'enabled', label: 'Enabled', type: 'checkbox' },
]

export default {
  title: 'Model mappings',
  async render({ content, actions, isCurrent }) {
    let mappings = []
    let providers = []
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-mapping' },
      '+ Add mapping',
    )
    actions.append(create)

    const providerName = (m) =>
      m.provider_name ?? providers.find((p) => p.id === m.provider_id)?.name ?? m.provider_id
    const path = (m) => `/admin/model-mappings/${encodeURIComponent(m.id)}`
    const sorted = () =>
      [...mappings].sort((a, b) => a.model.localeCompare(b.model) || (a.priority ?? 0) - (b.priority ?? 0))
    const upsert = (m) => {
      const i = mappings.findIndex((x) => x.id === m.id)
      if (i >= 0) mappings[i] = m
      else mappings.push(m)
      draw()
    }

    const draw = () => {
      let prev = null
      content.replaceChildren(
        table(
          [
            {
              label: 'Model',
              cell: (m) => {
                const first = m.model !== prev
                prev = m.model
                return first ? h('span', { class: 'strong' }, m.model) : h('span', { class: 'muted' }, '↳')
              },
            },
            { label: 'Provider', cell: providerName },
            { label: 'Upstream model', cell: (m) => h('code', { class: 'small' }, m.upstream_model) },
            { label: 'Priority', class: 'num', cell: (m) => int(m.priority) },
            { label: 'Weight', class: 'num', cell: (m) => int(m.weight) },
            {
              label: 'Status',
              cell: (m) => (m.enabled ? badge('enabled', 'good') : badge('disabled', 'neutral')),
            },
            {
              label: '',
              class: 'actions',
              cell: (m) => [
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'mapping-toggle', onclick: () => toggle(m) },
                  m.enabled ? 'Disable' : 'Enable',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'mapping-edit', onclick: () => edit(m) },
                  'Edit',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-sm btn-danger-ghost',
                    testid: 'mapping-delete',
                    onclick: () => remove(m),
                  },
                  'Delete',
                ),
              ],
            },
          ],
          sorted(),
          {
            testid: 'mappings-table',
            rowAttrs: (m) => ({
              testid: 'mapping-row',
              'data-mapping-id': m.id,
              class: m.enabled ? '' : 'row-dim',
            }),
            empty: providers.length
              ? 'No model mappings yet.'
              : 'Add a provider first, then map models to it.',
          },
        ),
      )
    }

    // <select> values are strings; send the provider id in its original type (number or string)
    const withProviderId = (obj, original) => {
      if (!('provider_id' in obj)) return obj
      const id = providers.find((p) => String(p.id) === obj.provider_id)?.id ?? obj.provider_id
      const out = { ...obj, provider_id: id }
      if (original && id === original.provider_id) delete out.provider_id
      return out
    }
    const toggle = (m) => attempt(async () => upsert(await patch(path(m), { enabled: !m.enabled })))
    const edit = (m) =>
      formDialog({
        title: `Edit mapping for “${m.model}”`,
        fields: fields(providers),
        values: m,
        submitTestId: 'mapping-submit',
        onSubmit: async (_all, changed) => {
          const body = withProviderId(changed, m)
          if (Object.keys(body).length) upsert(await patch(path(m), body))
        },
      })
    const remove = async (m) => {
      const ok = await confirmDialog({
        title: 'Delete mapping?',
        message: `${m.model} → ${providerName(m)} / ${m.upstream_model} will no longer be routed.`,
        okLabel: 'Delete',
        danger: true,
      })
      if (!ok) return
      await attempt(async () => {
        await del(path(m))
        mappings = mappings.filter((x) => x.id !== m.id)
        draw()
      })
    }
    create.addEventListener('click', () =>
      formDialog({
        title: 'Add model mapping',
        fields: fields(providers),
        values: {
          provider_id: providers.length === 1 ? providers[0].id : '',
          priority: 1,
          weight: 1,
          enabled: true,
        },
        submitLabel: 'Add mapping',
        submitTestId: 'mapping-submit',
        onSubmit: async (values) =>
          upsert(await post('/admin/model-mappings', withProviderId(dropEmpty(values)))),
      }),
    )

    content.replaceChildren(loading())
    const [m, p] = await Promise.all([list('/admin/model-mappings'), list('/admin/providers')])
    if (!isCurrent()) return
    mappings = m
    providers = p
    draw()
  },
}
