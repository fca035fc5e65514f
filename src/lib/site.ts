/**
 * The site's one source of data: loadSiteData() from the compiler, read once per build. The
 * folders come from HARDSPEC_SPECS and HARDSPEC_GENERATED (see astro.config.mjs).
 */
import path from 'node:path';
import { loadSiteData, type SiteData } from '../../compiler/src/site/load-site-data.ts';
import type { SiteStack } from '../../compiler/src/site/site-data.ts';

let data: Promise<SiteData> | undefined;

export function siteData(): Promise<SiteData> {
  const specsDir = path.resolve(process.env.HARDSPEC_SPECS || 'specs');
  const generatedDir = path.resolve(process.env.HARDSPEC_GENERATED || 'generated');
  // Paths on the site read from the folder that holds the specs folder: "specs/guestbook/web.md".
  data ??= loadSiteData({ specsDir, generatedDir, cwd: path.dirname(specsDir) });
  return data;
}

export async function stackNamed(name: string | undefined): Promise<SiteStack> {
  const stack = (await siteData()).stacks.find((s) => s.name === name);
  if (!stack) throw new Error(`no stack named ${name}`);
  return stack;
}
