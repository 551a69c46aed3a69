// Headless Chromium (Debian's `chromium` package) driven by playwright-core, plus small helpers that keep
// the test free of fixed sleeps: every wait is a Playwright auto-wait or a bounded poll.
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { root } from './stack'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOTS = join(root, 'test-results', 'admin-ui')
// How long a step may take to show what the user should see.
export const STEP_TIMEOUT_MS = 15_000

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the admin UI test needs Debian's chromium package ` +
        '(apt-get update && apt-get install -y chromium; .ci/run installs it when missing)',
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export function resetScreenshots() {
  rmSync(SCREENSHOTS, { recursive: true, force: true })
  mkdirSync(SCREENSHOTS, { recursive: true })
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** Waits until the (single) element's visible text matches; the error shows the last text seen. */
export async function expectText(locator: Locator, expected: RegExp | string) {
  const re = typeof expected === 'string' ? new RegExp(escape(expected)) : expected
  let last = '(element not found)'
  try {
    await until(
      `${locator} to show ${re}`,
      async () => {
        last = await locator.innerText({ timeout: STEP_TIMEOUT_MS })
        return re.test(last)
      },
      STEP_TIMEOUT_MS,
    )
  } catch (e) {
    throw new Error(`${(e as Error).message}; its text was: ${JSON.stringify(last)}`)
  }
}

/** Polls fn until it returns a truthy value, or fails with `what` after the timeout. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs
  let delay = 50
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, 500)
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
