/**
 * The run's compose override, written to a temporary folder (never beside the committed compose
 * file): run labels on every service, network and volume, and the probe bind mount on every
 * service, for this run only.
 *
 * docker-compose 1.29 *replaces* a top-level network or volume definition that an override
 * repeats instead of merging it, so the override restates every property the model gives them
 * (`internal: true` would otherwise be lost silently).
 */
import type { StackModel } from '../model/types.ts';
import { toYaml, type YamlValue } from '../emit/yaml-writer.ts';
import { PROBE_MOUNT_PATH } from './probe.ts';

export const LABEL = {
  run: 'io.hardspec.run',
  stack: 'io.hardspec.stack',
  pid: 'io.hardspec.pid',
  /** Start time of the pid (field 22 of /proc/<pid>/stat), so a reused pid is not taken for the verifier. */
  pidStart: 'io.hardspec.pid-start',
} as const;

export interface RunLabels {
  readonly runId: string;
  readonly stack: string;
  readonly pid: number;
  readonly pidStart?: string;
}

export function runLabelMap(l: RunLabels): Record<string, string> {
  return {
    [LABEL.run]: l.runId,
    [LABEL.stack]: l.stack,
    [LABEL.pid]: String(l.pid),
    ...(l.pidStart ? { [LABEL.pidStart]: l.pidStart } : {}),
  };
}

/** Pure: the override compose document for one run. */
export function composeOverride(stack: StackModel, labels: RunLabels, probePath: string): string {
  const l = runLabelMap(labels);
  const doc: Record<string, YamlValue> = {
    services: Object.fromEntries(stack.services.map((s) => [s.name, {
      labels: l,
      volumes: [{ type: 'bind', source: probePath, target: PROBE_MOUNT_PATH, read_only: true }],
    }])),
  };
  const networks: Record<string, YamlValue> = Object.fromEntries(stack.networks.map((n) => [n.name, n.internal ? { internal: true, labels: l } : { labels: l }]));
  // A service without networks joins compose's "default" network: label that one too.
  if (stack.services.some((s) => s.networks.length === 0)) networks.default = { labels: l };
  if (Object.keys(networks).length) doc.networks = networks;
  if (stack.volumes.length) doc.volumes = Object.fromEntries(stack.volumes.map((v) => [v.name, { labels: l }]));
  return `# hardspec verify: labels and the probe mount for run ${labels.runId} only. Temporary.\n${toYaml(doc)}`;
}
