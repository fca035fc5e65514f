// npm run bench:compile — compiles synthetic stacks of 100, 1,000 and 10,000 service specs and
// prints specs per second and peak memory for each, plus the cost per spec relative to the
// smallest size (linear growth keeps that ratio near 1). Target: 1,000 specs in under 2 s.
// Each size runs in its own process so peak memory (max RSS) is that size's alone.
import { execFileSync } from 'node:child_process';
import { compile } from '../compiler/src/pipeline.ts';
import { syntheticInputs as makeInputs } from './synthetic.ts';

if (process.argv[2] === '--size') {
  const n = Number(process.argv[3]);
  const inputs = makeInputs(n);
  compile(makeInputs(10)); // warm the schema compilers, as any real run after the first spec
  const t0 = performance.now();
  const result = compile(inputs);
  const ms = performance.now() - t0;
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`synthetic specs have errors: ${errors[0]!.message}`);
  const artifacts = result.stacks.reduce((a, s) => a + s.artifacts.length, 0);
  process.stdout.write(JSON.stringify({ n, ms, artifacts, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const sizes = [100, 1000, 10000];
  const rows = sizes.map((n) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--size', String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { n: number; ms: number; artifacts: number; maxRssMiB: number });
  const perSpec0 = rows[0]!.ms / rows[0]!.n;
  console.log(`hardspec bench:compile — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.arch}`);
  console.log('specs    time (s)   specs/s   artifacts   peak RSS (MiB)   cost/spec vs 100');
  for (const r of rows) {
    console.log(`${String(r.n).padStart(5)}  ${(r.ms / 1000).toFixed(3).padStart(9)}  ${Math.round(r.n / (r.ms / 1000)).toString().padStart(8)}  ${String(r.artifacts).padStart(10)}  ${r.maxRssMiB.toFixed(0).padStart(15)}  ${((r.ms / r.n) / perSpec0).toFixed(2).padStart(17)}×`);
  }
  const thousand = rows.find((r) => r.n === 1000)!;
  console.log(`target: 1,000 specs in under 2 s — ${thousand.ms < 2000 ? 'met' : 'NOT met'} (${(thousand.ms / 1000).toFixed(2)} s)`);
}
