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
import { closeHttp, cqlOk, httpJson, postCql, ringtailBin, waitFor } from './node-process.js';

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

/**
 * Creates `keyspace.kv (k int PRIMARY KEY, v text)` with RF 3 through `nodes[0]` and waits until
 * the last node serves it.
 */
export async function createKvTable(nodes: readonly ClusterNode[], keyspace: string): Promise<void> {
  await cqlOk(nodes[0]!.http, `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}`);
  await cqlOk(nodes[0]!.http, `CREATE TABLE ${keyspace}.kv (k int PRIMARY KEY, v text)`);
  await waitFor(async () => (await postCql(nodes.at(-1)!.http, `SELECT * FROM ${keyspace}.kv WHERE k = 0`)).status === 200, 'the table on every node', 5_000);
}

/** Writes rows k = 0..rows-1 with v = `row k` at QUORUM, `inFlight` at a time, round-robin over `coordinators`. */
export async function writeRowsAtQuorum(coordinators: readonly ClusterNode[], keyspace: string, rows: number, inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      const coordinator = coordinators[worker % coordinators.length]!;
      while (next < rows) {
        const k = next++;
        await cqlOk(coordinator.http, `INSERT INTO ${keyspace}.kv (k, v) VALUES (?, ?)`, { params: [k, `row ${k}`], consistency: 'QUORUM' });
      }
    }),
  );
}
