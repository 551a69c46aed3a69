// Small DOM helpers: element builder, error banner, tables, badges and <dialog> forms.
import { fromLocalInput, toLocalInput } from './format.js'

/** h('div', {class, testid, onclick, ...attrs}, ...children). Strings become text nodes (no innerHTML). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  const props = {}
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'value' || k === 'checked' || k === 'selected') props[k] = v
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else if (k === 'testid') el.dataset.testid = v
    else el.setAttribute(k, v === true ? '' : v)
  }
  append(el, children)
  Object.assign(el, props)
  return el
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.append(c instanceof Node ? c : String(c))
  }
}

export const badge = (text, kind = 'neutral', title) =>
  h('span', { class: `badge badge-${kind}`, title }, text)

// ---------- error banner (one element, moved into the open modal so it stays visible) ----------

const banner = () => document.getElementById('error-banner')
const bannerHome = () => document.getElementById('error-slot')

export function showError(err) {
  if (err?.unauthorized) return // the login view explains it
  const el = banner()
  const msg = el.querySelector('.error-message')
  const detail = el.querySelector('.error-detail')
  msg.textContent = err?.message || String(err)
  const bits = []
  if (err?.param) bits.push(`Field: ${err.param}`)
  if (err?.code) bits.push(`Code: ${err.code}`)
  if (err?.status) bits.push(`HTTP ${err.status}`)
  detail.textContent = bits.join(' · ')
  const dialogs = document.querySelectorAll('dialog[open]')
  const target = dialogs.length ? dialogs[dialogs.length - 1].querySelector('.dialog-errors') : bannerHome()
  if (el.parentElement !== target) target.append(el)
  el.hidden = false
  if (!dialogs.length) el.scrollIntoView({ block: 'nearest' })
}

export function clearError() {
  const el = banner()
  el.hidden = true
  if (el.parentElement !== bannerHome()) bannerHome().append(el)
}

/** Run an async action, routing failures to the banner. Returns the result or undefined. */
export async function attempt(fn) {
  try {
    return await fn()
  } catch (err) {
    showError(err)
  }
}

// ---------- tables ----------

/**
 * columns: [{label, cell(row) -> node|string, class?}]; opts: {testid, rowAttrs(row), empty}
 */
export function table(columns, rows, { testid, rowAttrs, empty = 'Nothing here yet.' } = {}) {
  const head = h(
    'thead',
    null,
    h(
      'tr',
      null,
      columns.map((c) => h('th', { class: c.class }, c.label)),
    ),
  )
  const body = h(
    'tbody',
    null,
    rows.length
      ? rows.map((r) =>
          h(
            'tr',
            rowAttrs?.(r),
            columns.map((c) => h('td', { class: c.class }, c.cell(r))),
          ),
        )
      : h('tr', null, h('td', { class: 'empty', colspan: columns.length }, empty)),
  )
  return h('div', { class: 'table-wrap' }, h('table', { testid }, head, body))
}

export const loading = () => h('div', { class: 'loading' }, 'Loading…')

// ---------- dialogs ----------

function openDialog(dialog) {
  document.body.append(dialog)
  dialog.addEventListener('close', () => {
    if (dialog.contains(banner())) clearError()
    dialog.remove()
  })
  dialog.showModal()
  return dialog
}

export function confirmDialog({ title, message, okLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    let ok = false
    const dialog = h(
      'dialog',
      { class: 'dialog-small' },
      h('h2', null, title),
      h('p', null, message),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Cancel'),
        h(
          'button',
          {
            type: 'button',
            class: danger ? 'btn btn-danger' : 'btn btn-primary',
            testid: 'confirm-ok',
            onclick: () => {
              ok = true
              dialog.close()
            },
          },
          okLabel,
        ),
      ),
    )
    dialog.addEventListener('close', () => resolve(ok))
    openDialog(dialog)
  })
}

/** A read-only dialog with arbitrary content and a Close button. */
export function infoDialog({ title, content, closeLabel = 'Close', testid }) {
  const dialog = h(
    'dialog',
    { testid },
    h('h2', null, title),
    content,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => dialog.close() }, closeLabel),
    ),
  )
  return openDialog(dialog)
}

/*
 * Field spec: {name, label, type, hint, required, placeholder, options:[{value,label}], readonly, step, min}
 * type: text | url | int | decimal | select | checkbox | datetime | list (comma-separated -> string[])
 *   | json (an object typed as JSON text)
 */
function fieldInput(f, value) {
  const common = { name: f.name, id: `f-${f.name}`, required: f.required, readonly: f.readonly }
  switch (f.type) {
    case 'select':
      return h(
        'select',
        { ...common, value: value ?? '' },
        f.options.map((o) => h('option', { value: o.value }, o.label)),
      )
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox', checked: Boolean(value) })
    case 'int':
    case 'decimal':
      return h('input', {
        ...common,
        type: 'number',
        inputmode: f.type === 'int' ? 'numeric' : 'decimal',
        step: f.step ?? (f.type === 'int' ? '1' : 'any'),
        min: f.min ?? '0',
        placeholder: f.placeholder,
        value: value ?? '',
      })
    case 'datetime':
      return h('input', { ...common, type: 'datetime-local', value: toLocalInput(value) })
    case 'json':
      return h('input', {
        ...common,
        type: 'text',
        placeholder: f.placeholder,
        value: JSON.stringify(value ?? {}),
      })
    case 'list':
      return h('input', {
        ...common,
        type: 'text',
        placeholder: f.placeholder,
        value: Array.isArray(value) ? value.join(', ') : (value ?? ''),
      })
    default:
      return h('input', { ...common, type: f.type ?? 'text', placeholder: f.placeholder, value: value ?? '' })
  }
}

/** An initial value in the shape readField returns, so unchanged fields compare equal. */
function normalize(f, v) {
  if (f.type === 'datetime') return fromLocalInput(toLocalInput(v))
  if (f.type === 'int' || f.type === 'decimal')
    return v === null || v === undefined || v === '' ? null : Number(v)
  if (f.type === 'list') return v ?? []
  if (f.type === 'json') return v ?? {}
  if (f.type === 'checkbox') return Boolean(v)
  return String(v ?? '') // text, url, select
}

function readField(form, f) {
  const el = form.elements[f.name]
  switch (f.type) {
    case 'checkbox':
      return el.checked
    case 'int':
    case 'decimal':
      return el.value.trim() === '' ? null : Number(el.value)
    case 'datetime':
      return fromLocalInput(el.value)
    case 'json':
      // Text that is not JSON goes as typed: the API answers with a 400 naming the field.
      try {
        return JSON.parse(el.value.trim() || '{}')
      } catch {
        return el.value
      }
    case 'list':
      return [
        ...new Set(
          el.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ]
    default:
      return el.value.trim()
  }
}

/**
 * Open a form in a modal dialog. onSubmit(values, changed) may return a promise; the dialog closes
 * when it resolves and stays open (error shown inside) when it throws. `changed` holds only fields
 * whose value differs from `values` (useful for PATCH).
 */
export function formDialog({
  title,
  intro,
  fields,
  values = {},
  submitLabel = 'Save',
  submitTestId,
  onSubmit,
}) {
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: submitTestId }, submitLabel)
  const form = h(
    'form',
    null,
    h(
      'div',
      { class: 'form-grid' },
      fields.map((f) =>
        h(
          'label',
          {
            class: `field ${f.type === 'checkbox' ? 'field-check' : ''} ${f.wide ? 'field-wide' : ''}`,
            for: `f-${f.name}`,
          },
          h('span', { class: 'field-label' }, f.label, f.required ? h('span', { class: 'req' }, ' *') : null),
          fieldInput(f, values[f.name]),
          f.hint ? h('span', { class: 'field-hint' }, f.hint) : null,
        ),
      ),
    ),
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Cancel'),
      submit,
    ),
  )
  const dialog = h(
    'dialog',
    null,
    h('h2', null, title),
    intro ? h('p', { class: 'muted' }, intro) : null,
    h('div', { class: 'dialog-errors' }),
    form,
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const out = {}
    const changed = {}
    for (const f of fields) {
      out[f.name] = readField(form, f)
      const before = normalize(f, values[f.name])
      if (JSON.stringify(out[f.name]) !== JSON.stringify(before)) {
        changed[f.name] = out[f.name]
      }
    }
    submit.disabled = true
    try {
      await onSubmit(out, changed)
      dialog.close()
    } catch (err) {
      showError(err)
    } finally {
      submit.disabled = false
    }
  })
  return openDialog(dialog)
}

/** Collapsible pretty JSON. */
export function jsonDetails(label, value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '—')
  return h(
    'details',
    { class: 'json' },
    h('summary', null, label),
    h('pre', null, JSON.stringify(value, null, 2)),
  )
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    // clipboard API unavailable (http, permissions): fall back to a selection + execCommand
    const ta = h('textarea', { class: 'offscreen' }, text)
    document.body.append(ta)
    ta.select()
    document.execCommand('copy')
    ta.remove()
  }
  if (button) {
    const old = button.textContent
    button.textContent = 'Copied ✓'
    setTimeout(() => (button.textContent = old), 1500)
  }
}
