/**
 * Membership changes through real processes and the CLI (issue #7 §2 and §4): a 3-node
 * cluster grows to 4 and 5 nodes (`ringtail cluster add`: bootstrap with streaming) and shrinks
 * back to 3 (`ringtail decommission` of one node, then `ringtail removenode` of another that was
 * stopped), while a client writes and reads at QUORUM through the three original nodes.
 *
 * Checked: no write acknowledged at QUORUM is ever missing from a QUORUM read, during or after
 * the changes; no QUORUM read fails except as `Unavailable`; the ring ends with the three
 * original nodes, and a node that joined holds its ranges' rows on its own (read at ONE
 * coordinated by itself once its ring share is known).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/cli/cluster/cluster-file.js';
import { isRunning } from '../../src/cli/cluster/cluster-manager.js';
import type { StatusReport } from '../../src/cluster/status-report.js';
import { LocalCluster } from '../helpers/local-cluster.js';
import { cqlOk, httpJson, postCql, waitFor } from '../helpers/node-process.js';

const PRELOAD_ROWS = 3000;
const CLIENTS = 6;
let cluster: LocalCluster;
let original: ClusterNode[] = [];

const cli = (...args: string[]): Promise<string> => cluster.cli(...args);

beforeAll(async () => {
  cluster = await LocalCluster.up('membership', 3, ['ring_delay_ms=1500', 'num_tokens=8']);
  original = cluster.nodes;
  await cqlOk(original[0]!.http, "CREATE KEYSPACE m WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
  await cqlOk(original[0]!.http, 'CREATE TABLE m.kv (k int PRIMARY KEY, v text)');
  await waitFor(async () => (await Promise.all(original.map((n) => postCql(n.http, 'SELECT * FROM m.kv WHERE k = 0')))).every((r) => r.status === 200), 'the table on every node', 10_000);
}, 120_000);

afterAll(() => cluster?.destroy());

/** Writes unique keys and reads back acknowledged ones, all at QUORUM, until stopped. */
class QuorumClient {
  readonly acknowledged = new Map<number, string>();
  readonly readFailures: string[] = [];
  readonly missing: number[] = [];
  unavailable = 0;
  writeErrors = 0;
  reads = 0;
  private nextKey = 0;
  private stopped = false;
  private running: Promise<void[]> | null = null;

  constructor(private readonly coordinators: readonly ClusterNode[]) {}

  async write(k: number, coordinator: ClusterNode): Promise<void> {
    const v = `value ${k}`;
    const r = await postCql(coordinator.http, 'INSERT INTO m.kv (k, v) VALUES (?, ?)', { params: [k, v], consistency: 'QUORUM' });
    if (r.status === 200) this.acknowledged.set(k, v);
    else this.writeErrors++;
  }

  async read(k: number, coordinator: ClusterNode): Promise<void> {
    const r = await postCql<{ rows: { v: string }[] }>(coordinator.http, 'SELECT v FROM m.kv WHERE k = ?', { params: [k], consistency: 'QUORUM' });
    this.reads++;
    if (r.status !== 200) {
      const code = (r.body as { error?: { code?: string } }).error?.code;
      if (code === 'Unavailable') this.unavailable++;
      else this.readFailures.push(`${coordinator.name} k=${k}: ${JSON.stringify(r.body)}`);
      return;
    }
    if (r.body.rows[0]?.v !== this.acknowledged.get(k)) this.missing.push(k);
  }

  async preload(rows: number): Promise<void> {
    const workers = Array.from({ length: 16 }, async (_, w) => {
      while (this.nextKey < rows) await this.write(this.nextKey++, this.coordinators[w % this.coordinators.length]!);
    });
    await Promise.all(workers);
  }

  start(): void {
    this.running = Promise.all(
      Array.from({ length: CLIENTS }, async (_, w) => {
        const coordinator = this.coordinators[w % this.coordinators.length]!;
        for (let i = 0; !this.stopped; i++) {
          if (i % 2 === 0) await this.write(this.nextKey++, coordinator);
          else {
            const keys = [...this.acknowledged.keys()];
            await this.read(keys[Math.floor(Math.random() * keys.length)]!, coordinator);
          }
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/**
 * `node` alone holds the preloaded rows of the keys it replicates: a read at ONE that it
 * coordinates is answered by itself when it is a replica (it is its own closest replica).
 */
async function expectHoldsItsRows(node: ClusterNode, acknowledged: ReadonlyMap<number, string>): Promise<void> {
  let checked = 0;
  for (let k = 0; k < PRELOAD_ROWS && checked < 100; k++) {
    const endpoints = await httpJson<{ replicas: { address: string; host_id: string }[] }>('GET', `${node.http}/v1/endpoints?keyspace=m&table=kv&key=${k}`);
    if (!endpoints.body.replicas.some((r) => r.host_id === node.host_id)) continue;
    const r = await cqlOk<{ rows: { v: string }[] }>(node.http, 'SELECT v FROM m.kv WHERE k = ?', { params: [k], consistency: 'ONE' });
    expect(r.rows[0]?.v, `key ${k} on ${node.name}`).toBe(acknowledged.get(k));
    checked++;
  }
  expect(checked).toBe(100);
}

async function ringMembers(observer: ClusterNode): Promise<{ internode: string; status: string; state: string }[]> {
  const r = await httpJson<StatusReport>('GET', `${observer.http}/v1/status`);
  return r.body.nodes.map((n) => ({ internode: n.internode, status: n.status, state: n.state }));
}

it('grows 3 → 4 → 5 and shrinks back to 3 under QUORUM load without losing an acknowledged write', async () => {
  const client = new QuorumClient(original);
  await client.preload(PRELOAD_ROWS);
  expect(client.acknowledged.size).toBe(PRELOAD_ROWS);
  client.start();
  try {
    await cli('cluster', 'add', '--dir', cluster.dir);
    const node4 = cluster.nodes[3]!;
    await expectHoldsItsRows(node4, client.acknowledged);
    await cli('cluster', 'add', '--dir', cluster.dir);
    const grown = cluster.nodes;
    expect(grown.map((n) => n.name)).toEqual(['node1', 'node2', 'node3', 'node4', 'node5']);
    for (const observer of original) {
      const members = await ringMembers(observer);
      expect(members.filter((m) => m.state === 'NORMAL' && m.status === 'UP')).toHaveLength(5);
    }
    const node5 = grown[4]!;

    // node5 leaves by decommission: its ranges stream to their new replicas, then it stops.
    const decommissioned = await cli('decommission', '--host', node5.http);
    process.stdout.write(`[membership] ${decommissioned}`);
    expect(decommissioned).toMatch(/^decommission of .* done in .* rows/);
    await waitFor(() => !isRunning(node5.pid), 'node5 to exit after leaving', 30_000);

    // node4 stops, then the survivors re-replicate its ranges (removenode).
    await cli('cluster', 'stop', 'node4', '--dir', cluster.dir);
    await waitFor(async () => (await Promise.all(original.map(ringMembers))).every((m) => m.find((x) => x.internode === node4.internode)?.status === 'DOWN'), 'node4 DOWN everywhere', 20_000);
    const removed = await cli('removenode', node4.host_id, '--dir', cluster.dir);
    process.stdout.write(`[membership] ${removed}`);
    expect(removed).toMatch(/^removenode of .* done in/);
  } finally {
    await client.stop();
  }

  // Gossip carries the removal from the node that ran removenode to the others.
  const originalRing = original.map((n) => n.internode).sort();
  await waitFor(
    async () => (await Promise.all(original.map(ringMembers))).every((members) => JSON.stringify(members.map((m) => m.internode).sort()) === JSON.stringify(originalRing)),
    'every original node to see a ring of the three original nodes',
    10_000,
  );
  process.stdout.write(`[membership] ${client.acknowledged.size} writes acknowledged (${client.writeErrors} refused), ${client.reads} QUORUM reads during the changes (${client.unavailable} Unavailable)\n`);
  expect(client.readFailures).toEqual([]);
  expect(client.missing).toEqual([]);
  expect(client.reads).toBeGreaterThan(100);
  // Every acknowledged write, read back at QUORUM after the changes.
  const keys = [...client.acknowledged.keys()];
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(keys.slice(i, i + 64).map((k, j) => client.read(k, original[j % 3]!)));
  }
  expect(client.missing).toEqual([]);
  expect(client.readFailures).toEqual([]);
}, 600_000);
