/**
 * Emits the file lists for stripped FROM-scratch images: strip/<service>.strip-cmd, the
 * strip-docker-image invocation as a POSIX shell script (every argument single-quoted), and
 * strip/<service>.json with the same lists for hardspec's own stripper.
 */
import type { ServiceModel, StackModel } from '../../model/types.ts';
import { generatedHeader, type Artifact } from '../artifact.ts';

/** POSIX single quoting: the only character that needs care inside '…' is ' itself. */
export function shellQuote(s: string): string {
  if (/[\u0000]/.test(s)) throw new Error('NUL cannot be passed through a shell argument');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function emitStrip(stack: StackModel, s: ServiceModel): Artifact[] {
  const sources = [s.source];
  const args: string[][] = [
    ['-i', s.image.name],
    ['-t', s.strip.target],
    ...s.strip.packages.map((p) => ['-p', p]),
    ...s.strip.files.map((f) => ['-f', f]),
    // A container port published on two host addresses is still one port to expose.
    ...containerPorts(s).map((p) => ['-x', String(p)]),
  ];
  const script = [
    '#!/bin/sh',
    generatedHeader('#', stack.name, sources).trimEnd(),
    '# Builds a FROM-scratch image holding only the listed packages and files (strip-docker-image).',
    'set -eu',
    `exec strip-docker-image \\\n${args.map((a) => `  ${a[0]} ${shellQuote(a[1]!)}`).join(' \\\n')}`,
    '',
  ].join('\n');
  const json = {
    image: s.image.name,
    target: s.strip.target,
    packages: s.strip.packages,
    files: s.strip.files,
    ports: containerPorts(s),
    user: `${s.user.uid}:${s.user.gid}`,
  };
  return [
    { path: `strip/${s.name}.strip-cmd`, content: script, sources },
    { path: `strip/${s.name}.json`, content: `${JSON.stringify(json, null, 2)}\n`, sources },
  ];
}

function containerPorts(s: ServiceModel): number[] {
  return [...new Set(s.ports.map((p) => p.container))].sort((a, b) => a - b);
}
