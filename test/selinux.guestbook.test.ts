// The guestbook's committed SELinux modules (generated/guestbook/selinux/) compile with Debian's
// selinux-policy-dev and link into the selinux-policy-default store beside refpolicy's container
// module; the linked policy then holds the spec's rules, and none of the capabilities container_t's
// own rules grant (sys_admin, sys_ptrace, …) unless the spec adds them back (the guestbook adds
// none). The container_domain attributes still grant a few (setuid, kill, …): a module cannot
// take them away, and Docker has dropped them from the process anyway. Enforcement itself cannot be checked here: the kernel has no SELinux.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildAndLinkModules, selinuxToolchainMissing, sesearchAllow, type AllowRule } from '../compiler/src/emit/selinux/check-module.ts';

const root = path.resolve(import.meta.dirname, '..');
const missing = selinuxToolchainMissing();
if (process.env.CI && missing) throw new Error(`SELinux tools missing in CI (${missing}): .ci/run must install them`);
const ppDir = mkdtempSync(path.join(tmpdir(), 'hardspec-gb-pp-'));
afterAll(() => rmSync(ppDir, { recursive: true, force: true }));

it.skipIf(missing !== undefined)('the guestbook modules compile, link, and carry exactly the spec rules', { timeout: 240_000 }, async () => {
  const found: Record<string, AllowRule[]> = {};
  const result = await buildAndLinkModules(path.join(root, 'generated/guestbook/selinux'), ['guestbook_db', 'guestbook_php', 'guestbook_web'], {
    ppDir,
    whileLinked: async () => {
      found.dbPort = await sesearchAllow('guestbook_db_t', 'mysqld_port_t', 'tcp_socket');
      found.webPort = await sesearchAllow('guestbook_web_t', 'http_cache_port_t', 'tcp_socket');
      for (const s of ['db', 'php', 'web']) found[`${s}Caps`] = await sesearchAllow(`guestbook_${s}_t`, `guestbook_${s}_t`, 'capability');
      found.containerCaps = await sesearchAllow('container_t', 'container_t', 'capability');
    },
  });
  expect(result.ok, result.log).toBe(true);
  expect(found.dbPort!.map((r) => r.text)).toEqual(['allow guestbook_db_t mysqld_port_t:tcp_socket name_bind;']);
  expect(found.webPort!.map((r) => r.text)).toEqual(['allow guestbook_web_t http_cache_port_t:tcp_socket name_bind;']);
  const perms = (rules: AllowRule[]) => new Set(rules.filter((r) => r.conditional === undefined).flatMap((r) => r.permissions));
  const containerOwn = ['sys_admin', 'sys_ptrace', 'sys_resource', 'sys_nice', 'fowner', 'chown', 'dac_read_search', 'fsetid', 'setpcap'];
  // The control: container_t itself does have them, so the search would find them if they were there.
  for (const c of containerOwn) expect(perms(found.containerCaps!), `container_t ${c}`).toContain(c);
  for (const s of ['db', 'php', 'web']) {
    for (const c of containerOwn) expect(perms(found[`${s}Caps`]!), `${s} ${c}`).not.toContain(c);
  }
});
