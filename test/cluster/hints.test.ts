/**
 * Hinted handoff across three in-process nodes, each with a real storage engine in its own temp
 * dir, over the in-memory network of test/helpers/hints-cluster.ts on manual time. Node 1
 * coordinates: it writes locally, sends MUTATION to node 3, and hints node 2 while node 2 is
 * down; node 2 serves HINT with the real handler. Phases: node 2 down → hints stored; node 2 UP
 * → replayed oldest first, rate-limited, deleted, node 2 converges; the coordinator restarts
 * between storing and replay; a replay whose acks were lost runs twice without harm.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/cluster/cluster-service.js';
import { decodeMutation, encodeMutation, registerReplicaVerbs } from '../../src/coordinator/replica-verbs.js';
import { HintsService, type HintsSettings } from '../../src/hints/hints-service.js';
import { registerHintVerbs } from '../../src/hints/hint-verbs.js';
import { Verb } from '../../src/messaging/verbs.js';
import { murmur3Token } from '../../src/ring/murmur3.js';
import type { PartitionUpdate } from '../../src/storage/data/types.js';
import type { StorageEngine } from '../../src/storage/engine/storage-engine.js';
import type { TableStore } from '../../src/storage/engine/table-store.js';
import { silentLogger } from '../../src/util/logger.js';
import { openEngine, TABLE } from '../helpers/engine.js';
import { InMemoryNetwork, ManualTime, until, type TestMessaging } from '../helpers/hints-cluster.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const SETTINGS: HintsSettings = { hinted_handoff_enabled: true, max_hint_window_ms: 3_600_000, hint_replay_bytes_per_s: 1000, write_request_timeout_ms: 1000 };

interface TestNode {
  readonly hostId: string;
  readonly endpoint: string;
  readonly dir: string;
  readonly messaging: TestMessaging;
  engine: StorageEngine;
  table: TableStore;
}

function update(key: string, value: string, ts: number): PartitionUpdate {
  const k = Buffer.from(key);
  return { token: murmur3Token(k), key: k, rangeTombstones: [], rows: [{ clustering: Buffer.alloc(0), cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }] }] };
}

function cellOf(node: TestNode, key: string): { value: string; ts: number } | null {
  const k = Buffer.from(key);
  const cell = node.table.readPartition(murmur3Token(k), k)?.rows[0]?.cells.find((c) => c.column === 'v');
  return cell === undefined || cell.value === null ? null : { value: cell.value.toString(), ts: cell.ts };
}

describe('hinted handoff (cluster)', () => {
  const tmp = useTmpDir('ringtail-hints-cluster-');
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startCluster() {
    const time = new ManualTime();
    const network = new InMemoryNetwork(time);
    const nodes: TestNode[] = [];
    for (let i = 1; i <= 3; i++) {
      const endpoint = `127.0.0.${i}:7000`;
      const dir = join(tmp(), `node${i}`);
      const messaging = network.messagingFor(endpoint);
      const { engine, table } = await openEngine(dir, { clock: time });
      const node: TestNode = { hostId: `host-${i}`, endpoint, dir, messaging, engine, table };
      // The handlers read the node's current engine.
      registerReplicaVerbs(messaging, { table: (id) => node.engine.table(id) }, silentLogger);
      registerHintVerbs(messaging, { table: (id) => node.engine.table(id) }, silentLogger);
      nodes.push(node);
    }
    cleanups.push(async () => {
      for (const node of nodes) await node.engine.close({ flush: false });
    });
    const openHints = async (): Promise<HintsService> => {
      const service = await HintsService.open({
        dataDir: nodes[0]!.dir,
        settings: SETTINGS,
        messaging: nodes[0]!.messaging,
        gcGraceSecondsOf: (id) => (id === TABLE.id ? TABLE.gcGraceSeconds : undefined),
        clock: time,
        scheduler: time,
        logger: silentLogger,
      });
      service.start();
      cleanups.push(() => service.stop());
      return service;
    };
    const downSince = new Map<string, number>();
    /** Node 1 coordinating a write at ONE: local apply, MUTATION to live replicas, a hint for down ones. */
    const write = async (hints: HintsService, key: string, value: string, ts: number): Promise<void> => {
      const u = update(key, value, ts);
      const bytes = encodeMutation(TABLE.id, u);
      await nodes[0]!.table.apply(u);
      for (const replica of nodes.slice(1)) {
        if (network.down.has(replica.endpoint)) {
          const target = { hostId: replica.hostId, endpoint: replica.endpoint };
          if (hints.shouldHint(target, downSince.get(replica.hostId) ?? null)) expect(await hints.store(target, TABLE.id, bytes)).toBe(true);
        } else {
          await nodes[0]!.messaging.request(parseEndpoint(replica.endpoint), Verb.MUTATION, bytes, 1000);
        }
      }
    };
    const markDown = (node: TestNode, hints: HintsService): void => {
      network.down.add(node.endpoint);
      downSince.set(node.hostId, time.nowMs());
      hints.onDown(node.hostId);
    };
    const markUp = (node: TestNode, hints: HintsService): void => {
      network.down.delete(node.endpoint);
      downSince.delete(node.hostId);
      hints.onUp(node.hostId, node.endpoint);
    };
    return { time, network, nodes, openHints, write, markDown, markUp };
  }

  const hintFiles = (node: TestNode, target: TestNode): string[] => {
    try {
      return readdirSync(join(node.dir, 'hints', target.hostId));
    } catch {
      return [];
    }
  };

  it('hints a down replica and replays them oldest first, rate-limited, once it is UP', async () => {
    const c = await startCluster();
    const [coordinator, replica, other] = c.nodes as [TestNode, TestNode, TestNode];
    const hints = await c.openHints();
    c.markDown(replica, hints);
    for (let i = 0; i < 40; i++) await c.write(hints, `k${i % 8}`, `v${i}`, 1000 + i);

    expect(hints.pendingHints(replica.hostId)).toBe(40);
    expect(hintFiles(coordinator, replica).length).toBeGreaterThan(0);
    expect(cellOf(replica, 'k0')).toBeNull();
    expect(cellOf(other, 'k0')).toEqual({ value: 'v32', ts: 1032 });

    c.markUp(replica, hints);
    await until('every hint replayed', () => hints.pendingHints(replica.hostId) === 0, c.time, { stepMs: 20, maxSteps: 5000 });

    const delivered = c.network.deliveriesOf(Verb.HINT, replica.endpoint);
    expect(delivered.map((d) => decodeMutation(d.payload).update.rows[0]!.cells[0]!.ts)).toEqual(Array.from({ length: 40 }, (_, i) => 1000 + i));
    // Rate: about 40 × ~120 B (framed) at 1000 B/s with a one-second burst.
    const bytes = delivered.reduce((n, d) => n + d.bytes, 0);
    expect(bytes).toBeGreaterThan(2000);
    const startMs = delivered[0]!.atMs;
    for (const [i, d] of delivered.entries()) {
      const sentBytes = delivered.slice(0, i + 1).reduce((n, x) => n + x.bytes, 0);
      expect(sentBytes).toBeLessThanOrEqual(1000 + d.atMs - startMs + 200);
    }
    expect(delivered.at(-1)!.atMs - startMs).toBeGreaterThan(((bytes - 1000) / 1000) * 1000);

    for (let k = 0; k < 8; k++) expect(cellOf(replica, `k${k}`)).toEqual(cellOf(coordinator, `k${k}`));
    // A delivered segment is deleted just after its last ack: wait for the unlink, bounded.
    await until('delivered hint files deleted', () => hintFiles(coordinator, replica).filter((n) => n.startsWith('Hints-')).length === 0, c.time);
    expect(hints.stats().targets.get(replica.hostId)).toMatchObject({ stored: 40, replayed: 40, pendingHints: 0, pendingBytes: 0 });
  });

  it('keeps hints across a coordinator restart between storing and replay', async () => {
    const c = await startCluster();
    const [coordinator, replica] = c.nodes as [TestNode, TestNode, TestNode];
    let hints = await c.openHints();
    c.markDown(replica, hints);
    for (let i = 0; i < 10; i++) await c.write(hints, `k${i}`, `v${i}`, 2000 + i);
    await hints.stop();

    hints = await c.openHints();
    expect(hints.pendingHints(replica.hostId)).toBe(10);
    c.markUp(replica, hints);
    await until('every hint replayed after the restart', () => hints.pendingHints(replica.hostId) === 0, c.time);
    for (let i = 0; i < 10; i++) expect(cellOf(replica, `k${i}`)).toEqual({ value: `v${i}`, ts: 2000 + i });
    expect(cellOf(replica, 'k0')).toEqual(cellOf(coordinator, 'k0'));
  });

  it('replaying hints twice (acks lost) leaves the replica as one replay would, newer writes intact', async () => {
    const c = await startCluster();
    const [coordinator, replica] = c.nodes as [TestNode, TestNode, TestNode];
    const hints = await c.openHints();
    c.markDown(replica, hints);
    for (let i = 0; i < 6; i++) await c.write(hints, `k${i % 3}`, `old${i}`, 3000 + i);

    // The replica applies every hint but its answers are lost: the coordinator keeps them all.
    c.network.loseResponses.add(replica.endpoint);
    c.markUp(replica, hints);
    await until('the hints were applied once', () => c.network.deliveriesOf(Verb.HINT, replica.endpoint).filter((d) => d.answered).length >= 6, c.time);
    await until('the dispatch gave up', () => hints.stats().dispatch.failures >= 1, c.time);
    expect(hints.pendingHints(replica.hostId)).toBe(6);

    // The network heals; a newer write reaches the replica directly before the retry (whose
    // backoff timer only fires when manual time moves).
    c.network.loseResponses.delete(replica.endpoint);
    await c.write(hints, 'k0', 'newest', 9000);
    expect(cellOf(replica, 'k0')).toEqual({ value: 'newest', ts: 9000 });

    await until('the retry replayed everything', () => hints.pendingHints(replica.hostId) === 0, c.time, { stepMs: 100 });
    expect(c.network.deliveriesOf(Verb.HINT, replica.endpoint).filter((d) => d.answered).length).toBeGreaterThanOrEqual(12);
    expect(cellOf(replica, 'k0')).toEqual({ value: 'newest', ts: 9000 });
    for (let k = 0; k < 3; k++) expect(cellOf(replica, `k${k}`)).toEqual(cellOf(coordinator, `k${k}`));
    // Thousands of real event-loop turns with fsyncs between them: slow on a loaded machine.
  }, 90_000);

  it('stops hinting a replica down longer than max_hint_window_ms', async () => {
    const c = await startCluster();
    const [, replica] = c.nodes as [TestNode, TestNode, TestNode];
    const hints = await c.openHints();
    c.markDown(replica, hints);
    await c.write(hints, 'a', '1', 1);
    c.time.advanceMs(SETTINGS.max_hint_window_ms);
    await c.write(hints, 'b', '2', 2);
    expect(hints.stats().targets.get(replica.hostId)).toMatchObject({ stored: 1, dropped: 1, pendingHints: 1 });
  });
});
