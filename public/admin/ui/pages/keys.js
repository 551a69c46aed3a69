// API keys: list, create, edit, enable/disable, rotate. Raw keys are shown once.
import { list, patch, post } from '../api.js'
import { DASH, date, dateTime, int, money, relative } from '../format.js'
import { spendCells } from '../spend.js'
import { attempt, badge, confirmDialog, copyText, formDialog, h, infoDialog, loading, table } from '../ui.js'

let keys = []
let filter = ''

const fields = (knownModels) => [
  { name: 'name', label: 'Name', required: true, placeholder: 'e.g. checkout-service' },
  { name: 'project_id', label: 'Project ID', required: true, placeholder: 'e.g. shop' },
  {
    name: 'allowed_models',
    label: 'Allowed models (comma-separated)',
    type: 'list',
    wide: true,
    placeholder: 'gpt-4o-mini, gpt-4o',
    hint: `Empty means NO models are allowed — the key cannot call anything.${
      knownModels.length ? ` Mapped models: ${knownModels.join(', ')}` : ''
    }`,
  },
  {
    name: 'rpm_limit',
    label: 'Requests / minute',
    type: 'int',
    placeholder: 'unlimited',
    hint: 'Blank = unlimited',
  },
  {
    name: 'tpm_limit',
    label: 'Tokens / minute',
    type: 'int',
    placeholder: 'unlimited',
    hint: 'Blank = unlimited',
  },
  {
    name: 'daily_budget',
    label: 'Daily budget (USD)',
    type: 'decimal',
    placeholder: 'unlimited',
    hint: 'Blank = unlimited',
  },
  {
    name: 'monthly_budget',
    label: 'Monthly budget (USD)',
    type: 'decimal',
    placeholder: 'unlimited',
    hint: 'Blank = unlimited',
  },
  { name: 'expires_at', label: 'Expires at (local time)', type: 'datetime', hint: 'Blank = never expires' },
  {
    name: 'status',
    label: 'Status',
    type: 'select',
    options: [
      { value: 'active', label: 'Active' },
      { value: 'disabled', label: 'Disabled' },
    ],
  },
]

let modelsCache = null
function knownModels() {
  // suggestions only (fetched once per page visit); never block the form on failure
  modelsCache ??= list('/admin/model-mappings')
    .then((maps) => [...new Set(maps.map((m) => m.model))].sort())
    .catch(() => [])
  return modelsCache
}

function showRawKey(key, heading) {
  const code = h('code', { class: 'raw-key', testid: 'raw-key' }, key.raw_key)
  const copy = h('button', { type: 'button', class: 'btn', testid: 'copy-raw-key' }, 'Copy')
  copy.addEventListener('click', () => copyText(key.raw_key, copy))
  infoDialog({
    title: heading,
    testid: 'raw-key-dialog',
    closeLabel: 'I have saved it',
    content: h(
      'div',
      null,
      h(
        'p',
        { class: 'warning' },
        '⚠ Copy this key now. It will not be shown again — if it is lost, rotate the key to get a new one.',
      ),
      h('div', { class: 'raw-key-box' }, code, copy),
      h('p', { class: 'muted' }, `Key “${key.name}” · project ${key.project_id}`),
    ),
  })
}

function upsert(key) {
  const { raw_key: _omit, ...clean } = key
  const i = keys.findIndex((k) => k.id === clean.id)
  if (i >= 0) keys[i] = clean
  else keys.unshift(clean)
}

const isExpired = (k) => k.expires_at && new Date(k.expires_at).getTime() < Date.now()

function statusCell(k) {
  const expired = isExpired(k)
  const main =
    k.status !== 'active'
      ? badge('disabled', 'neutral')
      : expired
        ? badge('expired', 'bad')
        : badge('active', 'good')
  const expiry = k.expires_at
    ? h(
        'div',
        { class: 'muted small', title: dateTime(k.expires_at) },
        `${expired ? 'expired' : 'expires'} ${date(k.expires_at)}`,
      )
    : null
  return [main, expiry]
}

function modelsCell(k) {
  const models = k.allowed_models ?? []
  if (!models.length)
    return badge('none allowed', 'warn', 'Empty allowed_models: this key cannot call any model')
  const shown = models.slice(0, 3).map((m) => h('span', { class: 'chip' }, m))
  if (models.length > 3) shown.push(h('span', { class: 'chip chip-more' }, `+${models.length - 3}`))
  return h('span', { class: 'chips', title: models.join(', ') }, shown)
}

const limit = (v, unit) => (v === null || v === undefined ? null : `${int(v)} ${unit}`)
const budget = (v, unit) => (v === null || v === undefined ? null : `${money(v)}/${unit}`)
const stacked = (parts) => {
  const p = parts.filter(Boolean)
  return p.length
    ? p.map((t) => h('div', { class: 'nowrap' }, t))
    : h('span', { class: 'muted' }, 'unlimited')
}

export default {
  title: 'API keys',
  async render({ content, actions, isCurrent }) {
    const search = h('input', {
      type: 'search',
      class: 'search',
      placeholder: 'Filter by name, project, prefix…',
      value: filter,
      'aria-label': 'Filter keys',
    })
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-key' },
      '+ Create key',
    )
    actions.append(search, create)

    const draw = () => {
      const q = filter.toLowerCase()
      const rows = keys.filter((k) =>
        [k.name, k.project_id, k.key_prefix, k.id].some((v) =>
          String(v ?? '')
            .toLowerCase()
            .includes(q),
        ),
      )
      const active = keys.filter((k) => k.status === 'active' && !isExpired(k)).length
      content.replaceChildren(
        h(
          'p',
          { class: 'summary' },
          `${keys.length} ${keys.length === 1 ? 'key' : 'keys'} · ${active} active`,
        ),
        table(
          [
            {
              label: 'Name',
              class: 'wrap-any',
              cell: (k) =>
                h(
                  'div',
                  { title: `Created ${dateTime(k.created_at)} · updated ${dateTime(k.updated_at)}` },
                  h('div', { class: 'strong' }, k.name),
                  h('code', { class: 'muted small' }, `${k.key_prefix ?? ''}…`),
                ),
            },
            { label: 'Project', class: 'wrap-any', cell: (k) => k.project_id ?? DASH },
            { label: 'Models', cell: modelsCell },
            {
              label: 'Rate limits',
              cell: (k) => stacked([limit(k.rpm_limit, 'rpm'), limit(k.tpm_limit, 'tpm')]),
            },
            {
              label: 'Budgets',
              cell: (k) => stacked([budget(k.daily_budget, 'day'), budget(k.monthly_budget, 'mo')]),
            },
            { label: 'Spend', cell: spendCells },
            {
              label: 'Status',
              cell: (k) => [
                statusCell(k),
                h(
                  'div',
                  { class: 'muted small', title: k.last_used_at ? dateTime(k.last_used_at) : '' },
                  k.last_used_at ? `used ${relative(k.last_used_at)}` : 'never used',
                ),
              ],
            },
            {
              label: '',
              class: 'actions',
              cell: (k) => [
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'key-toggle', onclick: () => toggle(k) },
                  k.status === 'active' ? 'Disable' : 'Enable',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'key-edit', onclick: () => edit(k) },
                  'Edit',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'key-rotate', onclick: () => rotate(k) },
                  'Rotate',
                ),
              ],
            },
          ],
          rows,
          {
            testid: 'keys-table',
            rowAttrs: (k) => ({
              testid: 'key-row',
              'data-key-id': k.id,
              class: k.status === 'active' ? '' : 'row-dim',
            }),
            empty: keys.length ? 'No keys match the filter.' : 'No API keys yet. Create one to get started.',
          },
        ),
      )
    }

    const toggle = (k) =>
      attempt(async () => {
        upsert(
          await patch(`/admin/api-keys/${encodeURIComponent(k.id)}`, {
            status: k.status === 'active' ? 'disabled' : 'active',
          }),
        )
        draw()
      })

    const edit = async (k) =>
      formDialog({
        title: `Edit key “${k.name}”`,
        fields: fields(await knownModels()),
        values: k,
        submitLabel: 'Save changes',
        submitTestId: 'key-submit',
        onSubmit: async (_all, changed) => {
          if (Object.keys(changed).length)
            upsert(await patch(`/admin/api-keys/${encodeURIComponent(k.id)}`, changed))
          draw()
        },
      })

    const rotate = async (k) => {
      const ok = await confirmDialog({
        title: `Rotate key “${k.name}”?`,
        message:
          'A new secret is generated and replaces the current one. Clients using the old key must be updated.',
        okLabel: 'Rotate key',
        danger: true,
      })
      if (!ok) return
      await attempt(async () => {
        const key = await post(`/admin/api-keys/${encodeURIComponent(k.id)}/rotate`)
        upsert(key)
        draw()
        showRawKey(key, 'Key rotated — copy the new key')
      })
    }

    create.addEventListener('click', async () =>
      formDialog({
        title: 'Create API key',
        fields: fields(await knownModels()),
        values: { status: 'active', project_id: 'default', allowed_models: [] },
        submitLabel: 'Create key',
        submitTestId: 'key-submit',
        onSubmit: async (values) => {
          const body = { ...values }
          if (!body.expires_at) delete body.expires_at
          const key = await post('/admin/api-keys', body)
          upsert(key)
          draw()
          // open after the form dialog has closed
          setTimeout(() => showRawKey(key, 'Key created — copy it now'))
        },
      }),
    )
    search.addEventListener('input', () => {
      filter = search.value
      draw()
    })

    modelsCache = null
    content.replaceChildren(loading())
    const data = await list('/admin/api-keys')
    if (!isCurrent()) return
    keys = data
    draw()
  },
}
