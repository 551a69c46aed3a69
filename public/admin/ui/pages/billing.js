// Billing: what key holders pay. Per project its price ratio, prepaid balance (top-ups and the credit
// ledger), balance alert and rolling windows, and this month's cost, charge and margin; redemption codes
// (mint, list, revoke). docs/selling.md explains each.
import { get, list, patch, post, qs } from '../api.js'
import { dateTime, int, money } from '../format.js'
import { badge, copyText, formDialog, h, infoDialog, loading, table, attempt } from '../ui.js'

const windowsText = (list) =>
  (list ?? []).length
    ? list.map((w) =>
        h(
          'div',
          { class: 'nowrap' },
          `${w.period}: ${[
            w.limit_usd != null && money(w.limit_usd),
            w.limit_requests != null && `${int(w.limit_requests)} req`,
          ]
            .filter(Boolean)
            .join(' · ')}`,
        ),
      )
    : h('span', { class: 'muted' }, 'none')

const codeState = (c) =>
  c.state === 'active'
    ? badge('active', 'good')
    : c.state === 'redeemed'
      ? badge('redeemed', 'neutral')
      : badge('revoked', 'bad')

let selected = null

export default {
  title: 'Billing',
  async render({ content, actions, isCurrent }) {
    const mint = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'mint-codes' },
      '+ Mint codes',
    )
    actions.append(mint)
    let projects = []
    let codes = []
    let ledger = null

    const projectRow = (p) => ({
      testid: 'billing-row',
      'data-project-id': p.id,
    })

    const detail = () => {
      if (!ledger) return null
      const { project, credits, statement, keys } = ledger
      const t = statement.totals
      return h(
        'div',
        { class: 'card', testid: 'billing-detail' },
        h('div', { class: 'card-head' }, h('h2', null, `${project.name}: this month`)),
        h(
          'p',
          { testid: 'billing-margin' },
          `Cost ${money(t.cost_usd)} · charged ${money(t.charge_usd)} · margin ${money(t.margin_usd)}`,
        ),
        table(
          [
            { label: 'Model', cell: (r) => r.model },
            { label: 'Provider', cell: (r) => r.provider ?? '—' },
            { label: 'Requests', cell: (r) => int(r.requests) },
            { label: 'Cost', cell: (r) => money(r.cost_usd) },
            { label: 'Charge', cell: (r) => money(r.charge_usd) },
            { label: 'Margin', cell: (r) => money(r.margin_usd) },
          ],
          statement.data,
          { testid: 'billing-statement', empty: 'No usage this month.' },
        ),
        h('div', { class: 'card-head' }, h('h2', null, 'Key windows')),
        table(
          [
            {
              label: 'Key',
              cell: (k) => [
                h('div', { class: 'strong' }, k.name),
                h('code', { class: 'muted small' }, `${k.key_prefix}…`),
              ],
            },
            { label: 'Windows', cell: (k) => windowsText(k.windows) },
            {
              label: '',
              class: 'actions',
              cell: (k) =>
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-sm',
                    testid: 'edit-key-windows',
                    onclick: () => keyWindows(k),
                  },
                  'Windows',
                ),
            },
          ],
          keys,
          {
            testid: 'key-windows',
            rowAttrs: () => ({ testid: 'key-window-row' }),
            empty: 'No keys in this project.',
          },
        ),
        h('div', { class: 'card-head' }, h('h2', null, 'Credit ledger')),
        table(
          [
            { label: 'When', cell: (c) => dateTime(c.created_at) },
            { label: 'Kind', cell: (c) => c.kind },
            { label: 'Amount', cell: (c) => money(c.amount_usd) },
            { label: 'Note', cell: (c) => c.note ?? '' },
            { label: 'By', cell: (c) => h('code', { class: 'small' }, c.actor) },
          ],
          credits,
          {
            testid: 'credit-ledger',
            rowAttrs: () => ({ testid: 'credit-row' }),
            empty: 'No credits yet: postpaid.',
          },
        ),
      )
    }

    const draw = () =>
      content.replaceChildren(
        table(
          [
            {
              label: 'Project',
              cell: (p) => [h('div', { class: 'strong' }, p.name), h('code', { class: 'muted small' }, p.id)],
            },
            { label: 'Price ratio', cell: (p) => `× ${p.price_ratio}` },
            {
              label: 'Balance',
              cell: (p) =>
                p.balance_usd == null
                  ? h('span', { class: 'muted' }, 'postpaid')
                  : h(
                      'span',
                      { testid: 'balance', class: p.balance_usd <= (p.balance_alert_usd ?? 0) ? 'bad' : '' },
                      money(p.balance_usd),
                    ),
            },
            {
              label: 'Alert below',
              cell: (p) => (p.balance_alert_usd == null ? '—' : money(p.balance_alert_usd)),
            },
            { label: 'Windows', cell: (p) => windowsText(p.windows) },
            {
              label: '',
              class: 'actions',
              cell: (p) => [
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'top-up', onclick: () => topUp(p) },
                  'Top up',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'open-ledger', onclick: () => open(p) },
                  'Ledger',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'edit-pricing', onclick: () => pricing(p) },
                  'Pricing',
                ),
              ],
            },
          ],
          projects,
          { testid: 'billing-table', rowAttrs: projectRow, empty: 'No projects yet.' },
        ),
        detail(),
        h('div', { class: 'card-head' }, h('h2', null, 'Redemption codes')),
        table(
          [
            { label: 'Code', cell: (c) => h('code', null, `…${c.hint}`) },
            { label: 'Amount', cell: (c) => money(c.amount_usd) },
            { label: 'For project', cell: (c) => c.project_id ?? 'any' },
            { label: 'State', cell: codeState },
            { label: 'Redeemed by', cell: (c) => c.redeemed_project_id ?? '—' },
            { label: 'Redeemed', cell: (c) => dateTime(c.redeemed_at) },
            { label: 'Expires', cell: (c) => dateTime(c.expires_at) },
            {
              label: '',
              class: 'actions',
              cell: (c) =>
                c.state === 'active'
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'btn btn-sm btn-danger',
                        testid: 'revoke-code',
                        onclick: () => revoke(c),
                      },
                      'Revoke',
                    )
                  : null,
            },
          ],
          codes,
          { testid: 'codes-table', rowAttrs: () => ({ testid: 'code-row' }), empty: 'No codes minted yet.' },
        ),
      )

    const open = async (p) => {
      selected = p.id
      const id = encodeURIComponent(p.id)
      const [credits, statement, keys] = (await attempt(() =>
        Promise.all([
          get(`/admin/projects/${id}/credits?limit=100`),
          get(`/admin/projects/${id}/statement`),
          list('/admin/api-keys'),
        ]),
      )) ?? [null, null, null]
      if (!credits || !isCurrent()) return
      ledger = {
        project: p,
        credits: credits.data,
        statement,
        keys: keys.filter((k) => k.project_id === p.id),
      }
      draw()
    }

    const topUp = (p) =>
      formDialog({
        title: `Top up “${p.name}”`,
        intro:
          'A positive amount adds credit; a negative one is an adjustment. A first credit makes the project prepaid.',
        fields: [
          { name: 'amount_usd', label: 'Amount (USD)', type: 'decimal', required: true, min: '-100000000' },
          { name: 'note', label: 'Note', placeholder: 'e.g. invoice 2026-12' },
        ],
        submitLabel: 'Add credit',
        submitTestId: 'top-up-submit',
        onSubmit: async (values) => {
          await post(`/admin/projects/${encodeURIComponent(p.id)}/credits`, {
            amount_usd: values.amount_usd,
            ...(values.note ? { note: values.note } : {}),
          })
          await load()
          if (selected === p.id) await open(projects.find((x) => x.id === p.id) ?? p)
        },
      })

    const pricing = (p) =>
      formDialog({
        title: `Pricing of “${p.name}”`,
        fields: [
          {
            name: 'price_ratio',
            label: 'Price ratio',
            type: 'decimal',
            required: true,
            hint: '1 = upstream cost; 1.5 = cost + 50%.',
          },
          {
            name: 'balance_alert_usd',
            label: 'Balance alert below (USD)',
            type: 'decimal',
            placeholder: 'none',
          },
          {
            name: 'windows',
            label: 'Rolling windows',
            type: 'json',
            wide: true,
            hint: 'e.g. [{"period":"5h","limit_usd":5},{"period":"7d","limit_requests":2000}] (periods 5h, 1d, 7d, 30d)',
          },
        ],
        values: p,
        submitLabel: 'Save',
        submitTestId: 'pricing-submit',
        onSubmit: async (_all, changed) => {
          if (Object.keys(changed).length) await patch(`/admin/projects/${encodeURIComponent(p.id)}`, changed)
          await load()
        },
      })

    const keyWindows = (k) =>
      formDialog({
        title: `Windows of key “${k.name}”`,
        fields: [
          {
            name: 'windows',
            label: 'Rolling windows',
            type: 'json',
            wide: true,
            hint: 'e.g. [{"period":"5h","limit_requests":200}] (periods 5h, 1d, 7d, 30d)',
          },
        ],
        values: k,
        submitLabel: 'Save',
        submitTestId: 'key-windows-submit',
        onSubmit: async (_all, changed) => {
          if (Object.keys(changed).length) await patch(`/admin/api-keys/${k.id}`, changed)
          const current = projects.find((x) => x.id === selected)
          if (current) await open(current)
        },
      })

    const revoke = async (c) => {
      await attempt(() => post(`/admin/redemption-codes/${c.id}/revoke`))
      await load()
    }

    mint.addEventListener('click', () =>
      formDialog({
        title: 'Mint redemption codes',
        intro: 'Each code is shown once, now; only its hash is kept.',
        fields: [
          { name: 'amount_usd', label: 'Amount each (USD)', type: 'decimal', required: true },
          { name: 'count', label: 'How many', type: 'int', placeholder: '1' },
          { name: 'project_id', label: 'Only for project', placeholder: 'any project' },
          { name: 'expires_at', label: 'Expires', type: 'datetime' },
        ],
        submitLabel: 'Mint',
        submitTestId: 'mint-submit',
        onSubmit: async (values) => {
          const body = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== ''))
          const minted = await post('/admin/redemption-codes', body)
          const all = minted.codes.join('\n')
          const copy = h(
            'button',
            { type: 'button', class: 'btn btn-sm', onclick: (e) => copyText(all, e.target) },
            'Copy all',
          )
          await load()
          // After the form has closed (it closes once this returns), so the codes are the only dialog.
          setTimeout(() =>
            infoDialog({
              title: `${minted.codes.length} code(s) minted`,
              testid: 'minted-codes',
              content: h(
                'div',
                null,
                h('p', { class: 'muted' }, 'Copy them now: they are not shown again.'),
                h('pre', { testid: 'minted-list' }, all),
                copy,
              ),
            }),
          )
        },
      }),
    )

    const load = async () => {
      const [p, c] = await Promise.all([
        get('/admin/projects'),
        list(`/admin/redemption-codes${qs({ limit: 500 })}`),
      ])
      if (!isCurrent()) return
      projects = p.data
      codes = c
      draw()
    }
    content.replaceChildren(loading())
    await load()
    const current = projects.find((p) => p.id === selected)
    if (current) await open(current)
  },
}
