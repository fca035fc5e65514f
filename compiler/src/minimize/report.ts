/**
 * The machine-readable report (generated/<stack>/minimize/<service>-<what>.json, format in
 * report.schema.json) and the text summary printed at the end of a run. Pure.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { MinimizeResult } from './minimize.ts';
import reportSchema from './report.schema.json' with { type: 'json' };

export const REPORT_FORMAT = 'hardspec-minimize';
export const REPORT_VERSION = 1;

export interface ReportContext {
  readonly stack: string;
  readonly service: string;
  /** The spec file, relative to the working folder. */
  readonly spec: string;
  readonly hardspecVersion: string;
  readonly startedAt: Date;
  readonly engine: { readonly version: string; readonly kernel: string; readonly arch: string };
  readonly compose: string;
  readonly recorder: { readonly kind: 'bpftrace' | 'strace' | 'none'; readonly caps: boolean; readonly problems: readonly string[]; readonly fallbacks: readonly string[] };
  /** Syscall names of the start set that are not on the engine's architecture (dropped without a run). */
  readonly otherArch: readonly string[];
  /** Names in Docker's default profile: its unconditional group, and what it allows here. */
  readonly dockerDefault: { readonly profileNames: number; readonly forService: number };
  readonly oracle: readonly string[];
}

export function buildReport(r: MinimizeResult, c: ReportContext): Record<string, unknown> {
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    stack: c.stack,
    service: c.service,
    spec: c.spec,
    what: r.what,
    strategy: r.strategy,
    minimal: r.minimal,
    seed: r.seed,
    hardspecVersion: c.hardspecVersion,
    startedAt: c.startedAt.toISOString(),
    engine: c.engine,
    compose: c.compose,
    recorder: c.recorder,
    oracle: { interactions: c.oracle },
    start: { size: r.start.length, items: r.start, otherArch: c.otherArch },
    ...(r.recorded ? {
      recorded: {
        size: r.recorded.seed.length,
        seed: r.recorded.seed,
        items: r.recorded.items.map((i) => ({ name: i.name, count: i.count, failed: i.failed, makers: i.makers })),
        [r.what === 'syscalls' ? 'beforeFilter' : r.what === 'files' ? 'outsideList' : 'denied']: r.recorded.other,
      },
    } : {}),
    result: {
      size: r.result.length,
      items: r.result,
      removed: r.removed,
      added: r.added,
      addedAfterRecording: r.addedAfterRecording,
      oneMinimal: r.oneMinimal,
      ...(r.proof ? { proof: r.proof } : {}),
      provenNeeded: r.provenNeeded.length,
      kept: r.kept,
    },
    ...(r.what === 'syscalls' ? { dockerDefault: c.dockerDefault } : {}),
    runs: {
      total: r.runs,
      errors: r.errorRuns,
      lanes: r.lanes,
      byPhase: r.phases.map((p) => ({ phase: p.phase, runs: p.runs, wallMs: p.wallMs })),
      stackStarts: r.log.filter((l) => l.scope === 'stack').length,
      serviceRestarts: r.log.filter((l) => l.scope === 'service').length,
      ...(r.resumed ? { resumed: r.resumed } : {}),
    },
    wallMs: r.wallMs,
    confirmation: {
      runs: r.confirmation.length,
      passed: r.confirmation.filter((x) => x.verdict === 'pass').length,
      confirmed: r.confirmed,
      flaky: r.flaky,
      results: r.confirmation.map((x) => ({ verdict: x.verdict, failed: x.failed, ...(x.error ? { error: x.error } : {}) })),
    },
    ...(r.stopped ? { stopped: r.stopped } : {}),
    log: r.log.map((l) => ({
      run: l.run, phase: l.phase, size: l.size, removed: l.removed, added: l.added, verdict: l.verdict, attempt: l.attempt,
      scope: l.scope, restarted: l.restarted, durationMs: l.durationMs, ...(l.startMs !== undefined ? { startMs: l.startMs } : {}), failed: l.failed, problems: l.problems, ...(l.error ? { error: l.error } : {}),
    })),
  };
}

let validator: ValidateFunction | undefined;

/**
 * Checks a report against report.schema.json; one message per problem, [] when valid. The
 * "must match then schema" that follows a wrong item of the `what` kind is left out: the item's own message says it.
 */
export function validateReport(json: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: true, validateFormats: false }).compile(reportSchema);
  return validator(json) ? [] : (validator.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Names wrapped to lines of at most `width` characters, each line indented. */
export function wrapNames(names: readonly string[], indent = '  ', width = 100): string {
  if (names.length === 0) return `${indent}(none)`;
  const lines: string[] = [];
  let line = indent;
  for (const n of names) {
    if (line.length + n.length + 1 > width && line.trim()) { lines.push(line.trimEnd()); line = indent; }
    line += `${n} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

/** The end-of-run summary for people. */
export function formatSummary(r: MinimizeResult, c: Pick<ReportContext, 'stack' | 'service' | 'dockerDefault'>): string {
  const noun = r.what === 'syscalls' ? 'syscalls' : r.what === 'files' ? 'file-list items' : 'capabilities';
  const out: string[] = [];
  out.push(`${c.stack}/${c.service}: ${r.result.length} ${noun} (from ${r.start.length}; strategy ${r.strategy}${r.minimal ? ', --minimal' : ''}, seed ${r.seed})`);
  out.push(wrapNames(r.result));
  if (r.recorded && r.what === 'files') {
    out.push(`recorded: ${r.recorded.seed.length} files of the strip list named by the service, its healthcheck or the verifier's tools in it`);
    if (r.recorded.other.length) out.push(`recorded but not in the strip list (not used): ${r.recorded.other.length}`);
  } else if (r.recorded) {
    out.push(`recorded: ${r.recorded.seed.length} ${noun} after the seccomp filter (runtime, service, healthcheck)`);
  }
  if (r.addedAfterRecording.length) out.push(`added back after the recorded set failed: ${r.addedAfterRecording.join(' ')}`);
  out.push(`removed (${r.removed.length}):`);
  out.push(wrapNames(r.removed));
  if (r.added.length) out.push(`added (not in the start set): ${r.added.join(' ')}`);
  if (r.what === 'syscalls') out.push(`Docker's default profile: ${c.dockerDefault.profileNames} names (${c.dockerDefault.forService} allowed on this engine for this service)`);
  if (r.kept.length) out.push(`kept without a search: ${r.kept.join(' ')}`);
  out.push(r.minimal || r.proof
    ? (r.oneMinimal
      ? (r.proof === 'as-tested'
        ? `1-minimal: proven as the one-item-per-run method proves it (every kept item failed an interaction when removed alone from the set of its turn, a superset of this one${r.kept.length ? `; kept items aside` : ''}; --strict tests each against this set)`
        : `1-minimal: proven against this set (every single removal from it failed an interaction${r.kept.length ? `; kept items aside` : ''})`)
      : `1-minimal: NOT proven (${r.provenNeeded.length} of ${r.result.length - r.kept.length} items proven needed)`)
    : '1-minimal: not checked (give --minimal to prove it)');
  const phases = r.phases.map((p) => `${p.phase} ${p.runs}`).join(', ');
  out.push(`runs: ${r.runs} (${phases})${r.errorRuns ? `, of which ${r.errorRuns} oracle error(s) retried` : ''}; wall time ${formatDuration(r.wallMs)}${r.lanes > 1 ? ` on ${r.lanes} lanes (candidates run side by side)` : ''}${r.resumed ? `; resumed from a journal of ${r.resumed.runs} run(s) that took ${formatDuration(r.resumed.wallMs)} of it` : ''}`);
  const passed = r.confirmation.filter((x) => x.verdict === 'pass').length;
  out.push(r.confirmation.length
    ? `confirmation: ${passed}/${r.confirmation.length} runs passed${r.flaky ? ' — FLAKY: ' + r.confirmation.filter((x) => x.verdict !== 'pass').map((x) => x.error ?? x.failed.join(', ')).join('; ') : ''}`
    : 'confirmation: not run');
  if (r.stopped) out.push(`stopped early: ${r.stopped}`);
  return `${out.join('\n')}\n`;
}
