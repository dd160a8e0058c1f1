/**
 * Which node the shell talks to (SPEC 2): `--host URL`; else the first node of the local cluster
 * in `--dir` (its `cluster.json`, SPEC 2.2, written by `ringtail cluster`); else the default
 * HTTP endpoint of a single local node.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeHost } from './client.js';

export const DEFAULT_HOST = 'http://127.0.0.1:8042';
export const DEFAULT_CLUSTER_DIR = './data/local';

export class HostResolutionError extends Error {
  override readonly name = 'HostResolutionError';
}

export function resolveHost(options: { host?: string | undefined; dir?: string | undefined }): string {
  if (options.host !== undefined) return normalizeHost(options.host);
  const file = join(options.dir ?? DEFAULT_CLUSTER_DIR, 'cluster.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_HOST;
    throw new HostResolutionError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let cluster: unknown;
  try {
    cluster = JSON.parse(text) as unknown;
  } catch {
    throw new HostResolutionError(`${file} is not valid JSON`);
  }
  const nodes = (cluster as { nodes?: unknown } | null)?.nodes;
  const first = Array.isArray(nodes) ? (nodes[0] as { http?: unknown } | undefined) : undefined;
  if (typeof first?.http !== 'string') throw new HostResolutionError(`${file} names no node with an "http" endpoint`);
  return normalizeHost(first.http);
}
