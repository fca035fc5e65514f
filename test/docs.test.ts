// docs/spec-format.md and docs/diagnostics.md are generated from the spec schema and the diagnostic
// catalogue; a change to either without regenerating the docs fails here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { CATALOGUE } from '../compiler/src/diagnostics/catalogue.ts';
import { renderDocs } from '../scripts/gen-docs.ts';

const root = path.resolve(import.meta.dirname, '..');

it('the committed docs match what the schema and the catalogue generate', async () => {
  for (const [file, content] of Object.entries(await renderDocs())) {
    expect(await readFile(path.join(root, file), 'utf8'), `${file} is stale: run npm run docs`).toBe(content);
  }
});

it('the diagnostics reference explains every code', async () => {
  const text = await readFile(path.join(root, 'docs/diagnostics.md'), 'utf8');
  for (const code of CATALOGUE.keys()) expect(text).toContain(`### ${code} `);
});
