/** A small argv parser: flags, --key value / --key=value, positionals; unknown flags are errors. */
import { UsageError } from '../io/read-specs.ts';

export interface FlagSpec {
  readonly [name: string]: { readonly type: 'boolean' | 'string'; readonly short?: string; readonly multiple?: boolean };
}

export interface ParsedArgs {
  readonly flags: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positionals.push(arg); continue; }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const n = byShort.get(arg.slice(1));
      if (!n) throw new UsageError(`unknown option ${arg}`);
      name = n;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, positionals };
}
