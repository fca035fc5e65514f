/**
 * SELinux object classes and their permissions, read from the reference policy when hardspec was
 * built (compiler/src/emit/selinux/classes.json, made by scripts/gen-selinux-classes.sh).
 */
import data from '../emit/selinux/classes.json' with { type: 'json' };

const classes: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries((data as { classes: Record<string, string[]> }).classes),
);

export function isKnownSelinuxClass(name: string): boolean {
  return classes.has(name);
}
export function isKnownSelinuxPermission(cls: string, perm: string): boolean {
  return classes.get(cls)?.includes(perm) ?? false;
}
export function selinuxClassNames(): string[] {
  return [...classes.keys()];
}
export function selinuxPermissionNames(cls: string): string[] {
  return [...(classes.get(cls) ?? [])];
}
