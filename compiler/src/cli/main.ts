/**
 * The CLI: argv → exit code. The only code that touches stdout, stderr and exit codes; it takes
 * them as parameters (like citty's runMain) so tests drive it without spawning a process.
 */
import { COMPILER_VERSION } from '../version.ts';
import { UsageError } from '../io/read-specs.ts';
import { runCompile } from './compile-command.ts';
import { EXIT, type CliIo } from './io.ts';

export interface Command {
  readonly summary: string;
  readonly run: (argv: readonly string[], io: CliIo) => Promise<number>;
}

// Commands that pull in heavy dependencies (Docker, a browser) import them on first use only.
const commands: Record<string, Command> = {
  compile: { summary: 'compile specs into compose, seccomp, SELinux and strip artifacts', run: (a, io) => runCompile(a, io, false) },
  check: { summary: 'validate specs and report problems; write nothing', run: (a, io) => runCompile(a, io, true) },
  verify: { summary: 'start the compiled stack on Docker, prove every interaction, write evidence', run: async (a, io) => (await import('../verify/verify-command.ts')).runVerify(a, io) },
  strip: { summary: 'build stripped FROM-scratch images from the strip lists, with SBOMs and size reports', run: async (a, io) => (await import('../strip/command.ts')).runStrip(a, io) },
  minimize: { summary: 'find the smallest seccomp allowlist or capability set the interactions need', run: async (a, io) => (await import('../minimize/command.ts')).runMinimize(a, io) },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `hardspec ${COMPILER_VERSION}: hardening specs for containers, compiled, verified and published.

Usage: hardspec <command> [options]

Commands:
${Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join('\n')}

Run "hardspec <command> --help" for a command's options.
Exit codes: 0 ok, 1 spec errors or a failed interaction, 2 usage or environment errors.
`;
}

export async function runMain(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${COMPILER_VERSION}\n`);
    return EXIT.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`hardspec: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`hardspec ${name}: ${e.message}\nRun "hardspec ${name} --help" for usage.\n`);
      return EXIT.usage;
    }
    const err = e as NodeJS.ErrnoException & { exitCode?: number };
    if (err.exitCode !== undefined) {
      io.stderr.write(`hardspec ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`hardspec ${name}: internal error: ${err.stack ?? err.message}\n`);
    return EXIT.usage;
  }
}
