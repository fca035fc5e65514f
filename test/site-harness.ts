/**
 * Building and serving the evidence site for its tests and its benchmark: buildSite() runs
 * `astro build` on chosen specs and generated folders (as `npm run site` does on the defaults);
 * serveStatic() serves the result on 127.0.0.1 as any static host would.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface SiteBuild {
  readonly specs: string;
  readonly generated: string;
  readonly out: string;
}

/** Builds the site into `out`; resolves with the build's wall time in ms, rejects with its output on failure. */
export async function buildSite(build: SiteBuild): Promise<number> {
  const t0 = performance.now();
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/astro/astro.js'), 'build'], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
    env: {
      ...process.env,
      // Under vitest NODE_ENV is "test"; the site is always built as it is published.
      NODE_ENV: 'production',
      ASTRO_TELEMETRY_DISABLED: '1',
      HARDSPEC_SPECS: path.resolve(build.specs),
      HARDSPEC_GENERATED: path.resolve(build.generated),
      HARDSPEC_SITE_OUT: path.resolve(build.out),
    },
  });
  return performance.now() - t0;
}

// A tiny static file server: maps "/x/" to "/x/index.html", answers 404 with the site's 404.html,
// and never serves anything outside the folder.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.yaml': 'text/yaml; charset=utf-8',
};

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveStatic(root: string): Promise<StaticServer> {
  const base = path.resolve(root);
  const server: Server = createServer(async (req, res) => {
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = path.resolve(base, `.${pathname}`);
      if (file !== base && !file.startsWith(base + path.sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
      if ((await stat(file).catch(() => undefined))?.isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'text/plain; charset=utf-8', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      const body = await readFile(path.join(base, '404.html')).catch(() => Buffer.from('not found'));
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
