// The evidence site (npm run site → dist/, npm run preview). Static HTML, no client JavaScript.
// What it publishes comes from the environment, so tests and benchmarks can build it from fixtures:
//   HARDSPEC_SPECS       the specs folder             [default: specs]
//   HARDSPEC_GENERATED   the generated folder         [default: generated] (evidence/ is read there)
//   HARDSPEC_SITE_OUT    where the site is written    [default: dist]
//   HARDSPEC_SITE_BASE   the URL path it is served at [default: /]
import { rm } from 'node:fs/promises';
import { defineConfig } from 'astro/config';

/**
 * Astro 5 leaves two empty server modules (content-assets.mjs, content-modules.mjs) in an outDir
 * outside the project (withastro/astro#14903); they are not part of the site.
 */
const dropServerLeftovers = {
  name: 'hardspec:drop-server-leftovers',
  hooks: {
    'astro:build:done': async ({ dir }) => {
      for (const f of ['content-assets.mjs', 'content-modules.mjs']) await rm(new URL(f, dir), { force: true });
    },
  },
};

export default defineConfig({
  outDir: process.env.HARDSPEC_SITE_OUT || './dist',
  base: process.env.HARDSPEC_SITE_BASE || '/',
  trailingSlash: 'ignore',
  build: { format: 'directory', inlineStylesheets: 'never' },
  devToolbar: { enabled: false },
  // No prefetch or view transitions: the site works, and is tested, without any client script.
  prefetch: false,
  integrations: [dropServerLeftovers],
});
