// The admin page in a real headless Chromium against the real local stack (`npm run dev`): sign in,
// create a key, use it through the gateway, read the usage, disable and rotate the key, and check the
// providers and health pages. Screenshots of the main steps land in test-results/admin-ui/.
import { spawnSync } from 'node:child_process'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { expectText, launchChromium, resetScreenshots, screenshot, STEP_TIMEOUT_MS, until } from './browser'
import { parsePrometheus } from '../helpers/prometheus'
import { startDevStack, type DevStack } from './stack'

let stack: DevStack
let browser: Browser
let context: BrowserContext
let page: Page
const pageErrors: string[] = []

beforeAll(async () => {
  resetScreenshots()
  // Chromium first: a missing browser should fail in a second, not after the stack has started.
  browser = await launchChromium()
  stack = await startDevStack()
  context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    // The page shows local dates; pin them so results do not depend on the machine's zone.
    timezoneId: 'UTC',
    locale: 'en-US',
  })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url })
  page = await context.newPage()
  page.setDefaultTimeout(STEP_TIMEOUT_MS)
  page.on('pageerror', (e) => pageErrors.push(e.message))
})

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

// Every step ends without the page's error banner showing (it would name a failed admin API call).
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page)
    await screenshot(page, `FAILED-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {})
  const banner = page?.getByTestId('error-banner')
  if (banner && (await banner.isVisible())) throw new Error(`error banner shown: ${await banner.innerText()}`)
})

const KEY_NAME = 'ui-test-key'
const PROJECT = 'ui-project'

async function chat(rawKey: string) {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rawKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

async function admin(path: string) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${stack.adminToken}` } })
  expect(res.status, `GET ${path}`).toBe(200)
  return (await res.json()) as Record<string, any>
}

/** The raw key dialog: shows an lgw_ key once, with a copy button; returns the key after closing it. */
async function takeRawKey(shot: string): Promise<string> {
  const dialog = page.getByTestId('raw-key-dialog')
  await dialog.waitFor()
  const rawKey = (await dialog.getByTestId('raw-key').innerText()).trim()
  expect(rawKey).toMatch(/^lgw_[A-Za-z0-9_-]{20,}$/)
  const copy = dialog.getByTestId('copy-raw-key')
  await copy.click()
  await expectText(copy, 'Copied')
  // The page runs in Chromium, not here: reach its globals untyped (this project has no DOM lib).
  expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(rawKey)
  await screenshot(page, shot)

  await dialog.getByRole('button', { name: 'I have saved it' }).click()
  await dialog.waitFor({ state: 'detached' })
  // Shown once: nowhere in the document (text, attributes, form values) or the tab's storage.
  const leaks = await page.evaluate((key) => {
    const { document, sessionStorage, localStorage } = globalThis as any
    const found: string[] = []
    if (document.documentElement.outerHTML.includes(key)) found.push('DOM')
    if (document.body.innerText.includes(key)) found.push('visible text')
    for (const el of document.querySelectorAll('input, textarea'))
      if (el.value.includes(key)) found.push(`value of <${el.tagName.toLowerCase()}>`)
    if (JSON.stringify({ ...sessionStorage, ...localStorage }).includes(key)) found.push('web storage')
    return found
  }, rawKey)
  expect(leaks, 'the raw key is still on the page after closing its dialog').toEqual([])
  return rawKey
}

describe('admin UI in headless Chromium against `npm run dev`', () => {
  let rawKey = ''
  const keyRow = () => page.getByTestId('key-row').filter({ hasText: KEY_NAME })

  test('a wrong admin token is refused with a message', async () => {
    await page.goto(`${stack.url}/admin/ui`)
    await page.getByTestId('token-input').fill('definitely-not-the-token')
    await page.getByTestId('login-button').click()
    const message = page.locator('#login-message')
    await expectText(message, /admin token was rejected/i)
    expect(await page.getByTestId('nav-keys').isVisible()).toBe(false)
    await screenshot(page, '01-login-rejected')
  })

  test('signs in with the admin token and lands on the keys page', async () => {
    await page.getByTestId('token-input').fill(stack.adminToken)
    await page.getByTestId('login-button').click()
    await page.getByTestId('keys-table').waitFor()
    await expectText(page.locator('#page-title'), 'API keys')
    expect(await page.locator('#login-view').isVisible()).toBe(false)
  })

  test('creates a key: the raw key is shown once, then only its row remains', async () => {
    await page.getByTestId('create-key').click()
    const form = page.locator('dialog[open] form')
    await form.waitFor()
    await form.locator('[name="name"]').fill(KEY_NAME)
    await form.locator('[name="project_id"]').fill(PROJECT)
    await form.locator('[name="allowed_models"]').fill('gpt-4o-mini')
    await form.locator('[name="rpm_limit"]').fill('60')
    await form.locator('[name="tpm_limit"]').fill('100000')
    await form.locator('[name="daily_budget"]').fill('5')
    await form.locator('[name="monthly_budget"]').fill('50')
    await screenshot(page, '02-create-key-form')
    await page.getByTestId('key-submit').click()

    rawKey = await takeRawKey('03-raw-key-shown')

    const row = keyRow()
    await expectText(row, PROJECT)
    const text = await row.innerText()
    expect(text).toContain('gpt-4o-mini')
    expect(text).toContain('60 rpm')
    expect(text).toContain('100,000 tpm')
    expect(text).toContain('$5.00/day')
    expect(text).toContain('$50.00/mo')
    expect(text).toMatch(/\bactive\b/)
    expect(text).toContain(`${rawKey.slice(0, 8)}`) // the key prefix, not the key
    await screenshot(page, '04-key-row')
  })

  test('the raw key works for a chat completion through the gateway', async () => {
    const { status, body } = await chat(rawKey)
    expect(status, JSON.stringify(body)).toBe(200)
    expect(body.object).toBe('chat.completion')
    expect(body.usage.total_tokens).toBeGreaterThan(0)
  })

  test('the usage page shows the request, its tokens and cost for today', async () => {
    // The usage row is written after the response (waitUntil): wait for the API to have it first, so
    // the page is opened once, with the data in place.
    await until('the chat completion to show in /admin/usage', async () => {
      const r = await admin('/admin/usage')
      return Number(r.totals?.requests) >= 1
    })
    await page.getByTestId('nav-usage').click()
    const table = page.getByTestId('usage-table')
    await table.waitFor()
    const today = new Date().toISOString().slice(0, 10)
    const row = page.getByTestId('usage-row').filter({ hasText: today })
    try {
      await expectText(table, today)
    } catch (e) {
      const from = await page.locator('[name="from"]').inputValue()
      const to = await page.locator('[name="to"]').inputValue()
      throw new Error(
        `The Usage page (From ${from}, To ${to}) shows no row for today (${today}) although ` +
          `/admin/usage counts the request.\n${(e as Error).message}`,
      )
    }
    await screenshot(page, '05-usage')
    const cells = (await row.locator('td').allInnerTexts()).map((s) => s.trim())
    // Day, Requests, Success, Failed, Prompt tokens, Completion tokens, Total tokens, Cost, Charged
    expect(cells).toHaveLength(9)
    const n = (s: string) => Number(s.replace(/,/g, ''))
    expect(n(cells[1]!)).toBeGreaterThanOrEqual(1)
    expect(n(cells[2]!)).toBeGreaterThanOrEqual(1)
    expect(n(cells[6]!)).toBeGreaterThan(0)
    expect(cells[7]).toMatch(/^\$\d[\d,]*\.\d{2,6}$/)
    expect(cells[7]).not.toMatch(/^\$0\.0+$/)
    // At price ratio 1 the charge is the cost.
    expect(cells[8]).toBe(cells[7])
    const totals = await page.getByTestId('usage-totals').innerText()
    expect(totals).toMatch(/Requests\s+[1-9]/)
  })

  test("the keys page shows the key's spend today and this month against its budgets", async () => {
    await page.getByTestId('nav-keys').click()
    const row = keyRow()
    await expectText(row, /\$[\d.]+ \/ \$5\.00 today/)
    await expectText(row, /\$[\d.]+ \/ \$50\.00 month/)
    expect(await row.innerText()).not.toMatch(/\$0\.00 \/ \$5\.00 today/)
  })

  test('the projects page shows the project, its spend against its budgets and its keys', async () => {
    await page.getByTestId('nav-projects').click()
    const row = page.getByTestId('project-row').filter({ hasText: PROJECT })
    await expectText(row, /no budget|today/)
    await row.getByTestId('project-edit').click()
    await page.locator('dialog[open] [name="daily_budget"]').fill('2')
    await page.getByTestId('project-submit').click()
    await expectText(
      page.getByTestId('project-row').filter({ hasText: PROJECT }),
      /\$[\d.]+ \/ \$2\.00 today/,
    )
    await page.getByTestId('project-row').filter({ hasText: PROJECT }).getByTestId('project-open').click()
    await expectText(page.getByTestId('project-key-row').filter({ hasText: KEY_NAME }), /\$[\d.]+ \/ \$5\.00/)
    await screenshot(page, '05b-projects')
    expect((await admin(`/admin/projects/${PROJECT}`)).daily_budget).toBe(2)
  })

  test('the billing page tops a project up, shows its ledger and margin, and mints and revokes codes', async () => {
    await page.getByTestId('nav-billing').click()
    const row = () => page.getByTestId('billing-row').filter({ hasText: PROJECT })
    await expectText(row(), /postpaid/)
    await row().getByTestId('top-up').click()
    await page.locator('dialog[open] [name="amount_usd"]').fill('3')
    await page.locator('dialog[open] [name="note"]').fill('invoice 1')
    await page.getByTestId('top-up-submit').click()
    await expectText(row().getByTestId('balance'), '$3.00')
    await row().getByTestId('edit-pricing').click()
    await page.locator('dialog[open] [name="balance_alert_usd"]').fill('1')
    await page.getByTestId('pricing-submit').click()
    await expectText(row(), /\$1\.00/)
    await row().getByTestId('open-ledger').click()
    await expectText(page.getByTestId('credit-row').first(), /invoice 1/)
    await expectText(page.getByTestId('billing-margin'), /Cost \$[\d.]+ · charged \$[\d.]+ · margin \$[\d.]+/)
    expect((await admin(`/admin/projects/${PROJECT}`)).balance_usd).toBe(3)
    const keyWindows = page.getByTestId('key-window-row').filter({ hasText: KEY_NAME })
    await keyWindows.getByTestId('edit-key-windows').click()
    await page.locator('dialog[open] [name="windows"]').fill('[{"period":"5h","limit_requests":100}]')
    await page.getByTestId('key-windows-submit').click()
    await expectText(page.getByTestId('key-window-row').filter({ hasText: KEY_NAME }), /5h: 100 req/)

    await page.getByTestId('mint-codes').click()
    await page.locator('dialog[open] [name="amount_usd"]').fill('2')
    await page.locator('dialog[open] [name="count"]').fill('2')
    await page.getByTestId('mint-submit').click()
    const minted = page.getByTestId('minted-list')
    await minted.waitFor()
    const codes = (await minted.innerText()).trim().split('\n')
    expect(codes).toHaveLength(2)
    for (const code of codes) expect(code).toMatch(/^nxr_[0-9A-Za-z]{24}$/)
    await screenshot(page, '05c-billing-codes')
    await page.getByTestId('minted-codes').getByRole('button', { name: 'Close' }).click()
    const codeRow = page.getByTestId('code-row').filter({ hasText: codes[0]!.slice(-4) })
    await expectText(codeRow, /active/)
    expect(await page.evaluate(() => (globalThis as any).document.body.innerText)).not.toContain(codes[0])
    await codeRow.getByTestId('revoke-code').click()
    await expectText(page.getByTestId('code-row').filter({ hasText: codes[0]!.slice(-4) }), /revoked/)
  })

  test('the request log shows the request and filters by status', async () => {
    await page.getByTestId('nav-requests').click()
    const table = page.getByTestId('requests-table')
    await expectText(table, 'gpt-4o-mini')
    const row = page.getByTestId('request-row').filter({ hasText: KEY_NAME }).first()
    await expectText(row, /200/)
    await expectText(row, PROJECT)
    await screenshot(page, '05c-request-log')
    await page.locator('[data-testid="requests-filters"] [name="status"]').selectOption('429')
    await page.getByTestId('requests-apply').click()
    await expectText(table, /No requests match/)
  })

  test('disabling the key shows it disabled, and the gateway refuses it', async () => {
    await page.getByTestId('nav-keys').click()
    const row = keyRow()
    await row.getByTestId('key-toggle').click()
    await expectText(row, /\bdisabled\b/)
    await expectText(row.getByTestId('key-toggle'), 'Enable')
    await screenshot(page, '06-key-disabled')

    const { status, body } = await chat(rawKey)
    expect(status, JSON.stringify(body)).toBe(401)
    expect(body.error?.code).toBe('invalid_api_key')
  })

  test('rotating the key (after confirming) shows a new raw key once', async () => {
    const row = keyRow()
    await row.getByTestId('key-rotate').click()
    const ok = page.getByTestId('confirm-ok')
    await ok.waitFor()
    await screenshot(page, '07-rotate-confirm')
    await ok.click()
    const rotated = await takeRawKey('08-rotated-key-shown')
    expect(rotated).not.toBe(rawKey)
    await expectText(keyRow(), rotated.slice(0, 8))

    // Enabled again, the new secret works and the old one stays refused.
    await keyRow().getByTestId('key-toggle').click()
    await expectText(keyRow(), /\bactive\b/)
    const fresh = await chat(rotated)
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200)
    expect((await chat(rawKey)).status).toBe(401)
  })

  test('the providers page lists openai-main with its upstream key state', async () => {
    await page.getByTestId('nav-providers').click()
    const row = page.getByTestId('provider-row').filter({ hasText: 'openai-main' })
    await expectText(row, /key configured|no key/)
    await expectText(row, /\benabled\b/)
    await screenshot(page, '09-providers')
  })

  test('a provider that keeps failing shows an open breaker, and Reset closes it', async () => {
    const send = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status, `${method} ${path}`).toBeLessThan(300)
      return (await res.json()) as Record<string, any>
    }
    const main = (await admin('/admin/providers')).data.find((p: any) => p.name === 'openai-main')
    const down = await send('POST', '/admin/providers', {
      name: 'ui-down',
      base_url: String(main.effective_base_url).replace(/\/v1$/, '/s/status500~ui-down/v1'),
      api_key_ref: main.api_key_ref,
      max_retries: 0,
    })
    for (const [provider, priority] of [
      [down.id, 1],
      [main.id, 2],
    ])
      await send('POST', '/admin/model-mappings', {
        model: 'ui-failover',
        provider_id: provider,
        upstream_model: 'gpt-4o-mini',
        priority,
      })
    // Two keys: one key alone opens a breaker for itself only.
    const keys = [
      await send('POST', '/admin/api-keys', { name: 'ui-failover', allowed_models: ['ui-failover'] }),
      await send('POST', '/admin/api-keys', { name: 'ui-failover-2', allowed_models: ['ui-failover'] }),
    ]
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[i % 2]!.raw_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ui-failover', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(200)
      await res.text()
    }
    await until('the breaker of ui-down to open', async () => {
      const row = (await admin('/admin/providers')).data.find((p: any) => p.name === 'ui-down')
      return row?.health?.state === 'open'
    })
    await page.getByTestId('nav-health').click()
    await page.getByTestId('nav-providers').click()
    const row = page.getByTestId('provider-row').filter({ hasText: 'ui-down' })
    await expectText(row.getByTestId('provider-health'), /\bopen\b/)
    await screenshot(page, '09b-provider-breaker-open')
    await row.getByTestId('provider-reset').click()
    await expectText(row.getByTestId('provider-health'), /\bclosed\b/)
  })

  test('stores an upstream key for a provider, shows only its hint and state, then removes it', async () => {
    const secret = `sk-ui-test-${Date.now()}-pooledKEY9`
    const row = page.getByTestId('provider-row').filter({ hasText: 'openai-backup' })
    await row.getByTestId('provider-keys').click()
    const dialog = page.getByTestId('provider-keys-dialog')
    await dialog.waitFor()
    await dialog.getByTestId('provider-key-input').fill(secret)
    await dialog.getByTestId('provider-key-add').click()
    const keyRow = dialog.getByTestId('provider-key-row')
    await expectText(keyRow, 'KEY9')
    await expectText(keyRow, /\bactive\b/)
    expect(await dialog.getByTestId('provider-key-input').inputValue()).toBe('')
    await screenshot(page, '10-provider-key-added')
    // Written sealed: the API knows only the hint, and the page holds no copy of the key.
    const provider = (await admin('/admin/providers')).data.find((p: any) => p.name === 'openai-backup')
    expect(provider.stored_keys).toMatchObject([{ hint: 'KEY9', state: 'active' }])
    expect(JSON.stringify(provider)).not.toContain(secret)
    const onPage = await page.evaluate(
      (key) => (globalThis as any).document.documentElement.outerHTML.includes(key),
      secret,
    )
    expect(onPage, 'the stored key is still in the page').toBe(false)

    await dialog.getByTestId('provider-key-remove').click()
    await page.getByTestId('confirm-ok').click()
    await expectText(dialog.getByTestId('provider-keys-table'), 'No stored keys.')
    await dialog.getByRole('button', { name: 'Close' }).click()
    const after = (await admin('/admin/providers')).data.find((p: any) => p.name === 'openai-backup')
    expect(after.stored_keys).toEqual([])
  })

  test('the health page shows Postgres and Redis OK', async () => {
    await page.getByTestId('nav-health').click()
    await expectText(page.getByTestId('health-postgres'), /Postgres\s+ok/)
    await expectText(page.getByTestId('health-redis'), /Redis\s+ok/)
    await expectText(page.getByTestId('health-status'), 'All systems operational')
    await screenshot(page, '11-health')
  })

  // The scrape a Prometheus job would make after this session: it must parse (our strict reader) and,
  // where promtool is installed (.ci/run fetches Debian's), pass `promtool check metrics`.
  test('the /metrics scrape of the running stack is valid Prometheus text', async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text()
    const families = parsePrometheus(text)
    expect(families.get('nexusai_requests_total')?.samples.length).toBeGreaterThan(0)
    const promtool = process.env.PROMTOOL ?? 'promtool'
    const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
    if (check.error && (check.error as NodeJS.ErrnoException).code === 'ENOENT') return
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0)
  })

  // The window size of a laptop with the browser not quite full screen.
  describe('at 1400×900', () => {
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      expect(res.status, `${method} ${path}`).toBeLessThan(300)
      return (await res.json()) as Record<string, any>
    }

    test('the keys table fits the window: every row shows its Rotate button without scrolling', async () => {
      await page.setViewportSize({ width: 1400, height: 900 })
      // Long names, ids and model names, large limits and budgets: what widened the table.
      await send('POST', '/admin/api-keys', {
        name: 'ingest_worker_eu_west_1_primary_batch_000123',
        project_id: 'analytics-platform-data-engineering-team',
        allowed_models: ['anthropic/claude-sonnet-4-5-20250929', 'openai/gpt-4.1-mini-2025-04-14'],
        rpm_limit: 1_000_000,
        tpm_limit: 100_000_000,
        daily_budget: 100_000,
        monthly_budget: 3_000_000,
        expires_at: '2030-01-01T00:00:00Z',
      })
      await page.getByTestId('nav-keys').click()
      await expectText(page.getByTestId('keys-table'), 'ingest_worker')
      await screenshot(page, '12-keys-1400')
      const fit = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any
        const wrap = document.querySelector('[data-testid="keys-table"]').parentElement
        const rotates = [...document.querySelectorAll('[data-testid="key-rotate"]')]
        return {
          overflow: wrap.scrollWidth - wrap.clientWidth,
          rows: rotates.length,
          cut: rotates.filter((b: any) => b.getBoundingClientRect().right > innerWidth).length,
        }
      })
      expect(fit.rows).toBeGreaterThanOrEqual(3)
      expect(fit).toMatchObject({ overflow: 0, cut: 0 })
    })

    test('the projects page shows nothing stray under its table', async () => {
      // A fresh page: no project's keys open under the table.
      await page.reload()
      await page.getByTestId('nav-projects').click()
      await expectText(page.getByTestId('projects-table'), PROJECT)
      const content = page.locator('#page-content')
      // Elements only: no text node beside the table.
      const nodes = await content.evaluate((el: any) => [...el.childNodes].map((n: any) => n.nodeName))
      expect(nodes).not.toContain('#text')
      expect(await content.innerText()).not.toMatch(/(^|\n)\s*null\s*($|\n)/)
      await screenshot(page, '13-projects-1400')
    })

    test('the webhooks page adds a webhook (its secret shown once) and shows its delivery log', async () => {
      const main = (await send('GET', '/admin/providers')).data.find((p: any) => p.name === 'openai-main')
      const receiver = String(main.effective_base_url).replace(/\/v1$/, '/s/hook~ui/v1/webhook')
      await page.getByTestId('nav-webhooks').click()
      await expectText(page.getByTestId('webhooks-table'), /No webhooks yet/)
      await page.getByTestId('create-webhook').click()
      const form = page.locator('dialog[open] form')
      await form.locator('[name="url"]').fill(receiver)
      await form.locator('[name="events"]').fill('budget.threshold, budget.exhausted')
      await page.getByTestId('webhook-submit').click()
      const dialog = page.getByTestId('webhook-secret-dialog')
      await dialog.waitFor()
      const secret = (await dialog.getByTestId('webhook-secret').innerText()).trim()
      expect(secret).toMatch(/^whsec_[0-9a-f]{48}$/)
      await dialog.getByRole('button', { name: 'I have saved it' }).click()
      await dialog.waitFor({ state: 'detached' })
      const row = page.getByTestId('webhook-row').filter({ hasText: receiver })
      await expectText(row, `…${secret.slice(-4)}`)
      await expectText(row, /enabled/)
      const onPage = await page.evaluate(
        (s) => (globalThis as any).document.documentElement.outerHTML.includes(s),
        secret,
      )
      expect(onPage, 'the signing secret is still in the page').toBe(false)

      // A key whose budget one request exhausts: the gateway announces it to the webhook.
      const key = await send('POST', '/admin/api-keys', {
        name: 'ui-webhook-budget',
        allowed_models: ['gpt-4o-mini'],
        daily_budget: 0.000001,
      })
      await chat(key.raw_key)
      await row.getByTestId('webhook-deliveries').click()
      const log = page.getByTestId('deliveries-table')
      await until('a delivery to show in the log', async () => {
        await page.getByTestId('deliveries-refresh').click()
        return /budget\.(threshold|exhausted)/.test(await log.innerText())
      })
      await expectText(page.getByTestId('delivery-row').first(), /delivered/)
      await screenshot(page, '14-webhooks-1400')
      const fit = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any
        return [...document.querySelectorAll('[data-testid="webhook-delete"]')].every(
          (b: any) => b.getBoundingClientRect().right <= innerWidth,
        )
      })
      expect(fit).toBe(true)
    })
  })

  test('no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([])
  })
})
