/**
 * What a value may look like before hardspec writes it into YAML, shell or policy text. Anything
 * outside these sets is refused (HS3010) rather than escaped: a spec never needs such characters,
 * and refusing is the only rule that cannot be got wrong in every output format at once.
 */
export const IDENTIFIER = /^[a-z][a-z0-9-]{0,62}$/;
export const IMAGE_NAME = /^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
export const SAFE_PATH_CHARS = /^[A-Za-z0-9._+@/-]+$/;
export const SELINUX_TYPE = /^[a-z][a-z0-9_]{0,60}_t$/;
export const SELINUX_TOKEN = /^[a-z][a-z0-9_]{0,62}$/;
export const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]{0,99}$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const ULIMIT_NAME = /^(core|cpu|data|fsize|locks|memlock|msgqueue|nice|nofile|nproc|rss|rtprio|rttime|sigpending|stack)$/;
// Control characters (newlines, NUL, escape …) break out of every text format.
export const CONTROL_CHARS = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** An absolute, normalised container path: starts with /, no empty, "." or ".." segments. */
export function isNormalisedAbsolute(p: string): boolean {
  if (!p.startsWith('/')) return false;
  if (p === '/') return true;
  if (p.endsWith('/')) return false;
  return p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** A relative path that stays inside its base folder once normalised; returns it normalised. */
export function normaliseInside(p: string): string | undefined {
  if (p.startsWith('/') || p.startsWith('~')) return undefined;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return out.length ? out.join('/') : '.';
}

/** True when `inner` is `outer` or lies below it. */
export function isSameOrBelow(inner: string, outer: string): boolean {
  return inner === outer || outer === '/' || inner.startsWith(outer + '/');
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
export function isLoopbackUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK_HOSTS.test(u.hostname);
  } catch {
    return false;
  }
}

export function isIpLiteral(s: string): boolean {
  if (/^(\d{1,3})(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((o) => Number(o) <= 255);
  return /^[0-9a-fA-F:]+$/.test(s) && s.includes(':');
}
