/**
 * A local cluster of real node processes for end-to-end tests, made and driven through the
 * `ringtail` CLI (`cluster up --ports auto` in a temp dir), and the waits those tests share.
 * `destroy()` SIGKILLs every node the cluster file lists and removes the directory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readClusterFile, type ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import { isRunning } from '../../src/cli/cluster/cluster-manager.js';
import type { StatusReport } from '../../src/cluster/status-report.js';
import { closeHttp, httpJson, ringtailBin, waitFor } from './node-process.js';

const exec = promisify(execFile);
const CLI_TIMEOUT_MS = 180_000;

export class LocalCluster {
  private constructor(readonly dir: string) {}

  /** `ringtail cluster up --nodes N --ports auto` with `--set` for each of `settings`. */
  static async up(name: string, nodes: number, settings: readonly string[] = []): Promise<LocalCluster> {
    const cluster = new LocalCluster(fs.mkdtempSync(path.join(os.tmpdir(), `ringtail-${name}-`)));
    await cluster.cli('cluster', 'up', '--nodes', String(nodes), '--ports', 'auto', '--dir', cluster.dir, ...settings.flatMap((s) => ['--set', s]));
    return cluster;
  }

  /** The nodes as cluster.json lists them now (PIDs change when a node is restarted). */
  get nodes(): ClusterNode[] {
    return readClusterFile(this.dir).nodes;
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no ${name} in ${this.dir}`);
    return node;
  }

  /** Runs `ringtail …args`; resolves with its stdout, rejects on a non-zero exit. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await exec(process.execPath, [ringtailBin(), ...args], { timeout: CLI_TIMEOUT_MS });
    return stdout;
  }

  async destroy(): Promise<void> {
    if (fs.existsSync(path.join(this.dir, 'cluster.json'))) for (const n of this.nodes) if (isRunning(n.pid)) process.kill(n.pid, 'SIGKILL');
    await closeHttp();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until every observer's /v1/status reports `node` with `status`. */
export async function seenAs(observers: readonly ClusterNode[], node: ClusterNode, status: 'UP' | 'DOWN', timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const views = await Promise.all(observers.map((o) => httpJson<StatusReport>('GET', `${o.http}/v1/status`).catch(() => null)));
      return views.every((v) => v !== null && v.body.nodes.find((n) => n.internode === node.internode)?.status === status);
    },
    `${node.name} ${status} everywhere`,
    timeoutMs,
  );
}

/** The sum of a Prometheus metric's samples (all label sets) on `node`. */
export async function metricSum(node: ClusterNode, name: string): Promise<number> {
  const text = await fetch(`${node.http}/metrics`).then((r) => r.text());
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
