/**
 * `hardspec strip`: builds the stripped FROM-scratch image of every service with a strip list
 * (or of one, with --service) from its full image, and writes the SBOM and size report of each
 * into generated/<stack>/images/.
 *
 * Exit codes: 0 stripped, 1 spec errors, generated/ stale or a problem in a strip list (nothing
 * is loaded or written then), 2 environment errors (no engine, build failed), 130 interrupted.
 */
import path from 'node:path';
import { parseArgs } from '../cli/args.ts';
import { EXIT, type CliIo } from '../cli/io.ts';
import { UsageError } from '../io/read-specs.ts';
import { detectCompose } from '../verify/compose-cli.ts';
import { connectDocker, EnvironmentError } from '../verify/docker.ts';
import { buildImages, ensureBaseImages } from '../verify/images.ts';
import { ensureSecrets } from '../verify/secrets.ts';
import { compileAndCompare } from '../verify/verify-command.ts';
import { mb } from './format-size.ts';
import { removeExportLeftovers } from './image.ts';
import { servicesToStrip, stripImages, StripProblems, writeStripReports } from './strip-images.ts';

export const STRIP_HELP = `Usage: hardspec strip [STACK] [--service NAME] [--specs DIR] [--out DIR] [--no-build] [--json]

Builds a stripped FROM-scratch image for every service with a strip list: the files of
strip.packages (as dpkg -L lists them, without documentation) and strip.files, every symlink
on the way, and every shared library each ELF binary needs (read from its dynamic section and
the loader's paths). The image keeps the full image's entrypoint, command, user, environment,
working folder, ports, health check, volumes and stop signal, and is named strip.target
(default: the image's tag with "-stripped" added, e.g. hardspec/guestbook-web:dev-stripped).
No shell, package manager, chmod, chown, chgrp or sed, and no setuid or setgid bit, unless
strip.files names the file. Writes generated/<stack>/images/<service>.spdx.json (SPDX 2.3)
and <service>.size.json (full vs stripped, files kept, files removed with the reason).
Run the stripped stack with: hardspec verify --stripped (or docker-compose -f compose.stripped.yaml).

  STACK           a stack name under the specs folder, or a stack folder    [default: the only stack]
  --service NAME  strip only this service
  --specs DIR     the folder of stacks                                      [default: specs]
  --out DIR       where the compiled generated/<stack>/ is                  [default: generated]
  --no-build      do not rebuild full images that exist
  --json          print the size reports' summaries as JSON on stdout (progress goes to stderr)
  --help          show this help

Exit codes: 0 stripped, 1 spec errors, stale generated/ or a problem in a strip list (nothing
is built then), 2 environment errors (no engine, a full image cannot be built), 130 interrupted.
`;

export async function runStrip(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseArgs(argv, {
    service: { type: 'string' }, specs: { type: 'string' }, out: { type: 'string' },
    'no-build': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) { io.stdout.write(STRIP_HELP); return EXIT.ok; }
  if (positionals.length > 1) throw new UsageError(`expected at most one STACK, got ${positionals.length}`);
  const json = Boolean(flags.json);
  const progress = json ? io.stderr : io.stdout;
  const say = (line: string) => { progress.write(`${line}\n`); };
  const o = {
    ...(positionals[0] ? { stackArg: positionals[0] } : {}),
    specs: (flags.specs as string | undefined) ?? 'specs',
    out: (flags.out as string | undefined) ?? 'generated',
  };
  const prepared = await compileAndCompare(io, o);
  if (typeof prepared === 'number') return prepared;
  const { model, outStackDir } = prepared;
  const services = servicesToStrip(model, flags.service as string | undefined);
  if (services.length === 0) {
    say(`${model.name}: no service has a strip list (strip.packages or strip.files): nothing to strip`);
    return EXIT.ok;
  }
  const { docker } = await connectDocker(io.env);
  const variant = await detectCompose(io.env);
  if (!variant) throw new EnvironmentError('no compose command: neither "docker compose" (v2) nor "docker-compose" answers; install one (Debian: apt-get install docker-compose)');
  await removeExportLeftovers(docker);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const steps = { docker, env: io.env, say, signal: controller.signal };
    await ensureSecrets(model, outStackDir);
    await ensureBaseImages(model, steps);
    await buildImages(model, { ...steps, variant, project: { name: `hardspec-strip-${model.name}`, files: ['compose.yaml'] }, cwd: outStackDir, skipWhenPresent: Boolean(flags['no-build']) });
    const stripped = await stripImages(docker, model, services, say);
    const written = await writeStripReports(outStackDir, stripped);
    say(`wrote ${written.map((f) => path.relative(io.cwd, f)).join(', ')}`);
    say(stripped.map((s) => `  ${s.service.padEnd(8)} ${s.target}: ${mb(s.strippedSize)} (full ${mb(s.full.size)}, ${s.sizeReport.ratio}× smaller)`).join('\n'));
    if (json) io.stdout.write(`${JSON.stringify(stripped.map((s) => ({ service: s.service, image: s.target, id: s.strippedId, bytes: s.strippedSize, fullImage: s.full.name, fullBytes: s.full.size, ratio: s.sizeReport.ratio, files: s.sizeReport.stripped.files })), null, 2)}\n`);
    return EXIT.ok;
  } catch (e) {
    if (controller.signal.aborted) { io.stderr.write('hardspec strip: interrupted\n'); return 130; }
    if (e instanceof StripProblems) { io.stderr.write(`hardspec strip: ${e.message}\nnothing was built or written\n`); return EXIT.failed; }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
