/**
 * compile(stacks) → { stacks: [{ model, artifacts }], diagnostics }. Pure: no fs, no process.
 *
 * The phases, in order (each only sees what the one before accepted):
 *   1. read    bytes → text: size, encoding, names of files and folders       (parse/spec-file.ts)
 *   2. parse   text → frontmatter data + position map + body sections         (parse/spec-file.ts)
 *   3. schema  data → checked against spec.schema.json, errors mapped to file:line:column
 *   4. model   data → normalised, readonly model; checks within one spec      (model/build.ts)
 *   5. stack   cross-spec checks: references, duplicates, overlaps            (model/check-stack.ts)
 *   6. emit    model → artifacts (compose, seccomp, selinux, strip), validated, + manifest
 *
 * Validation runs before normalisation so that malformed shapes never reach code that assumes
 * them. A stack with any error emits nothing; the writer then writes nothing at all.
 */
import { diagnostic, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.ts';
import type { Artifact } from './emit/artifact.ts';
import type { YamlValue } from './emit/yaml-writer.ts';
import { emitCompose, hasStripList } from './emit/compose/emit-compose.ts';
import { validateCompose } from './emit/compose/validate-compose.ts';
import { emitManifest } from './emit/manifest.ts';
import { emitSeccompProfile, validateSeccompProfile } from './emit/seccomp/emit-seccomp.ts';
import { emitSelinuxModule } from './emit/selinux/emit-selinux.ts';
import { emitStrip } from './emit/strip/emit-strip.ts';
import { SpecReporter, buildService, buildStackHead } from './model/build.ts';
import { checkStack, type BuiltService } from './model/check-stack.ts';
import { CONTROL_CHARS, IDENTIFIER } from './model/names.ts';
import type { StackModel } from './model/types.ts';
import { parseSpecFile, type ParsedSpec, type SourceFile } from './parse/spec-file.ts';
import { validateSpec } from './schema/validate.ts';

export interface StackInput {
  /** The stack's name: its folder's name. */
  readonly name: string;
  /** The folder as shown to people, e.g. "specs/guestbook". */
  readonly dir: string;
  /** Path from generated/<stack>/ to the stack folder, for build contexts and bind mounts. */
  readonly specDirFromOut: string;
  /** The `.md` files directly inside the folder (any order: the compiler sorts them). */
  readonly files: readonly SourceFile[];
}

export interface CompiledStack {
  readonly name: string;
  readonly model: StackModel;
  /** Sorted by path; includes manifest.json. */
  readonly artifacts: readonly Artifact[];
}

export interface CompileResult {
  /** Only stacks without errors; empty when any stack has an error. */
  readonly stacks: readonly CompiledStack[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface CompileOptions {
  /** Check only: skip emitting (phase 6). */
  readonly checkOnly?: boolean;
}

const UNSAFE_PATH = /[$`'"\\;|&<>*?!(){}[\]\s]/;

export function compile(stacks: readonly StackInput[], options: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const compiled: CompiledStack[] = [];
  for (const input of [...stacks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const result = compileStack(input, options);
    diagnostics.push(...result.diagnostics);
    if (result.stack) compiled.push(result.stack);
  }
  const sorted = sortDiagnostics(diagnostics);
  return { stacks: hasErrors(sorted) ? [] : compiled, diagnostics: sorted };
}

function compileStack(input: StackInput, options: CompileOptions): { stack?: CompiledStack; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const at = (file: string) => ({ file, line: 1, column: 1 });
  if (CONTROL_CHARS.test(input.name) || UNSAFE_PATH.test(input.name)) {
    return { diagnostics: [diagnostic('HS1014', at(input.dir), `the stack folder name ${JSON.stringify(input.name)} holds unsafe characters`, 'rename the folder to lowercase letters, digits and dashes')] };
  }
  if (!IDENTIFIER.test(input.name)) {
    return { diagnostics: [diagnostic('HS1011', at(input.dir), `the stack folder name ${JSON.stringify(input.name)} cannot be used as a stack name`, 'rename it to lowercase letters, digits and dashes, starting with a letter')] };
  }

  // Phases 1–3 for every file; a file that fails stops there, the others go on.
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let stackSpec: ParsedSpec | undefined;
  const serviceSpecs: { spec: ParsedSpec; stem: string }[] = [];
  let sawStackFile = false;
  for (const file of files) {
    const base = file.path.slice(file.path.lastIndexOf('/') + 1);
    const stem = base.replace(/\.md$/, '');
    if (CONTROL_CHARS.test(base) || UNSAFE_PATH.test(base)) {
      diagnostics.push(diagnostic('HS1014', at(file.path), `the file name ${JSON.stringify(base)} holds unsafe characters`, 'rename the file to lowercase letters, digits and dashes, ending in .md'));
      continue;
    }
    if (!IDENTIFIER.test(stem)) {
      diagnostics.push(diagnostic('HS1011', at(file.path), `the file name ${JSON.stringify(base)} cannot be used as a service name`, 'rename it to lowercase letters, digits and dashes, starting with a letter, e.g. web.md'));
      continue;
    }
    const isStack = stem === 'stack';
    sawStackFile ||= isStack;
    const parsed = parseSpecFile(file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.spec) continue;
    const schemaErrors = validateSpec(parsed.spec, isStack ? 'stack' : 'service');
    diagnostics.push(...schemaErrors);
    if (schemaErrors.some((d) => d.severity === 'error')) continue;
    if (isStack) stackSpec = parsed.spec;
    else serviceSpecs.push({ spec: parsed.spec, stem });
  }
  if (!sawStackFile) {
    diagnostics.push(diagnostic('HS1012', at(`${input.dir}/stack.md`), `the stack folder ${input.dir} has no stack.md`, 'add stack.md with "hardspec: 1" and "kind: stack", and the networks and volumes of the stack'));
  }
  if (sawStackFile && files.length === 1) {
    diagnostics.push(diagnostic('HS3024', at(`${input.dir}/stack.md`), `the stack ${input.name} has no service specs`, 'add one <service>.md per service beside stack.md'));
  }
  if (!stackSpec || hasErrors(diagnostics)) {
    // Still check stack.md and the services that parsed, so one run reports as much as it can.
    if (stackSpec) {
      const r = new SpecReporter(stackSpec);
      buildStackHead(stackSpec, r);
      diagnostics.push(...r.diagnostics);
    }
    for (const { spec, stem } of serviceSpecs) {
      const r = new SpecReporter(spec);
      buildService(spec, stem, r);
      diagnostics.push(...r.diagnostics);
    }
    return { diagnostics };
  }

  // Phases 4–5.
  const headReporter = new SpecReporter(stackSpec);
  const head = buildStackHead(stackSpec, headReporter);
  const built: BuiltService[] = serviceSpecs.map(({ spec, stem }) => {
    const reporter = new SpecReporter(spec);
    return { model: buildService(spec, stem, reporter), reporter, raw: spec.data as Record<string, unknown> };
  });
  checkStack(head, headReporter, built);
  diagnostics.push(...headReporter.diagnostics, ...built.flatMap((b) => b.reporter.diagnostics));
  if (hasErrors(diagnostics)) return { diagnostics };

  const model: StackModel = {
    name: input.name,
    dir: input.dir,
    description: head.description,
    source: head.source,
    networks: head.networks,
    volumes: head.volumes,
    secrets: head.secrets,
    services: built.map((b) => b.model).sort((a, b) => (a.name < b.name ? -1 : 1)),
    interactions: head.interactions,
  };
  if (options.checkOnly) return { stack: { name: input.name, model, artifacts: [] }, diagnostics };

  // Phase 6.
  const artifacts = emitStack(model, input.specDirFromOut, diagnostics);
  return hasErrors(diagnostics) ? { diagnostics } : { stack: { name: input.name, model, artifacts }, diagnostics };
}

/** Emits every artifact of a stack and checks the emitted compose file and seccomp profiles. */
export function emitStack(model: StackModel, specDirFromOut: string, diagnostics: Diagnostic[] = []): Artifact[] {
  const { artifact: compose, document } = emitCompose(model, { specDirFromOut });
  const artifacts: Artifact[] = [compose];
  let strippedDocument: YamlValue | undefined;
  if (model.services.some(hasStripList)) {
    const stripped = emitCompose(model, { specDirFromOut, stripped: true });
    artifacts.push(stripped.artifact);
    strippedDocument = stripped.document;
  }
  for (const s of model.services) {
    artifacts.push(emitSeccompProfile(model.name, s), ...emitSelinuxModule(model.name, s), ...(hasStripList(s) ? emitStrip(model, s) : []));
  }
  for (const [file, doc] of [['compose.yaml', document], ['compose.stripped.yaml', strippedDocument]] as const) {
    if (doc === undefined) continue;
    for (const p of validateCompose(doc)) {
      diagnostics.push(diagnostic('HS4001', { file: `${model.dir}/stack.md`, line: 1, column: 1 }, `generated ${file} is not valid: ${p}`, 'this is a bug in hardspec; please report it with the spec'));
    }
  }
  for (const a of artifacts.filter((x) => x.path.startsWith('seccomp/'))) {
    for (const p of validateSeccompProfile(JSON.parse(a.content))) {
      diagnostics.push(diagnostic('HS4002', { file: a.sources[0]?.path ?? model.dir, line: 1, column: 1 }, `generated ${a.path} is not valid: ${p}`, 'this is a bug in hardspec; please report it with the spec'));
    }
  }
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [...artifacts, emitManifest(model, artifacts)];
}
