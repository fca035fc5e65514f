#!/usr/bin/env node
// Entry point for `npx hardspec`: the sources are TypeScript, loaded through tsx so there is no
// build step between editing a spec tool and running it.
import { register } from 'tsx/esm/api';

register();
const { runMain } = await import('../compiler/src/cli/main.ts');
process.exitCode = await runMain(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
});
