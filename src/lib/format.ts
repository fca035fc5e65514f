/** Small formatters for what pages print: dates, durations, sizes, counts. */

/** "2026-11-29 19:20 UTC": the same text wherever the site is built. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A host fact from the evidence as text ("Docker 20.10.24"), whatever JSON it was recorded as. */
export function describeFact(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(describeFact).join(', ');
  const o = value as Record<string, unknown>;
  const named = ['name', 'version', 'release'].map((k) => o[k]).filter((v) => typeof v === 'string' || typeof v === 'number');
  if (named.length) return named.join(' ');
  return JSON.stringify(value);
}
