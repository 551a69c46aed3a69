// Webhooks: where signed event notifications go, and each webhook's delivery log. The signing secret is
// shown once, when it is created or replaced; afterwards only its last four characters.
import { del, get, patch, post } from '../api.js'
import { DASH, dateTime, int, relative } from '../format.js'
import { attempt, badge, confirmDialog, copyText, formDialog, h, infoDialog, loading, table } from '../ui.js'

const EVENTS = [
  'budget.threshold',
  'budget.exhausted',
  'provider.circuit_opened',
  'provider.circuit_closed',
  'provider.key_invalid',
  'key.expiring',
]

const fields = [
  { name: 'url', label: 'URL', type: 'url', required: true, wide: true, placeholder: 'https://…' },
  {
    name: 'events',
    label: 'Events (comma-separated)',
    type: 'list',
    required: true,
    wide: true,
    placeholder: EVENTS.slice(0, 2).join(', '),
    hint: `One or more of: ${EVENTS.join(', ')}`,
  },
  {
    name: 'secret',
    label: 'Signing secret',
    placeholder: 'generated when blank',
    hint: '16–200 characters. Blank: a new whsec_… secret is generated and shown once.',
  },
]

function showSecret(hook, heading) {
  const code = h('code', { class: 'raw-key', testid: 'webhook-secret' }, hook.secret)
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy')
  copy.addEventListener('click', () => copyText(hook.secret, copy))
  infoDialog({
    title: heading,
    testid: 'webhook-secret-dialog',
    closeLabel: 'I have saved it',
    content: h(
      'div',
      null,
      h(
        'p',
        { class: 'warning' },
        '⚠ Copy the signing secret now. It will not be shown again — replace it to get a new one.',
      ),
      h('div', { class: 'raw-key-box' }, code, copy),
      h('p', { class: 'muted break-any' }, hook.url),
    ),
  })
}

const deliveryStatus = (d) =>
  d.status === 'delivered'
    ? badge('delivered', 'good')
    : d.status === 'failed'
      ? badge('failed', 'bad')
      : badge('pending', 'warn')

function deliveriesTable(rows) {
  return table(
    [
      {
        label: 'Event',
        cell: (d) => [h('div', null, d.event_type), h('code', { class: 'muted small' }, d.event_id)],
      },
      { label: 'Status', cell: deliveryStatus },
      { label: 'Attempts', class: 'num', cell: (d) => int(d.attempts) },
      {
        label: 'Last answer',
        class: 'wrap-any',
        cell: (d) => d.last_error ?? (d.last_status !== null ? `HTTP ${d.last_status}` : DASH),
      },
      {
        label: 'When',
        cell: (d) =>
          h(
            'span',
            { title: dateTime(d.created_at) },
            d.delivered_at ? `delivered ${relative(d.delivered_at)}` : `created ${relative(d.created_at)}`,
          ),
      },
    ],
    rows,
    {
      testid: 'deliveries-table',
      rowAttrs: () => ({ testid: 'delivery-row' }),
      empty: 'No deliveries yet.',
    },
  )
}

let selected = null

export default {
  title: 'Webhooks',
  async render({ content, actions, isCurrent }) {
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-webhook' },
      '+ Add webhook',
    )
    actions.append(create)
    let hooks = []
    let deliveries = []

    const detail = (hook) =>
      h(
        'div',
        { class: 'card', testid: 'webhook-detail' },
        h(
          'div',
          { class: 'card-head' },
          h('h2', null, 'Deliveries ', h('code', { class: 'muted small break-any' }, hook.url)),
          h(
            'button',
            { type: 'button', class: 'btn btn-sm', testid: 'deliveries-refresh', onclick: () => open(hook) },
            'Refresh',
          ),
        ),
        deliveriesTable(deliveries),
      )

    const draw = () => {
      const current = hooks.find((w) => w.id === selected)
      content.replaceChildren(
        table(
          [
            { label: 'URL', class: 'wrap-any', cell: (w) => h('code', null, w.url) },
            {
              label: 'Events',
              cell: (w) =>
                h(
                  'span',
                  { class: 'chips' },
                  w.events.map((e) => h('span', { class: 'chip' }, e)),
                ),
            },
            { label: 'Secret', cell: (w) => h('code', { class: 'muted' }, w.secret_hint) },
            {
              label: 'Status',
              cell: (w) => (w.enabled ? badge('enabled', 'good') : badge('disabled', 'neutral')),
            },
            {
              label: 'Created',
              cell: (w) => h('span', { title: dateTime(w.created_at) }, relative(w.created_at)),
            },
            {
              label: '',
              class: 'actions',
              cell: (w) => [
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-sm',
                    testid: 'webhook-deliveries',
                    onclick: () => open(w),
                  },
                  'Deliveries',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'webhook-toggle', onclick: () => toggle(w) },
                  w.enabled ? 'Disable' : 'Enable',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'webhook-edit', onclick: () => edit(w) },
                  'Edit',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'webhook-delete', onclick: () => remove(w) },
                  'Delete',
                ),
              ],
            },
          ],
          hooks,
          {
            testid: 'webhooks-table',
            rowAttrs: (w) => ({
              testid: 'webhook-row',
              'data-webhook-id': w.id,
              class: w.enabled ? '' : 'row-dim',
            }),
            empty: 'No webhooks yet. Add one to be told about budgets, breakers and expiring keys.',
          },
        ),
        ...(current ? [detail(current)] : []),
      )
    }

    const open = (w) =>
      attempt(async () => {
        const page = await get(`/admin/webhooks/${encodeURIComponent(w.id)}/deliveries?limit=50`)
        if (!isCurrent()) return
        selected = w.id
        deliveries = page.data
        draw()
      })

    const toggle = (w) =>
      attempt(async () => {
        await patch(`/admin/webhooks/${encodeURIComponent(w.id)}`, { enabled: !w.enabled })
        await load()
      })

    const edit = (w) =>
      formDialog({
        title: 'Edit webhook',
        fields,
        values: { url: w.url, events: w.events, secret: '' },
        submitLabel: 'Save changes',
        submitTestId: 'webhook-submit',
        onSubmit: async (_all, changed) => {
          if (changed.secret === '') delete changed.secret
          if (Object.keys(changed).length) {
            const updated = await patch(`/admin/webhooks/${encodeURIComponent(w.id)}`, changed)
            if (changed.secret) showSecret({ ...updated, secret: changed.secret }, 'Signing secret replaced')
          }
          await load()
        },
      })

    const remove = async (w) => {
      const ok = await confirmDialog({
        title: 'Delete webhook?',
        message: `Deliveries to ${w.url} stop, and its delivery log is removed.`,
        okLabel: 'Delete webhook',
        danger: true,
      })
      if (!ok) return
      await attempt(async () => {
        await del(`/admin/webhooks/${encodeURIComponent(w.id)}`)
        if (selected === w.id) selected = null
        await load()
      })
    }

    create.addEventListener('click', () =>
      formDialog({
        title: 'Add webhook',
        fields,
        submitLabel: 'Add webhook',
        submitTestId: 'webhook-submit',
        onSubmit: async (values) => {
          const body = { url: values.url, events: values.events }
          if (values.secret) body.secret = values.secret
          const hook = await post('/admin/webhooks', body)
          selected = hook.id
          deliveries = []
          await load()
          setTimeout(() => showSecret(hook, 'Webhook added — copy its signing secret'))
        },
      }),
    )

    const load = async () => {
      const data = (await get('/admin/webhooks')).data
      if (!isCurrent()) return
      hooks = data
      if (selected && hooks.some((w) => w.id === selected))
        deliveries = (await get(`/admin/webhooks/${encodeURIComponent(selected)}/deliveries?limit=50`)).data
      if (!isCurrent()) return
      draw()
    }
    content.replaceChildren(loading())
    await load()
  },
}
