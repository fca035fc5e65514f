// Writes docs/spec-format.md and docs/diagnostics.md from the schema and the catalogue.
// `npx tsx scripts/gen-docs.ts --check` fails when the committed files are out of date.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diagnosticsMarkdown, specFormatMarkdown } from '../compiler/src/docs/reference.ts';

const root = path.resolve(import.meta.dirname, '..');

export async function renderDocs(): Promise<Record<string, string>> {
  const frontmatter = async (f: string) => (await readFile(path.join(root, f), 'utf8')).split(/^---$/m)[1] ?? '';
  return {
    'docs/spec-format.md': specFormatMarkdown({
      stack: await frontmatter('specs/guestbook/stack.md'),
      service: await frontmatter('specs/guestbook/web.md'),
    }),
    'docs/diagnostics.md': diagnosticsMarkdown(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, content] of Object.entries(await renderDocs())) {
    const target = path.join(root, file);
    const current = await readFile(target, 'utf8').catch(() => '');
    if (current === content) continue;
    if (check) { console.error(`${file} is out of date: run npx tsx scripts/gen-docs.ts`); stale++; continue; }
    await writeFile(target, content);
    console.log(`wrote ${file}`);
  }
  process.exitCode = stale ? 1 : 0;
}
