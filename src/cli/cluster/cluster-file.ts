/**
 * `DIR/cluster.json` (SPEC 2.2): the source of truth about a local cluster for tools and
 * tests. Written atomically (temp file + rename) so a reader never sees half of it.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ClusterNode {
  name: string;
  /** Filled in from the node's /v1/status once it is up; '' before. */
  host_id: string;
  address: string;
  http: string;
  internode: string;
  pid: number;
  data_dir: string;
  config: string;
  datacenter: string;
  rack: string;
}

export interface ClusterFile {
  name: string;
  nodes: ClusterNode[];
}

export const DEFAULT_CLUSTER_DIR = './data/local';

export function clusterFilePath(dir: string): string {
  return path.join(dir, 'cluster.json');
}

export function readClusterFile(dir: string): ClusterFile {
  const file = clusterFilePath(dir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no cluster in ${dir} (${file} not found): start one with 'ringtail cluster up --dir ${dir}'`);
  }
  const parsed = JSON.parse(text) as ClusterFile;
  if (typeof parsed.name !== 'string' || !Array.isArray(parsed.nodes)) throw new Error(`${file} is not a cluster file`);
  return parsed;
}

export function writeClusterFile(dir: string, cluster: ClusterFile): void {
  const file = clusterFilePath(dir);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(cluster, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export function findNode(cluster: ClusterFile, name: string): ClusterNode {
  const node = cluster.nodes.find((n) => n.name === name || n.host_id === name || n.address === name);
  if (node === undefined) throw new Error(`no node '${name}' in cluster ${cluster.name} (nodes: ${cluster.nodes.map((n) => n.name).join(', ')})`);
  return node;
}
