// The CLI as people and scripts meet it: help on every command, exit codes scripts can rely on
// (0 ok, 1 spec errors, 2 usage), colour only on a terminal and never with NO_COLOR, --json.
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';

interface Captured { code: number; stdout: string; stderr: string }

async function cli(argv: string[], opts: { cwd?: string; tty?: boolean; env?: Record<string, string> } = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runMain(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.tty ?? false },
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
  });
  return { code, stdout, stderr };
}

let dir: string;
const good = `---
hardspec: 1
kind: service
image: { name: demo/web:1 }
user: "1000:1000"
networks: [front]
capabilities: { add: [NET_BIN] }
---
# Web
`;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hardspec-cli-'));
  await mkdir(path.join(dir, 'specs/demo'), { recursive: true });
  await writeFile(path.join(dir, 'specs/demo/stack.md'), '---\nhardspec: 1\nkind: stack\nnetworks: { front: {} }\n---\n# Demo\n');
  await writeFile(path.join(dir, 'specs/demo/web.md'), good);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hardspec CLI', () => {
  it('prints help for the program and for every command, exit 0', async () => {
    const main = await cli(['--help']);
    expect(main.code).toBe(0);
    const commands = [...main.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['compile', 'check']));
    for (const c of commands) {
      const r = await cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^Usage: hardspec ${c}`));
      expect(r.stdout, c).toMatch(/Exit codes/);
    }
  });

  it('no command is a usage error (exit 2) that shows the help', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/Usage: hardspec <command>/);
  });

  it('an unknown command or option is a usage error, exit 2', async () => {
    expect((await cli(['compiel'])).code).toBe(2);
    const r = await cli(['compile', '--frobnicate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --frobnicate/);
  });

  it('minimize --strict without --minimal is a usage error, exit 2', async () => {
    const r = await cli(['minimize', 'demo', '--service', 'web', '--what', 'syscalls', '--strict'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--strict is a level of the --minimal proof: give --minimal too/);
  });

  it('minimize --parallel takes 1 to 4, not with linear or files: usage errors, exit 2', async () => {
    const base = ['minimize', 'demo', '--service', 'web'];
    for (const [args, message] of [
      [['--what', 'syscalls', '--parallel', '0'], /--parallel must be between 1 and 4/],
      [['--what', 'syscalls', '--parallel', 'two'], /--parallel must be between 1 and 4/],
      [['--what', 'syscalls', '--strategy', 'linear', '--parallel', '2'], /--parallel does not apply to --strategy linear/],
      [['--what', 'files', '--parallel', '2'], /--parallel does not apply to --what files/],
    ] as const) {
      const r = await cli([...base, ...args], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('a missing specs folder is a usage error, exit 2', async () => {
    const r = await cli(['check', 'no-such-folder'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-folder is not a folder/);
  });

  it('spec errors exit 1 with file:line:column, the code and a suggestion, and write nothing', async () => {
    const r = await cli(['compile', 'specs', '--out', 'out'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('specs/demo/web.md:7:23: error HS3001: unknown capability "NET_BIN"; did you mean "NET_BIND_SERVICE"?');
    expect(r.stderr).toMatch(/nothing was written/);
    await expect(readdir(path.join(dir, 'out'))).rejects.toThrow(/ENOENT/);
  });

  it('--json gives machine-readable diagnostics', async () => {
    const r = await cli(['check', 'specs', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<Record<string, unknown>> };
    expect(json.ok).toBe(false);
    expect(json.diagnostics[0]).toMatchObject({ file: 'specs/demo/web.md', line: 7, column: 23, code: 'HS3001', severity: 'error' });
  });

  it('colours only on a terminal, and never with NO_COLOR', async () => {
    const plain = await cli(['check', 'specs'], { cwd: dir, tty: false });
    expect(plain.stderr).not.toMatch(/\x1b\[/);
    const tty = await cli(['check', 'specs'], { cwd: dir, tty: true });
    expect(tty.stderr).toMatch(/\x1b\[/);
    const noColor = await cli(['check', 'specs'], { cwd: dir, tty: true, env: { NO_COLOR: '1' } });
    expect(noColor.stderr).not.toMatch(/\x1b\[/);
  });

  it('compiles a valid stack, exit 0, and check writes nothing', async () => {
    await writeFile(path.join(dir, 'specs/demo/web.md'), good.replace('NET_BIN', 'NET_BIND_SERVICE'));
    const check = await cli(['check', 'specs'], { cwd: dir });
    expect(check.code).toBe(0);
    await expect(readdir(path.join(dir, 'generated'))).rejects.toThrow();
    const r = await cli(['compile', 'specs'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/demo: 1 service\(s\), \d+ artifacts written to generated\/demo\//);
    expect((await readdir(path.join(dir, 'generated/demo'))).sort()).toEqual(['compose.yaml', 'manifest.json', 'seccomp']);
  });
});
