/**
 * Debian's package database as it is inside an image, read from the exported filesystem:
 * /var/lib/dpkg/status (names, versions, architectures), /var/lib/dpkg/info/<pkg>[:<arch>].list
 * (the files each package installed; what `dpkg -L` prints) and /var/lib/dpkg/diversions (files a
 * package moved aside, which `dpkg -L` reports as "diverted by"). Pure: no process is run.
 */
import { normalizePath, type ImageFs } from './fs.ts';

export interface DebPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Source package name, when it differs. */
  readonly source?: string;
  /** Installed files and directories, as `dpkg -L` lists them (diversions applied), sorted. */
  readonly files: readonly string[];
}

export interface DpkgDatabase {
  /** Installed packages ("install ok installed") by name. */
  readonly packages: ReadonlyMap<string, DebPackage>;
  /** Every listed path → the packages that list it (directories are shared). */
  readonly owners: ReadonlyMap<string, readonly string[]>;
}

const STATUS = '/var/lib/dpkg/status';
const INFO = '/var/lib/dpkg/info';
const DIVERSIONS = '/var/lib/dpkg/diversions';

/** Parses deb822 paragraphs (field continuation lines start with a space or tab). */
export function parseDeb822(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const para of text.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of para.split('\n')) {
      if (/^[ \t]/.test(line)) {
        if (last) fields.set(last, `${fields.get(last)}\n${line.slice(1)}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    if (fields.size) out.push(fields);
  }
  return out;
}

/** /var/lib/dpkg/diversions: lines in threes — original path, diverted path, diverting package (":" = local). */
export function parseDiversions(text: string): { from: string; to: string; by: string }[] {
  const lines = text.split('\n');
  const out: { from: string; to: string; by: string }[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = [lines[i]!, lines[i + 1]!, lines[i + 2]!];
    if (from.startsWith('/') && to.startsWith('/')) out.push({ from: normalizePath(from), to: normalizePath(to), by });
  }
  return out;
}

/** Reads the package database of an image; undefined when the image has none (not Debian-based). */
export function readDpkgDatabase(fs: ImageFs): DpkgDatabase | undefined {
  const status = fs.content(STATUS);
  if (!status) return undefined;
  const diversions = parseDiversions(fs.content(DIVERSIONS)?.toString('utf8') ?? '');
  const packages = new Map<string, DebPackage>();
  const owners = new Map<string, string[]>();
  for (const p of parseDeb822(status.toString('utf8'))) {
    const name = p.get('package');
    const st = p.get('status') ?? '';
    if (!name || !/\binstalled$/.test(st) || !/^install /.test(st)) continue;
    const architecture = p.get('architecture') ?? 'all';
    const list = fs.content(`${INFO}/${name}:${architecture}.list`) ?? fs.content(`${INFO}/${name}.list`);
    const files = new Set<string>();
    for (const raw of (list?.toString('utf8') ?? '').split('\n')) {
      if (!raw.startsWith('/')) continue;
      let f = normalizePath(raw);
      if (f === '/') continue;
      // A file another package diverted away from this one lives at the diverted path.
      const d = diversions.find((x) => x.from === f && x.by !== name);
      if (d) f = d.to;
      files.add(f);
    }
    const source = p.get('source')?.split(' ')[0];
    const pkg: DebPackage = { name, version: p.get('version') ?? '', architecture, ...(source && source !== name ? { source } : {}), files: [...files].sort() };
    packages.set(name, pkg);
    for (const f of pkg.files) {
      const o = owners.get(f);
      if (o) o.push(name);
      else owners.set(f, [name]);
    }
  }
  for (const o of owners.values()) o.sort();
  return { packages, owners };
}
