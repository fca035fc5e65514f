// strip/<service>.strip-cmd is a shell script: every argument must reach strip-docker-image exactly
// as written, whatever it holds. The script is run by a real /bin/sh with a stand-in
// strip-docker-image that prints its arguments one per line.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitStrip, shellQuote } from '../compiler/src/emit/strip/emit-strip.ts';
import type { ServiceModel, StackModel } from '../compiler/src/model/types.ts';

const bin = mkdtempSync(path.join(tmpdir(), 'hardspec-strip-'));
writeFileSync(path.join(bin, 'strip-docker-image'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
chmodSync(path.join(bin, 'strip-docker-image'), 0o755);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function runScript(script: string): string[] {
  const file = path.join(bin, 'run.sh');
  writeFileSync(file, script);
  return execFileSync('/bin/sh', [file], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' }).split('\n').slice(0, -1);
}

describe('strip-cmd', () => {
  it('single-quotes hostile strings so the shell passes them unchanged', () => {
    const hostile = ["it's", '$(reboot)', '`id`', 'a b\tc', '"; rm -rf / #', '\\', "''", 'new\nline', '*', '-x'];
    for (const s of hostile) {
      expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' }), JSON.stringify(s)).toBe(s);
    }
  });

  it('refuses a NUL byte, which no shell argument can carry', () => {
    expect(() => shellQuote('a\u0000b')).toThrow(/NUL/);
  });

  it('runs strip-docker-image with exactly the spec lists', () => {
    const service = {
      name: 'web',
      source: { path: 'specs/demo/web.md', relPath: 'web.md', sha256: '', title: '', sections: [], body: '' },
      image: { name: 'demo/web:1' },
      user: { uid: 33, gid: 33 },
      ports: [{ container: 8080, host: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }],
      strip: { target: 'demo/web:1-stripped', packages: ['nginx', 'libc6'], files: ['/etc/nginx/nginx.conf', '/srv/a+b@c'] },
    } as unknown as ServiceModel;
    const [cmd, json] = emitStrip({ name: 'demo' } as StackModel, service);
    expect(cmd!.path).toBe('strip/web.strip-cmd');
    expect(runScript(cmd!.content)).toEqual(['-i', 'demo/web:1', '-t', 'demo/web:1-stripped', '-p', 'nginx', '-p', 'libc6', '-f', '/etc/nginx/nginx.conf', '-f', '/srv/a+b@c', '-x', '8080']);
    expect(JSON.parse(json!.content)).toEqual({ image: 'demo/web:1', target: 'demo/web:1-stripped', packages: ['nginx', 'libc6'], files: ['/etc/nginx/nginx.conf', '/srv/a+b@c'], ports: [8080], user: '33:33' });
  });
});
