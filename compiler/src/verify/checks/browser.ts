/**
 * `browser`: Debian's Chromium driven by playwright-core opens the page, fills the form, clicks
 * submit, waits for the navigation, checks the text and keeps a PNG screenshot as evidence.
 * Chromium resolves no host name but localhost and every request leaving loopback is aborted,
 * so a page can never make the verifier send traffic elsewhere. A page showing a secret is never
 * photographed.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { BrowserCheck } from '../../model/types.ts';
import { isLoopbackUrl } from '../../model/names.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
  // Belt and braces: no name or address resolves except loopback ones, so nothing can leave the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*, EXCLUDE [::1]',
];

/** One Chromium per run, launched on first use and closed at the end. */
export class BrowserPool {
  private browser: Promise<Browser> | undefined;

  constructor(private readonly executablePath = CHROMIUM_PATH) {}

  get(): Promise<Browser> {
    if (!this.browser) {
      if (!existsSync(this.executablePath)) {
        return Promise.reject(new Error(`Chromium is not installed at ${this.executablePath} (Debian: apt-get install chromium); hardspec never downloads a browser`));
      }
      this.browser = import('playwright-core').then(({ chromium }) => chromium.launch({
        executablePath: this.executablePath,
        args: [...CHROMIUM_ARGS],
        headless: true,
        // The verifier handles signals itself and closes the browser in its teardown.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        timeout: 30_000,
      }));
    }
    return this.browser;
  }

  async close(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    if (b) await (await b.catch(() => undefined))?.close().catch(() => undefined);
  }
}

export async function runBrowserCheck(check: BrowserCheck, ctx: CheckContext): Promise<CheckOutcome> {
  if (!isLoopbackUrl(check.url)) throw new Error(`refusing to open ${check.url}: checks only talk to loopback addresses`);
  const browser = await ctx.browser.get();
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, serviceWorkers: 'block' });
  const blocked: string[] = [];
  const onAbort = () => { void context.close().catch(() => undefined); };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopbackUrl(url) || url.startsWith('data:')) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.setDefaultTimeout(Math.max(1000, ctx.timeoutMs));
    const problems: string[] = [];
    const observed: Record<string, unknown> = {};
    const first = await page.goto(check.url, { waitUntil: 'load' });
    const openedStatus = first?.status() ?? null;
    observed.opened = { url: check.url, status: openedStatus };
    // An error page has no form to fill: say so now rather than wait for a field at the time limit.
    const broken = openedStatus !== null && openedStatus >= 400;
    if (broken) problems.push(`the page answered ${openedStatus}`);
    for (const [selector, text] of broken ? [] : check.fill) await page.fill(selector, text);
    if (check.fill.length && !broken) observed.filled = check.fill.map(([selector]) => selector);
    if (check.submit && !broken) {
      const response = page.waitForNavigation({ waitUntil: 'load' });
      await page.click(check.submit);
      const nav = await response;
      observed.submitted = { selector: check.submit, status: nav?.status() ?? null, url: page.url() };
    }
    const text = await page.innerText('body');
    observed.title = await page.title();
    if (check.expect.textContains.length) {
      observed.textContains = Object.fromEntries(check.expect.textContains.map((t) => [t, text.includes(t)]));
      for (const t of check.expect.textContains) if (!text.includes(t)) problems.push(`the page does not show ${JSON.stringify(t)}`);
    }
    if (check.expect.textNotContains.length) {
      observed.textNotContains = Object.fromEntries(check.expect.textNotContains.map((t) => [t, !text.includes(t)]));
      for (const t of check.expect.textNotContains) if (text.includes(t)) problems.push(`the page shows ${JSON.stringify(t)}`);
    }
    if (blocked.length) observed.blockedRequests = blocked;
    let screenshot: string | undefined;
    if (check.screenshot) {
      const html = await page.content();
      if (ctx.scrubber.leaks(text) || ctx.scrubber.leaks(html) || ctx.scrubber.leaks(page.url())) {
        problems.push('the page shows a secret: no screenshot was taken');
      } else {
        screenshot = `screenshots/${ctx.interactionId}.png`;
        await mkdir(path.join(ctx.evidenceDir, 'screenshots'), { recursive: true });
        await page.screenshot({ path: path.join(ctx.evidenceDir, screenshot), fullPage: true });
      }
    }
    return outcome(problems, ['browser'], observed, screenshot ? { screenshot } : {});
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await context.close().catch(() => undefined);
  }
}
