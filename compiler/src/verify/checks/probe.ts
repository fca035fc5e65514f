/**
 * `probe`: hardspec's static probe (bind-mounted read-only at /.hardspec-probe for this run only)
 * runs one operation in the container with `docker exec`, as the container's user, under its
 * capabilities and seccomp filter. The result is read with parseProbeResult (exit status first,
 * the JSON line for details).
 */
import syscallTables from '../../emit/seccomp/syscall-tables.json' with { type: 'json' };
import type { ProbeCheck } from '../../model/types.ts';
import type { ExecResult, VerifierEngine } from '../engine.ts';
import { PROBE_MOUNT_PATH, parseProbeResult, type ProbeResult } from '../probe.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

const TABLES = syscallTables as unknown as Record<string, Record<string, number>>;

/** Node's arch name → the syscall table's. */
export function syscallTable(arch: string): Readonly<Record<string, number>> {
  const table = TABLES[arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch];
  if (!table) throw new Error(`no syscall table for the architecture ${arch}`);
  return table;
}

/** Pure: `syscall` takes a number; a name is looked up in the engine architecture's table. */
export function probeArgv(op: string, args: readonly string[], arch: string): string[] {
  if (op === 'syscall' && args[0] !== undefined && !/^\d+$/.test(args[0])) {
    const nr = syscallTable(arch)[args[0]];
    if (nr === undefined) throw new Error(`the syscall ${args[0]} does not exist on ${arch}`);
    return [PROBE_MOUNT_PATH, op, String(nr), ...args.slice(1)];
  }
  return [PROBE_MOUNT_PATH, op, ...args];
}

export interface ProbeRun {
  readonly argv: readonly string[];
  readonly exec: ExecResult;
  readonly result: ProbeResult;
}

export async function runProbe(engine: VerifierEngine, service: string, op: string, args: readonly string[], timeoutMs: number): Promise<ProbeRun> {
  const argv = probeArgv(op, args, engine.host.arch);
  const exec = await engine.exec(service, argv, timeoutMs);
  return { argv, exec, result: parseProbeResult(exec.exitCode, exec.stdout, op, engine.host.arch) };
}

/** Pure: what a probe result says about an expectation; a list of problems (empty: as expected). */
export function judgeProbe(result: ProbeResult, expect: ProbeCheck['expect'], exec?: Pick<ExecResult, 'timedOut'>): string[] {
  if (exec?.timedOut) return ['the probe did not finish in time'];
  switch (result.outcome) {
    case 'not-run':
      return [`the probe could not be started (exit ${result.exitCode}): is it mounted, and may the container execute it?`];
    case 'usage':
      return ['the probe rejected its arguments (a hardspec bug)'];
    case 'killed':
      return [`the probe was killed by signal ${result.signal}${result.signal === 31 ? ' (SIGSYS: a seccomp kill action)' : ''}`];
    case 'unknown':
      return [`the probe's result is unknown (exit ${result.exitCode})`];
    default:
  }
  if (expect.ok) return result.ok ? [] : [`failed with ${result.errnoName ?? `errno ${result.errno}`}, expected success`];
  if (result.ok) return [`succeeded, expected ${expect.errno.join(' or ')}`];
  return result.errnoName !== undefined && expect.errno.includes(result.errnoName)
    ? []
    : [`failed with ${result.errnoName ?? `errno ${result.errno}`}, expected ${expect.errno.join(' or ')}`];
}

/** The observed part of a probe run for evidence. */
export function probeObserved(run: ProbeRun): Record<string, unknown> {
  const r = run.result;
  return {
    argv: run.argv,
    exitCode: run.exec.exitCode,
    outcome: r.outcome,
    ok: r.ok,
    ...(r.errnoName ? { errno: r.errnoName } : r.errno !== undefined ? { errno: r.errno } : {}),
    ...(r.target !== undefined ? { target: r.target } : {}),
    ...(r.data ? { data: r.data } : {}),
    source: r.source,
  };
}

export async function runProbeCheck(check: ProbeCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const run = await runProbe(ctx.engine, check.service, check.op, check.args, ctx.timeoutMs);
  const observed = { ...probeObserved(run), expected: check.expect.ok ? 'ok' : check.expect.errno };
  return outcome(judgeProbe(run.result, check.expect, run.exec), ['probe'], observed);
}
