/** Every internal URL of the site, in one place, under the configured base path. */
const base = import.meta.env.BASE_URL.replace(/\/?$/, '/');

export const homeUrl = (): string => base;
export const referenceUrl = (anchor?: string): string => `${base}reference/${anchor ? `#${anchor}` : ''}`;
export const stackUrl = (stack: string): string => `${base}stacks/${stack}/`;
export const serviceUrl = (stack: string, service: string): string => `${base}stacks/${stack}/services/${service}/`;
export const evidenceUrl = (stack: string, interaction?: string): string =>
  `${base}stacks/${stack}/evidence/${interaction ? `#${interactionAnchor(interaction)}` : ''}`;
/** Copies of artifacts and evidence files, at their path inside generated/<stack>/. */
export const fileUrl = (stack: string, pathInGenerated: string): string => `${base}stacks/${stack}/files/${pathInGenerated}`;
export const interactionAnchor = (id: string): string => `i-${id}`;
