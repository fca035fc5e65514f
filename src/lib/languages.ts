/**
 * Which highlighting each artifact gets. Shiki has no grammar for SELinux policy (.te/.if/.fc are
 * m4 over the policy language), so a small one is defined here for its keywords, types and comments.
 */
import type { LanguageRegistration } from 'shiki';

const selinuxPolicy: LanguageRegistration = {
  name: 'selinux-policy',
  scopeName: 'source.selinux-policy',
  patterns: [
    { match: '#.*$', name: 'comment.line.number-sign.selinux' },
    { match: '\\b(policy_module|gen_require|require|optional_policy|interface|template|ifdef|ifndef|gen_context|gen_tunable|tunable_policy)\\b', name: 'keyword.control.selinux' },
    { match: '\\b(allow|dontaudit|auditallow|neverallow|type_transition|type|typeattribute|attribute|class|role|roleattribute|permissive)\\b', name: 'storage.type.selinux' },
    { match: '\\b[A-Za-z0-9_]+_t\\b', name: 'entity.name.type.selinux' },
    { match: '\\b[a-z0-9_]+_template\\b', name: 'entity.name.function.selinux' },
    { match: '--|-[dflps]\\b', name: 'keyword.operator.selinux' },
  ],
  repository: {},
};

export type HighlightLanguage = string | LanguageRegistration;

export function languageFor(artifactPath: string): HighlightLanguage {
  if (artifactPath.endsWith('.yaml') || artifactPath.endsWith('.yml')) return 'yaml';
  if (artifactPath.endsWith('.json')) return 'json';
  if (artifactPath.endsWith('.strip-cmd')) return 'shellscript';
  if (/\.(te|if|fc)$/.test(artifactPath)) return selinuxPolicy;
  return 'plaintext';
}

/** The highlighting theme: GitHub's high-contrast light theme keeps every token at WCAG AA contrast. */
export const CODE_THEME = 'github-light-high-contrast';
