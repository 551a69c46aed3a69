// A provider's stored upstream keys: add (write-only), disable/enable, remove. Keys are shown only by
// their last 4 characters; the key typed into the form is cleared as soon as it was sent.
import { del, patch, post } from '../api.js'
import { relative } from '../format.js'
import { attempt, badge, confirmDialog, h, infoDialog, table } from '../ui.js'

const STATE_TONE = { active: 'good', disabled: 'neutral', invalid: 'bad', unreadable: 'bad' }
const STATE_TITLE = {
  invalid: 'The upstream refused this key (401/403); it is skipped until you enable it again.',
  unreadable: 'No configured SECRETS_KEY opens this key; it is skipped. Re-enter it.',
}
const SOURCE_LABEL = {
  env: 'from PROVIDER_<NAME>_API_KEY (wins over stored keys)',
  stored: 'stored keys',
  ref: 'from the secret named by api_key_ref',
  none: 'no key',
}

export const sourceLabel = (p) => SOURCE_LABEL[p.api_key_source] ?? p.api_key_source

// `refresh()` reloads the provider from the API and returns it (the page updates its row with it).
export function keysDialog(provider, refresh) {
  let current = provider
  const path = (suffix = '') => `/admin/providers/${encodeURIComponent(current.id)}/keys${suffix}`
  const body = h('div', { class: 'provider-keys' })
  const input = h('input', {
    type: 'password',
    name: 'api_key',
    autocomplete: 'off',
    placeholder: 'sk-…',
    required: true,
    testid: 'provider-key-input',
  })
  const form = h(
    'form',
    { class: 'inline-form' },
    input,
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'provider-key-add' }, 'Add key'),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const value = input.value.trim()
    input.value = ''
    if (value) change(() => post(path(), { api_key: value }))
  })

  const change = (write) =>
    attempt(async () => {
      await write()
      current = await refresh()
      draw()
    })

  const draw = () =>
    body.replaceChildren(
      h('p', { class: 'muted' }, `Key in use: ${sourceLabel(current)}.`),
      table(
        [
          { label: 'Key', cell: (k) => h('code', {}, k.hint ? `••••${k.hint}` : '••••') },
          {
            label: 'State',
            cell: (k) => badge(k.state, STATE_TONE[k.state] ?? 'neutral', STATE_TITLE[k.state]),
          },
          { label: 'Last used', cell: (k) => relative(k.last_used_at) },
          {
            label: '',
            class: 'actions',
            cell: (k) => [
              k.state === 'unreadable'
                ? null
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'btn btn-sm',
                      testid: 'provider-key-toggle',
                      onclick: () =>
                        change(() =>
                          patch(path(`/${k.id}`), { state: k.state === 'active' ? 'disabled' : 'active' }),
                        ),
                    },
                    k.state === 'active' ? 'Disable' : 'Enable',
                  ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-sm btn-danger',
                  testid: 'provider-key-remove',
                  onclick: async () => {
                    const ok = await confirmDialog({
                      title: 'Remove this key?',
                      message: `The key ending in ${k.hint || '(hidden)'} is deleted; it cannot be shown again.`,
                      okLabel: 'Remove',
                      danger: true,
                    })
                    if (ok) change(() => del(path(`/${k.id}`)))
                  },
                },
                'Remove',
              ),
            ],
          },
        ],
        current.stored_keys ?? [],
        {
          testid: 'provider-keys-table',
          rowAttrs: (k) => ({ testid: 'provider-key-row', 'data-key-id': k.id }),
          empty: 'No stored keys.',
        },
      ),
      form,
    )

  draw()
  return infoDialog({
    title: `Upstream keys of “${provider.name}”`,
    content: body,
    testid: 'provider-keys-dialog',
  })
}
