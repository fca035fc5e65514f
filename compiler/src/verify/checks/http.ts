/**
 * `http`: a request from the host with Node's fetch, to loopback only. With `form_from`, the page
 * is fetched first and the hidden inputs of its first form and its cookies are sent along, as a
 * browser would. Redirects are followed unless the expected status is itself a redirect (3xx).
 */
import type { HttpCheck } from '../../model/types.ts';
import { isLoopbackUrl } from '../../model/names.ts';
import { clip, outcome, type CheckContext, type CheckOutcome } from './types.ts';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** Pure: the hidden inputs (name → value, in page order) of the first form of an HTML page. */
export function hiddenFieldsOfFirstForm(html: string): [string, string][] {
  const form = /<form\b[\s\S]*?<\/form>/i.exec(html)?.[0];
  if (!form) return [];
  const fields: [string, string][] = [];
  for (const tag of form.match(/<input\b[^>]*>/gi) ?? []) {
    if ((attr(tag, 'type') ?? '').toLowerCase() !== 'hidden') continue;
    const name = attr(tag, 'name');
    if (name) fields.push([name, attr(tag, 'value') ?? '']);
  }
  return fields;
}

/** Pure: "name=value" pairs from Set-Cookie headers (attributes dropped). */
export function cookiePairs(setCookie: readonly string[]): string[] {
  return setCookie.map((c) => c.split(';')[0]!.trim()).filter((p) => p.includes('='));
}

async function fetchLoopback(url: string, init: RequestInit): Promise<Response> {
  if (!isLoopbackUrl(url)) throw new Error(`refusing to send a request to ${url}: checks only talk to loopback addresses`);
  return fetch(url, init);
}

export async function runHttpCheck(check: HttpCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const problems: string[] = [];
  const observed: Record<string, unknown> = {};
  const headers: Record<string, string> = { ...check.headers };
  const body = new URLSearchParams();

  if (check.formFrom) {
    const page = await fetchLoopback(check.formFrom, { signal: ctx.signal, redirect: 'follow' });
    const html = await page.text();
    const hidden = hiddenFieldsOfFirstForm(html);
    const cookies = cookiePairs(page.headers.getSetCookie());
    for (const [k, v] of hidden) body.append(k, v);
    if (cookies.length) headers.cookie = cookies.join('; ');
    observed.formFrom = { url: check.formFrom, status: page.status, hiddenFields: hidden.map(([k]) => k), cookies: cookies.map((c) => c.split('=')[0]) };
    if (!page.ok) problems.push(`form_from ${check.formFrom} answered ${page.status}`);
  }
  for (const [k, v] of Object.entries(check.form ?? {})) body.set(k, v);
  const hasBody = check.form !== undefined || check.formFrom !== undefined;
  if (hasBody) headers['content-type'] = 'application/x-www-form-urlencoded';

  const expected = check.expect.status;
  const manual = expected !== undefined && expected >= 300 && expected < 400;
  const res = await fetchLoopback(check.url, {
    method: check.method,
    headers,
    body: hasBody && check.method === 'POST' ? body.toString() : undefined,
    redirect: manual ? 'manual' : 'follow',
    signal: ctx.signal,
  });
  const text = check.method === 'HEAD' ? '' : await res.text();
  observed.request = { method: check.method, url: check.url, ...(hasBody ? { fields: [...new Set(body.keys())] } : {}) };
  observed.status = res.status;
  if (res.redirected) observed.finalUrl = res.url;
  if (manual && res.headers.get('location')) observed.location = res.headers.get('location');
  observed.bodyBytes = Buffer.byteLength(text);

  if (expected !== undefined && res.status !== expected) problems.push(`status ${res.status}, expected ${expected}`);
  const seenHeaders: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(check.expect.headers)) {
    const got = res.headers.get(name);
    seenHeaders[name] = got;
    if (got !== value) problems.push(got === null ? `header ${name} is missing (expected ${JSON.stringify(value)})` : `header ${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
  for (const name of check.expect.headersAbsent) {
    const got = res.headers.get(name);
    seenHeaders[name] = got;
    if (got !== null) problems.push(`header ${name} is present (${JSON.stringify(got)}) but must be absent`);
  }
  if (Object.keys(seenHeaders).length) observed.headers = seenHeaders;
  if (check.expect.bodyContains.length) {
    observed.bodyContains = Object.fromEntries(check.expect.bodyContains.map((t) => [t, text.includes(t)]));
    for (const t of check.expect.bodyContains) if (!text.includes(t)) problems.push(`the body does not contain ${JSON.stringify(t)}`);
  }
  if (check.expect.bodyNotContains.length) {
    observed.bodyNotContains = Object.fromEntries(check.expect.bodyNotContains.map((t) => [t, !text.includes(t)]));
    for (const t of check.expect.bodyNotContains) if (text.includes(t)) problems.push(`the body contains ${JSON.stringify(t)}`);
  }
  if (problems.length && text) observed.bodyTail = clip(text, 1500);
  return outcome(problems, ['http'], observed);
}
