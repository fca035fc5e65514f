/** What the CLI may touch of the process: passed in, so tests drive it without spawning one. */
export interface CliIo {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where an interactive prompt reads answers (absent: never prompt). */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(io: CliIo, stream: 'stdout' | 'stderr' = 'stderr'): boolean {
  return Boolean(io[stream].isTTY) && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '') && io.env.TERM !== 'dumb';
}
