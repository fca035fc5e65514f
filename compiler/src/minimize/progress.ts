/**
 * The progress line: runs done, runs estimated, time left. Pure; the command prints it (one line
 * per run, or rewritten in place on a terminal).
 */
import { formatDuration } from './report.ts';

export interface ProgressState {
  readonly done: number;
  /** Runs still expected (an estimate: the search adapts to what it finds). */
  readonly remaining: number;
  readonly elapsedMs: number;
  readonly phase: string;
  readonly last?: string;
}

/** Mean duration of the runs so far; the time left is that times the runs left. */
export function timeLeftMs(p: ProgressState): number {
  return p.done === 0 ? 0 : (p.elapsedMs / p.done) * p.remaining;
}

export function progressLine(p: ProgressState, options: { unicode: boolean; width?: number } = { unicode: false }): string {
  const total = Math.max(1, p.done + Math.ceil(p.remaining));
  const width = options.width ?? 24;
  const filled = Math.min(width, Math.round((p.done / total) * width));
  const [full, empty] = options.unicode ? ['█', '░'] : ['#', '-'];
  const bar = `[${full.repeat(filled)}${empty.repeat(width - filled)}]`;
  const left = p.done === 0 ? 'estimating' : `~${formatDuration(timeLeftMs(p))} left`;
  return `${bar} run ${p.done}/~${total} · ${p.phase} · ${formatDuration(p.elapsedMs)} elapsed, ${left}${p.last ? ` · ${p.last}` : ''}`;
}
