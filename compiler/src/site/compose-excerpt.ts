/**
 * One service's block out of a generated compose.yaml, byte for byte as the compiler wrote it (a
 * re-serialised copy could differ from the file people download). The emitter writes a fixed
 * layout: `services:` at the top level, each service name indented by two spaces.
 */
export function composeExcerpt(composeYaml: string, service: string): string | undefined {
  const lines = composeYaml.split('\n');
  const servicesAt = lines.indexOf('services:');
  if (servicesAt < 0) return undefined;
  const start = lines.findIndex((l, i) => i > servicesAt && (l === `  ${service}:` || l === `  "${service}":`));
  if (start < 0) return undefined;
  let end = start + 1;
  // The block goes on while lines are indented deeper than the service name (or are blank).
  while (end < lines.length && (lines[end] === '' || /^ {3,}/.test(lines[end]!))) end++;
  while (end > start + 1 && lines[end - 1] === '') end--;
  return `services:\n${lines.slice(start, end).join('\n')}\n`;
}
