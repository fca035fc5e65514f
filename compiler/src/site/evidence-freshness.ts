/**
 * Whether a stack's evidence still describes its specs: the verifier records the sha256 of every
 * spec and artifact it verified; when any of them differs from what the specs compile to now, the
 * results are of an older stack and the site must say so instead of showing them as current. Pure.
 */

export interface HashedPath {
  readonly path: string;
  readonly sha256: string;
}

export interface FreshnessChange {
  readonly what: 'spec' | 'artifact';
  /** Spec: the file name in the stack folder ("web.md"); artifact: path in generated/<stack>/. */
  readonly path: string;
  /** changed: both have it with other bytes; new: only the current stack has it; gone: only the evidence. */
  readonly change: 'changed' | 'new' | 'gone';
}

export interface HashesNow {
  /** Spec files by their path relative to the stack folder. */
  readonly specs: readonly HashedPath[];
  /** Artifacts by their path relative to generated/<stack>/ (manifest.json included). */
  readonly artifacts: readonly HashedPath[];
}

/**
 * Lists every spec and artifact whose hash in the evidence differs from the current one (specs
 * first, then artifacts, each by path); empty when the evidence is current. Evidence paths may carry a folder prefix (specs/<stack>/web.md,
 * generated/<stack>/compose.yaml): they are compared by their path inside the stack.
 */
export function evidenceChanges(stack: string, recorded: HashesNow, now: HashesNow): FreshnessChange[] {
  return [
    ...compare('spec', inside(stack, recorded.specs, now.specs), now.specs, []),
    // manifest.json only restates the other hashes; compare it only when the evidence recorded it.
    ...compare('artifact', inside(stack, recorded.artifacts, now.artifacts), now.artifacts, ['manifest.json']),
  ];
}

function compare(what: FreshnessChange['what'], recorded: readonly HashedPath[], now: readonly HashedPath[], optional: readonly string[]): FreshnessChange[] {
  const before = new Map(recorded.map((r) => [r.path, r.sha256]));
  const after = new Map(now.map((n) => [n.path, n.sha256]));
  const changes: FreshnessChange[] = [];
  for (const [path, sha] of after) {
    const old = before.get(path);
    if (old === undefined) {
      if (!optional.includes(path)) changes.push({ what, path, change: 'new' });
    } else if (old !== sha) {
      changes.push({ what, path, change: 'changed' });
    }
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push({ what, path, change: 'gone' });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * "specs/guestbook/web.md" → "web.md"; "generated/guestbook/seccomp/web.json" → "seccomp/web.json".
 * A path that is already one of the current ones stays as it is.
 */
function inside(stack: string, recorded: readonly HashedPath[], now: readonly HashedPath[]): HashedPath[] {
  const known = new Set(now.map((n) => n.path));
  return recorded.map((r) => {
    if (known.has(r.path)) return r;
    const at = `/${r.path}`.indexOf(`/${stack}/`);
    return at < 0 ? r : { ...r, path: r.path.slice(at + stack.length + 1) };
  });
}
