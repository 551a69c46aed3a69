// nexusai admin UI: login, navigation and page routing. Pages live in ./pages/*.js.
import { clearToken, get, getToken, onUnauthorized, setToken } from './api.js'
import { clearError, showError } from './ui.js'
import keys from './pages/keys.js'
import projects from './pages/projects.js'
import requests from './pages/requests.js'
import providers from './pages/providers.js'
import mappings from './pages/mappings.js'
import prices from './pages/prices.js'
import usage from './pages/usage.js'
import audit from './pages/audit.js'
import billing from './pages/billing.js'
import health from './pages/health.js'
import webhooks from './pages/webhooks.js'

const PAGES = {
  keys,
  projects,
  billing,
  requests,
  providers,
  mappings,
  prices,
  usage,
  webhooks,
  audit,
  health,
}
const $ = (id) => document.getElementById(id)

let renderSeq = 0

function showLogin(message) {
  for (const d of document.querySelectorAll('dialog[open]')) d.close()
  clearError()
  $('app-view').hidden = true
  $('login-view').hidden = false
  const msg = $('login-message')
  msg.hidden = !message
  msg.textContent = message ?? ''
  $('token-input').value = ''
  $('token-input').focus()
}

async function route() {
  if (!getToken()) return showLogin()
  $('login-view').hidden = true
  $('app-view').hidden = false
  const name = location.hash.replace(/^#\/?/, '') || 'keys'
  const page = PAGES[name] ?? PAGES.keys
  const seq = ++renderSeq
  for (const a of document.querySelectorAll('.sidebar a')) {
    a.classList.toggle('active', a.dataset.page === name)
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  clearError()
  $('page-title').textContent = page.title
  document.title = `${page.title} · nexusai admin`
  const content = $('page-content')
  const actions = $('page-actions')
  content.replaceChildren()
  actions.replaceChildren()
  try {
    // isCurrent lets a page drop results that arrive after the user navigated away
    await page.render({ content, actions, isCurrent: () => seq === renderSeq })
  } catch (err) {
    if (seq === renderSeq) showError(err)
  }
}

onUnauthorized((err) => {
  const detail = err?.message ? ` (${err.message})` : ''
  showLogin(`The admin token was rejected${detail}. Please sign in again.`)
})

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const token = $('token-input').value.trim()
  if (!token) return
  const button = e.submitter
  if (button) button.disabled = true
  setToken(token)
  try {
    await get('/admin/api-keys') // validate the token; a 401 re-shows the login with a message
    route()
  } catch (err) {
    if (!err.unauthorized) {
      // the token may be fine but the server is not: let the user in, the page will show errors
      route()
      showError(err)
    }
  } finally {
    if (button) button.disabled = false
  }
})

$('logout').addEventListener('click', () => {
  clearToken()
  showLogin('Signed out.')
})

document.addEventListener('click', (e) => {
  if (e.target.closest('[data-dismiss]')) clearError()
})

window.addEventListener('hashchange', route)
route()
