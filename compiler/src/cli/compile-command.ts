/** `hardspec compile` and `hardspec check`. */
import path from 'node:path';
import { formatDiagnostic, formatSummary, diagnosticsToJson } from '../diagnostics/report.ts';
import { findStackDirs, readStack, UsageError } from '../io/read-specs.ts';
import { writeStacks } from '../io/write-artifacts.ts';
import { compile, type CompileResult } from '../pipeline.ts';
import { parseArgs } from './args.ts';
import { EXIT, useColor, type CliIo } from './io.ts';
import { diagnostic } from '../diagnostics/diagnostic.ts';

export const COMPILE_HELP = `Usage: hardspec compile [SPECS_DIR] [--out DIR] [--json]

Compiles hardening specs into generated/<stack>/: compose.yaml, compose.stripped.yaml (when a
service has a strip list), seccomp/<service>.json, selinux/<module>.te|.fc|.if,
strip/<service>.strip-cmd|.json and manifest.json.
Nothing is written when any spec has an error.

  SPECS_DIR   a folder of stacks, or one stack folder (it holds stack.md)   [default: specs]
  --out DIR   where generated/<stack>/ folders go                           [default: generated]
  --json      print diagnostics and written paths as JSON on stdout
  --help      show this help

Exit codes: 0 compiled, 1 spec errors, 2 usage or environment errors.
`;

export const CHECK_HELP = `Usage: hardspec check [SPECS_DIR] [--json]

Validates hardening specs and reports every problem with file:line:column; writes nothing.

  SPECS_DIR   a folder of stacks, or one stack folder (it holds stack.md)   [default: specs]
  --json      print diagnostics as JSON on stdout
  --help      show this help

Exit codes: 0 valid, 1 spec errors, 2 usage or environment errors.
`;

/** Reads every stack under specsDir and compiles it. Shared by compile, check and verify. */
export async function compileFromDisk(io: CliIo, specsArg: string, outArg: string, checkOnly: boolean): Promise<CompileResult> {
  const specsDir = path.resolve(io.cwd, specsArg);
  const outDir = path.resolve(io.cwd, outArg);
  const dirs = await findStackDirs(specsDir);
  if (dirs.length === 0) {
    return { stacks: [], diagnostics: [diagnostic('HS1013', { file: specsArg, line: 1, column: 1 }, `no stack found in ${specsArg}`, 'a stack is a folder with stack.md and one <service>.md per service')] };
  }
  const inputs = await Promise.all(dirs.map((d) => readStack(d, outDir, io.cwd)));
  return compile(inputs, { checkOnly });
}

export async function runCompile(argv: readonly string[], io: CliIo, checkOnly: boolean): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (flags.help) { io.stdout.write(checkOnly ? CHECK_HELP : COMPILE_HELP); return EXIT.ok; }
  if (positionals.length > 1) throw new UsageError(`expected at most one SPECS_DIR, got ${positionals.length}`);
  if (checkOnly && flags.out) throw new UsageError('check writes nothing and takes no --out');
  const specsArg = positionals[0] ?? 'specs';
  const outArg = (flags.out as string | undefined) ?? 'generated';
  const result = await compileFromDisk(io, specsArg, outArg, checkOnly);
  const failed = result.diagnostics.some((d) => d.severity === 'error');
  let written: string[] = [];
  if (!failed && !checkOnly) written = await writeStacks(path.resolve(io.cwd, outArg), result.stacks);

  if (flags.json) {
    io.stdout.write(`${JSON.stringify({
      ok: !failed,
      diagnostics: diagnosticsToJson(result.diagnostics),
      stacks: result.stacks.map((s) => ({ name: s.name, services: s.model.services.map((x) => x.name), artifacts: s.artifacts.map((a) => a.path) })),
      written: written.map((w) => path.relative(io.cwd, w).split(path.sep).join('/')),
    }, null, 2)}\n`);
    return failed ? EXIT.failed : EXIT.ok;
  }
  const color = useColor(io, 'stderr');
  for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d, { color })}\n`);
  if (result.diagnostics.length) io.stderr.write(`${formatSummary(result.diagnostics)}${failed ? '; nothing was written' : ''}\n`);
  if (failed) return EXIT.failed;
  for (const s of result.stacks) {
    const where = path.relative(io.cwd, path.join(path.resolve(io.cwd, outArg), s.name)) || '.';
    io.stdout.write(checkOnly
      ? `${s.name}: ${s.model.services.length} service(s) valid\n`
      : `${s.name}: ${s.model.services.length} service(s), ${s.artifacts.length} artifacts written to ${where}/\n`);
  }
  return EXIT.ok;
}
