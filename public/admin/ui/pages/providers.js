// Upstream providers: list, create, edit, enable/disable, circuit breaker health and reset.
import { dropEmpty, list, patch, post } from '../api.js'
import { int } from '../format.js'
import { attempt, badge, formDialog, h, loading, table } from '../ui.js'
import { keysDialog, sourceLabel } from './provider-keys.js'

const BREAKER = { closed: 'good', half_open: 'warn', open: 'bad' }

// The breaker's state (with a Reset button unless closed), its health figures below, its counters in
// the tooltip.
function health(p, reset) {
  const hl = p.health
  if (!hl) return h('span', { class: 'muted small' }, '—')
  const tip = [
    `${hl.failures} consecutive failures (opens at ${hl.threshold})`,
    hl.retry_at ? `retry at ${new Date(hl.retry_at).toLocaleTimeString()}` : null,
    `cooldown ${int(hl.cooldown_ms)} ms`,
  ]
    .filter(Boolean)
    .join(' · ')
  const figures = [
    hl.success_ratio == null ? null : `${Math.round(hl.success_ratio * 100)}%`,
    hl.latency_ms == null ? null : `${int(hl.latency_ms)} ms`,
  ].filter(Boolean)
  return h(
    'div',
    { class: 'nowrap', testid: 'provider-health', 'data-state': hl.state },
    badge(hl.state.replace('_', '-'), BREAKER[hl.state] ?? 'neutral', tip),
    hl.state === 'closed'
      ? ''
      : [
          ' ',
          h(
            'button',
            { type: 'button', class: 'btn btn-sm', testid: 'provider-reset', onclick: () => reset(p) },
            'Reset',
          ),
        ],
    figures.length ? h('div', { class: 'muted small' }, figures.join(' · ')) : '',
  )
}

const fields = [
  { name: 'name', label: 'Name', required: true, placeholder: 'e.g. openai' },
  {
    name: 'type',
    label: 'Type',
    type: 'select',
    options: [
      { value: 'openai', label: 'OpenAI-compatible' },
      { value: 'anthropic', label: 'Anthropic (Messages API)' },
      { value: 'gemini', label: 'Google Gemini' },
    ],
    hint: 'The protocol spoken upstream; base URL includes the version (…/v1, …/v1beta).',
  },
  {
    name: 'base_url',
    label: 'Base URL',
    type: 'url',
    required: true,
    wide: true,
    placeholder: 'https://api.openai.com/v1',
  },
  {
    name: 'api_key_ref',
    label: 'API key reference',
    wide: true,
    placeholder: 'PROVIDER_OPENAI_MAIN_API_KEY',
    hint: 'Name of the Worker secret holding the upstream key — not the key itself.',
  },
  { name: 'timeout_ms', label: 'Timeout (ms)', type: 'int', min: '1' },
  { name: 'max_retries', label: 'Max retries', type: 'int' },
  { name: 'enabled', label: 'Enabled', type: 'checkbox' },
]

// "2 stored keys (1 invalid)": how many, and how many cannot serve.
function storedSummary(p) {
  const keys = p.stored_keys ?? []
  const out = keys.filter((k) => k.state !== 'active').length
  return `${keys.length} stored ${keys.length === 1 ? 'key' : 'keys'}${out ? ` (${out} not active)` : ''}`
}

export default {
  title: 'Providers',
  async render({ content, actions, isCurrent }) {
    let providers = []
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-provider' },
      '+ Add provider',
    )
    actions.append(create)

    const upsert = (p) => {
      const i = providers.findIndex((x) => x.id === p.id)
      if (i >= 0) providers[i] = p
      else providers.push(p)
      draw()
    }

    const draw = () =>
      content.replaceChildren(
        table(
          [
            {
              label: 'Name',
              cell: (p) => h('span', { class: 'strong nowrap', title: `type: ${p.type}` }, p.name),
            },
            {
              label: 'Base URL',
              cell: (p) => {
                const url = p.effective_base_url ?? p.base_url
                const overridden = url !== p.base_url
                return h(
                  'span',
                  {},
                  h('code', { class: 'small url', title: url }, url),
                  overridden
                    ? h('span', { class: 'muted small', title: `stored: ${p.base_url}` }, ' (env override)')
                    : '',
                )
              },
            },
            {
              label: 'Upstream key',
              cell: (p) => [
                p.has_api_key
                  ? badge('key configured', 'good', sourceLabel(p))
                  : badge('no key', 'bad', `Secret ${p.api_key_ref ?? ''} is not set`),
                ' ',
                p.api_key_source === 'stored'
                  ? h('span', { class: 'muted small' }, storedSummary(p))
                  : p.api_key_ref
                    ? h('code', { class: 'muted small' }, p.api_key_ref)
                    : null,
              ],
            },
            {
              label: 'Status',
              cell: (p) => (p.enabled ? badge('enabled', 'good') : badge('disabled', 'neutral')),
            },
            { label: 'Breaker', cell: (p) => health(p, reset) },
            {
              label: 'Timeout',
              class: 'num',
              cell: (p) => [
                p.timeout_ms == null ? '—' : `${int(p.timeout_ms)} ms`,
                h(
                  'div',
                  { class: 'muted small nowrap' },
                  `${int(p.max_retries)} ${p.max_retries === 1 ? 'retry' : 'retries'}`,
                ),
              ],
            },
            {
              label: '',
              class: 'actions',
              cell: (p) => [
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-sm',
                    testid: 'provider-toggle',
                    onclick: () => toggle(p),
                  },
                  p.enabled ? 'Disable' : 'Enable',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'provider-edit', onclick: () => edit(p) },
                  'Edit',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'provider-keys', onclick: () => keys(p) },
                  'Keys',
                ),
              ],
            },
          ],
          providers,
          {
            testid: 'providers-table',
            rowAttrs: (p) => ({
              testid: 'provider-row',
              'data-provider-id': p.id,
              class: p.enabled ? '' : 'row-dim',
            }),
            empty: 'No providers yet. Add one, then map models to it.',
          },
        ),
      )

    const path = (p) => `/admin/providers/${encodeURIComponent(p.id)}`
    const reset = (p) => attempt(async () => upsert(await post(`${path(p)}/reset`, {})))
    const keys = (p) =>
      keysDialog(p, async () => {
        const fresh = (await list('/admin/providers')).find((x) => x.id === p.id) ?? p
        upsert(fresh)
        return fresh
      })
    const toggle = (p) => attempt(async () => upsert(await patch(path(p), { enabled: !p.enabled })))
    const edit = (p) =>
      formDialog({
        title: `Edit provider “${p.name}”`,
        fields,
        values: p,
        submitTestId: 'provider-submit',
        onSubmit: async (_all, changed) => {
          if (Object.keys(changed).length) upsert(await patch(path(p), changed))
        },
      })
    create.addEventListener('click', () =>
      formDialog({
        title: 'Add provider',
        fields,
        values: { type: 'openai', enabled: true, timeout_ms: 30000, max_retries: 1 },
        submitLabel: 'Add provider',
        submitTestId: 'provider-submit',
        onSubmit: async (values) => upsert(await post('/admin/providers', dropEmpty(values))),
      }),
    )

    content.replaceChildren(loading())
    const data = await list('/admin/providers')
    if (!isCurrent()) return
    providers = data
    draw()
  },
}
