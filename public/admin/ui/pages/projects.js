// Projects: the limits and budgets a team's keys share; each project's spend today and this month
// against its budgets, and its keys with their own spend.
import { get, list, patch, post } from '../api.js'
import { int } from '../format.js'
import { spendCells } from '../spend.js'
import { attempt, badge, formDialog, h, loading, table } from '../ui.js'

const limitFields = [
  { name: 'name', label: 'Name', placeholder: 'defaults to the id' },
  { name: 'rpm_limit', label: 'Requests / minute', type: 'int', placeholder: 'unlimited' },
  { name: 'tpm_limit', label: 'Tokens / minute', type: 'int', placeholder: 'unlimited' },
  { name: 'daily_budget', label: 'Daily budget (USD)', type: 'decimal', placeholder: 'unlimited' },
  { name: 'monthly_budget', label: 'Monthly budget (USD)', type: 'decimal', placeholder: 'unlimited' },
  {
    name: 'status',
    label: 'Status',
    type: 'select',
    hint: 'A disabled project refuses all its keys.',
    options: [
      { value: 'active', label: 'Active' },
      { value: 'disabled', label: 'Disabled' },
    ],
  },
]

const limits = (p) =>
  [p.rpm_limit != null && `${int(p.rpm_limit)} rpm`, p.tpm_limit != null && `${int(p.tpm_limit)} tpm`]
    .filter(Boolean)
    .map((t) => h('div', { class: 'nowrap' }, t))

const status = (row) => (row.status === 'active' ? badge('active', 'good') : badge('disabled', 'neutral'))

let selected = null

export default {
  title: 'Projects',
  async render({ content, actions, isCurrent }) {
    const create = h(
      'button',
      { type: 'button', class: 'btn btn-primary', testid: 'create-project' },
      '+ Create project',
    )
    actions.append(create)
    let projects = []
    let keys = []

    const keysOf = (id) => keys.filter((k) => k.project_id === id)

    const detail = (p) =>
      h(
        'div',
        { class: 'card', testid: 'project-detail' },
        h('div', { class: 'card-head' }, h('h2', null, `Keys of ${p.name}`)),
        table(
          [
            {
              label: 'Key',
              cell: (k) => [
                h('div', { class: 'strong' }, k.name),
                h('code', { class: 'muted small' }, `${k.key_prefix}…`),
              ],
            },
            { label: 'Status', cell: status },
            { label: 'Limits', cell: (k) => limits(k) },
            { label: 'Spend today', cell: (k) => spendCells(k)[0] },
            { label: 'Spend this month', cell: (k) => spendCells(k)[1] },
          ],
          keysOf(p.id),
          {
            testid: 'project-keys-table',
            rowAttrs: () => ({ testid: 'project-key-row' }),
            empty: 'No keys in this project.',
          },
        ),
      )

    const draw = () => {
      const current = projects.find((p) => p.id === selected)
      content.replaceChildren(
        table(
          [
            {
              label: 'Project',
              class: 'wrap-any',
              cell: (p) => [h('div', { class: 'strong' }, p.name), h('code', { class: 'muted small' }, p.id)],
            },
            { label: 'Status', cell: status },
            { label: 'Keys', cell: (p) => int(keysOf(p.id).length) },
            {
              label: 'Rate limits',
              cell: (p) => (limits(p).length ? limits(p) : h('span', { class: 'muted' }, 'unlimited')),
            },
            { label: 'Today', cell: (p) => spendCells(p)[0] },
            { label: 'This month', cell: (p) => spendCells(p)[1] },
            {
              label: '',
              class: 'actions',
              cell: (p) => [
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'project-open', onclick: () => open(p) },
                  'Keys',
                ),
                h(
                  'button',
                  { type: 'button', class: 'btn btn-sm', testid: 'project-edit', onclick: () => edit(p) },
                  'Edit',
                ),
              ],
            },
          ],
          projects,
          {
            testid: 'projects-table',
            rowAttrs: (p) => ({
              testid: 'project-row',
              'data-project-id': p.id,
              class: p.status === 'active' ? '' : 'row-dim',
            }),
            empty: 'No projects yet. A key created with a new project id creates its project.',
          },
        ),
        // replaceChildren() writes a null argument as the text "null".
        ...(current ? [detail(current)] : []),
      )
    }

    const open = (p) => {
      selected = p.id
      draw()
    }

    const edit = (p) =>
      formDialog({
        title: `Edit project “${p.name}”`,
        fields: limitFields,
        values: p,
        submitLabel: 'Save changes',
        submitTestId: 'project-submit',
        onSubmit: async (_all, changed) => {
          if (Object.keys(changed).length) await patch(`/admin/projects/${encodeURIComponent(p.id)}`, changed)
          await load()
        },
      })

    create.addEventListener('click', () =>
      formDialog({
        title: 'Create project',
        fields: [
          { name: 'id', label: 'Project ID', required: true, placeholder: 'e.g. shop' },
          ...limitFields,
        ],
        values: { status: 'active' },
        submitLabel: 'Create project',
        submitTestId: 'project-submit',
        onSubmit: async (values) => {
          const body = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== ''))
          await post('/admin/projects', body)
          selected = body.id
          await load()
        },
      }),
    )

    const load = async () => {
      const [p, k] = await Promise.all([get('/admin/projects'), list('/admin/api-keys')])
      if (!isCurrent()) return
      projects = p.data
      keys = k
      draw()
    }
    content.replaceChildren(loading())
    await load()
  },
}
