/**
 * Issue #5 §4: an in-process cluster (test/helpers/sim-cluster.ts) over a simulated network
 * that drops, delays and partitions (test/helpers/sim-network.ts), checking the coordinator's
 * guarantees end to end through CQL:
 * 1. a QUORUM read never returns data older than a QUORUM write acknowledged before it started
 *    (nor older than a read that completed before it: blocking read repair, SPEC 6.4);
 * 2. a replica partitioned away during QUORUM writes is repaired by the next QUORUM read that
 *    involves it;
 * 3. after writes on both sides of a partition and healing, reads at ALL make every replica's
 *    local rows identical (cells and version vectors), and LWW picks the later write.
 * The siblings / counted-conflict assertions of §4 join case 3 once the version-vector write
 * path lands: `writeOnBothSides` and `expectIdenticalReplicas` are the building blocks.
 *
 * Seeds: every randomised case derives its seed from PARTITION_SEED (default below) and names
 * it on failure; replay with `PARTITION_SEED=<seed> npx vitest run test/cluster/partition.test.ts`.
 * Timing is the real event loop's, so a replay repeats the fault parameters and random
 * choices, not the exact interleaving.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadFailure, ReadTimeout, Unavailable, WriteFailure, WriteTimeout } from '../../src/errors.js';
import { RemoteError, RequestTimeoutError } from '../../src/messaging/errors.js';
import type { ConsistencyLevel } from '../../src/cql/request.js';
import { parseEndpoint } from '../../src/cluster/cluster-service.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { SimCluster, type SimTableParams } from '../helpers/sim-cluster.js';
import { SimNetwork } from '../helpers/sim-network.js';
import { useTmpDir } from '../helpers/tmpdir.js';

const BASE_SEED = Number(process.env.PARTITION_SEED ?? 20_250_605);
const tmp = useTmpDir('ringtail-partition-');

let cluster: SimCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function startCluster(seed: number, tableParams: SimTableParams = {}): Promise<SimCluster> {
  cluster = await SimCluster.start({ dataDir: tmp(), nodes: 3, rf: 3, seed, tableParams, writeRequestTimeoutMs: 250, readRequestTimeoutMs: 250 });
  return cluster;
}

/** Runs `body`; a failure names the seed that replays it. */
async function withSeed(seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof Error) err.message = `[seed ${seed}: replay with PARTITION_SEED=${seed}] ${err.message}`;
    throw err;
  }
}

/** The errors a coordinator may answer under lost and late messages: counted, not failures. */
function isExpectedUnderFaults(err: unknown): boolean {
  return err instanceof WriteTimeout || err instanceof ReadTimeout || err instanceof Unavailable || err instanceof WriteFailure || err instanceof ReadFailure;
}

const INSERT = 'INSERT INTO kv (k, v) VALUES (?, ?)';
const SELECT = 'SELECT v FROM kv WHERE k = ?';

async function readValue(c: SimCluster, coordinator: number, key: string, consistency: ConsistencyLevel): Promise<number | null> {
  const rows = await c.node(coordinator).rows(SELECT, [key], consistency);
  return (rows[0]?.v as number | null | undefined) ?? null;
}

/** What this replica alone holds for `key` (no coordinator, no network). */
async function localValue(c: SimCluster, node: number, key: string): Promise<number | null> {
  const result = await c.node(node).executeLocally(SELECT, [key]);
  if (result.kind !== 'rows') throw new Error(`expected rows, got ${result.kind}`);
  return (result.rows[0]?.v as number | null | undefined) ?? null;
}

// ---- building blocks for the partition scenarios ----

interface SideWrite {
  readonly key: string;
  readonly side: number;
  readonly coordinator: number;
  readonly value: number;
}

interface WriteOnBothSidesOptions {
  /** Node indexes of each side; the network is partitioned between them first. */
  readonly sides: readonly [readonly number[], readonly number[]];
  readonly keys: readonly string[];
  /** Per side: the level each side writes at (a minority side can only meet ONE). */
  readonly consistency: readonly [ConsistencyLevel, ConsistencyLevel];
  /** Per key: which side writes first (default: side 0 for even key positions, side 1 for odd). */
  readonly firstSide?: (keyIndex: number) => 0 | 1;
}

/**
 * Partitions the cluster into two sides and writes every key once on each side, through a
 * coordinator of that side, with distinct values (side 0: 1000 + i, side 1: 2000 + i). Every
 * write must succeed. Returns the writes in the order they were acknowledged; the network stays
 * partitioned (the caller heals).
 */
async function writeOnBothSides(c: SimCluster, options: WriteOnBothSidesOptions): Promise<SideWrite[]> {
  const endpointsOf = (side: readonly number[]) => side.map((i) => c.node(i).endpoint);
  c.network.partition(endpointsOf(options.sides[0]), endpointsOf(options.sides[1]));
  const firstSide = options.firstSide ?? ((i: number) => (i % 2 === 0 ? 0 : 1));
  const writes: SideWrite[] = [];
  for (const [i, key] of options.keys.entries()) {
    const first = firstSide(i);
    for (const side of [first, 1 - first] as const) {
      const members = options.sides[side]!;
      const coordinator = members[i % members.length]!;
      const value = (side === 0 ? 1000 : 2000) + i;
      await c.node(coordinator).execute(INSERT, [key, value], options.consistency[side]);
      writes.push({ key, side, coordinator, value });
    }
  }
  return writes;
}

/** The last acknowledged write of each key: the LWW winner (one clock source, strictly increasing). */
function lastWriteOf(writes: readonly SideWrite[]): Map<string, SideWrite> {
  const last = new Map<string, SideWrite>();
  for (const w of writes) last.set(w.key, w);
  return last;
}

/** Every replica's local rows of `ks.kv` are identical (cells, timestamps and version vectors). */
function expectIdenticalReplicas(c: SimCluster): void {
  const [first, ...rest] = c.snapshots();
  expect(first!.length).toBeGreaterThan(0);
  for (const [i, other] of rest.entries()) expect(other, `node ${i + 1} differs from node 0`).toEqual(first);
}

describe('SimNetwork', () => {
  const a = '127.0.0.1:7000';
  const b = '127.0.0.2:7000';
  const c = '127.0.0.3:7000';
  const ECHO = 16;
  const FAIL = 17;

  function network(): { net: SimNetwork; nodes: ReturnType<SimNetwork['attach']>[] } {
    const net = new SimNetwork({ seed: 5 });
    const nodes = [a, b, c].map((e, i) => net.attach(e, `host-${i}`));
    for (const n of nodes) {
      n.registerHandler(ECHO, (from, payload) => Buffer.concat([Buffer.from(`${from.hostId}:`), payload]));
      n.registerHandler(FAIL, () => {
        throw new Error('replica refused');
      });
    }
    return { net, nodes };
  }

  it('delivers asynchronously, tells the handler the sender, and answers with its bytes', async () => {
    const { net, nodes } = network();
    let served = false;
    nodes[1]!.registerHandler(18, () => {
      served = true;
    });
    const pending = nodes[0]!.request(parseEndpoint(b), 18, Buffer.from('x'), 1000);
    expect(served).toBe(false);
    expect(Buffer.from(await pending)).toEqual(Buffer.alloc(0));
    expect(served).toBe(true);
    const payload = Buffer.from('ping');
    const echoed = nodes[0]!.request(parseEndpoint(b), ECHO, payload, 1000);
    payload.fill(0); // the wire copied it
    expect(Buffer.from(await echoed).toString()).toBe('host-0:ping');
    net.close();
  });

  it('turns a handler error into a RemoteError and silence into a RequestTimeoutError', async () => {
    const { net, nodes } = network();
    const failed = await nodes[0]!.request(parseEndpoint(b), FAIL, Buffer.alloc(0), 1000).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RemoteError);
    expect((failed as Error).message).toContain('replica refused');
    const unknown = await nodes[0]!.request(parseEndpoint(b), 99, Buffer.alloc(0), 1000).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RemoteError);
    net.isolate(b);
    const started = Date.now();
    const silent = await nodes[0]!.request(parseEndpoint(b), ECHO, Buffer.alloc(0), 60).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(RequestTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(net.stats().timedOut).toBe(1);
    net.close();
  });

  it('partitions cut links between groups only, until heal; down nodes drop everything', async () => {
    const { net, nodes } = network();
    const reach = (from: number, to: string) =>
      nodes[from]!.request(parseEndpoint(to), ECHO, Buffer.alloc(0), 40).then(
        () => true,
        (e: unknown) => (e instanceof RequestTimeoutError ? false : Promise.reject(e)),
      );
    net.partition([a], [b, c]);
    expect(await Promise.all([reach(0, b), reach(1, a), reach(1, c), reach(2, b)])).toEqual([false, false, true, true]);
    net.heal();
    expect(await reach(0, b)).toBe(true);
    net.down(c);
    expect(await Promise.all([reach(0, c), reach(2, a)])).toEqual([false, false]);
    net.up(c);
    expect(await reach(0, c)).toBe(true);
    // One-way faults: everything a → b is lost (requests and answers), b → a arrives.
    const arrived: string[] = [];
    for (const n of nodes) n.registerHandler(21, (from) => void arrived.push(`${from.hostId}>${n.hostId}`));
    net.setLinkFaults(a, b, { dropProbability: 1 }, { oneWay: true });
    expect(nodes[0]!.sendOneWay(parseEndpoint(b), 21, Buffer.alloc(0))).toBe(true);
    expect(nodes[1]!.sendOneWay(parseEndpoint(a), 21, Buffer.alloc(0))).toBe(true);
    expect(await Promise.all([reach(0, b), reach(1, a)])).toEqual([false, false]);
    expect(arrived).toEqual(['host-1>host-0']);
    expect(net.stats().dropped).toBe(3);
    net.close();
  });

  it('keeps each link FIFO under random delays, and fails pending requests on close', async () => {
    const { net, nodes } = network();
    const order: number[] = [];
    nodes[1]!.registerHandler(20, (_from, payload) => {
      order.push(payload[0]!);
    });
    net.setDefaultFaults({ delayMs: { minMs: 0, maxMs: 20 } });
    await Promise.all(Array.from({ length: 30 }, (_, i) => nodes[0]!.request(parseEndpoint(b), 20, Buffer.from([i]), 1000)));
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    net.isolate(b);
    const pending = nodes[0]!.request(parseEndpoint(b), ECHO, Buffer.alloc(0), 10_000).catch((e: unknown) => e);
    net.close();
    expect((await pending as Error).name).toBe('MessagingStoppedError');
  });
});

describe('a cluster over a faulty network (issue #5 §4)', () => {
  it('QUORUM reads never return data older than an acknowledged QUORUM write or a completed read', async () => {
    const seed = BASE_SEED;
    await withSeed(seed, async () => {
      const random = new SeededRandom(seed);
      // Swarm testing (TigerBeetle's VOPR): the fault rates themselves come from the seed.
      const maxDrop = random.pick([0.02, 0.05, 0.1, 0.2]);
      const maxDelayMs = random.pick([2, 10, 30]);
      const c = await startCluster(seed, { speculativeRetry: random.pick(['NONE', '40ms']) });
      const endpoints = c.endpoints();
      for (const from of endpoints) {
        for (const to of endpoints) {
          if (from !== to) c.network.setLinkFaults(from, to, { dropProbability: random.nextFloat() * maxDrop, delayMs: { minMs: 0, maxMs: random.nextFloat() * maxDelayMs } }, { oneWay: true });
        }
      }
      // Maybe one slow link, whose messages often arrive after their request timed out.
      const slowFrom = random.pick(endpoints);
      const slowLink = random.nextFloat() < 0.5 ? [slowFrom, random.pick(endpoints.filter((e) => e !== slowFrom))] : null;
      if (slowLink !== null) c.network.setLinkFaults(slowLink[0]!, slowLink[1]!, { delayMs: { minMs: 0, maxMs: 400 } }, { oneWay: true });
      // Maybe a nemesis that keeps cutting one node off (entirely, or from one peer) for a while.
      const nemesis = random.nextFloat() < 0.7 ? random.fork() : null;
      const keys = Array.from({ length: 6 }, (_, i) => `key${i}`);
      /** Newest value per key acknowledged by a QUORUM write. */
      const acked = new Map<string, number>();
      /** Newest value per key returned by a completed QUORUM read. */
      const seen = new Map<string, number>();
      const nextValue = new Map<string, number>();
      const writing = new Set<string>();
      const violations: string[] = [];
      const counts = { writes: 0, failedWrites: 0, reads: 0, failedReads: 0 };

      const write = async (key: string, coordinator: number): Promise<void> => {
        // One writer per key at a time, so values and write timestamps increase together.
        writing.add(key);
        const value = (nextValue.get(key) ?? 0) + 1;
        nextValue.set(key, value);
        try {
          await c.node(coordinator).execute(INSERT, [key, value], 'QUORUM');
          counts.writes++;
          acked.set(key, Math.max(acked.get(key) ?? 0, value));
        } catch (err) {
          if (!isExpectedUnderFaults(err)) throw err;
          counts.failedWrites++;
        } finally {
          writing.delete(key);
        }
      };
      const read = async (key: string, coordinator: number): Promise<void> => {
        const ackedBefore = acked.get(key) ?? 0;
        const seenBefore = seen.get(key) ?? 0;
        let value: number | null;
        try {
          value = await readValue(c, coordinator, key, 'QUORUM');
        } catch (err) {
          if (!isExpectedUnderFaults(err)) throw err;
          counts.failedReads++;
          return;
        }
        counts.reads++;
        const got = value ?? 0;
        if (got < ackedBefore) violations.push(`${key} via node ${coordinator}: read ${value}, but ${ackedBefore} was acknowledged before the read started`);
        if (got < seenBefore) violations.push(`${key} via node ${coordinator}: read ${value}, but a read completed before returned ${seenBefore}`);
        seen.set(key, Math.max(seen.get(key) ?? 0, got));
      };
      const worker = async (rng: SeededRandom, operations: number): Promise<void> => {
        for (let op = 0; op < operations; op++) {
          const key = rng.pick(keys);
          const coordinator = rng.nextInt(3);
          if (rng.nextFloat() < 0.5 && !writing.has(key)) await write(key, coordinator);
          else await read(key, coordinator);
        }
      };
      let running = true;
      const faults = async (rng: SeededRandom): Promise<void> => {
        while (running) {
          const victim = rng.pick(endpoints);
          if (rng.nextFloat() < 0.5) c.network.isolate(victim);
          else c.network.partition([victim], [rng.pick(endpoints.filter((e) => e !== victim))]);
          await delay(30 + rng.nextInt(120));
          c.network.heal();
          await delay(30 + rng.nextInt(120));
        }
      };
      const workers = Promise.all(Array.from({ length: 4 }, () => worker(random.fork(), 60)));
      const nemesisDone = nemesis === null ? Promise.resolve() : faults(nemesis);
      await workers.finally(() => (running = false));
      await nemesisDone;

      const repairs = c.nodes.reduce((n, node) => n + node.proxy.stats().readRepairs, 0);
      const context = `seed ${seed}, drop ≤ ${maxDrop}, delay ≤ ${maxDelayMs} ms, slow link ${slowLink?.join('>') ?? 'none'}, nemesis ${nemesis !== null}; ${JSON.stringify({ ...counts, repairs })}; network ${JSON.stringify(c.network.stats())}`;
      if (process.env.PARTITION_REPORT !== undefined) process.stdout.write(`${context}\n`);
      expect(violations, context).toEqual([]);
      // The run did exercise something: even the harshest fault mix leaves many successes.
      expect(counts.writes, context).toBeGreaterThan(20);
      expect(counts.reads, context).toBeGreaterThan(20);
    });
  });

  it('a replica partitioned away during QUORUM writes is repaired by the next QUORUM read that involves it', async () => {
    const seed = BASE_SEED + 1;
    await withSeed(seed, async () => {
      const c = await startCluster(seed);
      const keys = ['a', 'b', 'c', 'd'];
      for (const key of keys) await c.node(0).execute(INSERT, [key, 1], 'ALL');
      // The isolated replica is still believed up: its coordinators send to it and hear nothing.
      c.network.isolate(c.node(2).endpoint);
      for (const [i, key] of keys.entries()) await c.node(i % 2).execute(INSERT, [key, 2], 'QUORUM');
      for (const key of keys) {
        expect(await localValue(c, 0, key)).toBe(2);
        expect(await localValue(c, 1, key)).toBe(2);
        expect(await localValue(c, 2, key)).toBe(1);
      }
      c.network.heal();
      const repairsBefore = c.node(2).proxy.stats().readRepairs;
      for (const key of keys) {
        // Node 2 coordinates: it reads its own (stale) data and a digest from a peer.
        expect(await readValue(c, 2, key, 'QUORUM')).toBe(2);
        // Blocking read repair: the stale replica holds the newest value once the read answered.
        expect(await localValue(c, 2, key)).toBe(2);
      }
      expect(c.node(2).proxy.stats().readRepairs - repairsBefore).toBe(keys.length);
      expectIdenticalReplicas(c);
    });
  });

  it('a replica the coordinator convicts misses QUORUM writes and is repaired once it is back', async () => {
    const seed = BASE_SEED + 2;
    await withSeed(seed, async () => {
      const c = await startCluster(seed);
      const down = c.node(1).endpoint;
      c.network.down(down);
      c.markDown(down);
      await c.node(0).execute(INSERT, ['k', 7], 'QUORUM');
      expect(await c.node(0).execute(INSERT, ['k', 8], 'ALL').catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
      c.network.up(down);
      c.markAllUp();
      expect(await localValue(c, 1, 'k')).toBeNull();
      // The recovered node coordinates: its own (empty) answer differs from its peer's digest.
      expect(await readValue(c, 1, 'k', 'QUORUM')).toBe(7);
      expect(c.node(1).proxy.stats().readRepairs).toBe(1);
      expect(await localValue(c, 1, 'k')).toBe(7);
    });
  });

  describe.each([{ mode: 'lww' as const }, { mode: 'siblings' as const }])('after a partition heals ($mode)', ({ mode }) => {
    it('reads at ALL make every replica identical, and the later write wins', async () => {
      const seed = BASE_SEED + 3;
      await withSeed(seed, async () => {
        const c = await startCluster(seed, { conflictResolution: mode });
        const keys = Array.from({ length: 6 }, (_, i) => `p${i}`);
        // Node 0 alone (a minority: ONE) against nodes 1 and 2 (a majority: QUORUM).
        const writes = await writeOnBothSides(c, { sides: [[0], [1, 2]], keys, consistency: ['ONE', 'QUORUM'] });
        expect(writes).toHaveLength(2 * keys.length);
        // While partitioned, the two sides disagree about every key.
        for (const [i, key] of keys.entries()) {
          expect(await localValue(c, 0, key)).toBe(1000 + i);
          expect(await localValue(c, 1, key)).toBe(2000 + i);
        }
        c.network.heal();
        const winners = lastWriteOf(writes);
        const contexts = new Map<string, string | null>();
        for (const [i, key] of keys.entries()) {
          // The two sides' writes were versioned by different replicas that never saw each
          // other's: concurrent. lww counts the conflict and shows the later write; siblings
          // mode also keeps both writes as $siblings.
          const result = await c.node(i % 3).execute(SELECT, [key], 'ALL');
          if (result.kind !== 'rows') throw new Error('expected rows');
          expect(result.rows).toHaveLength(1);
          expect(result.rows[0]!['v']).toBe(winners.get(key)!.value);
          expect(result.conflicts).toBe(1);
          if (mode === 'siblings') {
            const siblings = (result.rows[0]!['$siblings'] as { v: number }[]).map((r) => r.v).sort();
            expect(siblings).toEqual([1000 + i, 2000 + i]);
            expect(result.context).not.toBeNull();
          } else {
            expect(result.rows[0]!['$siblings']).toBeUndefined();
            expect(result.context).toBeNull();
          }
          contexts.set(key, result.context);
        }
        expect(c.nodes.reduce((n, node) => n + node.proxy.stats().conflictsDetected, 0)).toBeGreaterThanOrEqual(keys.length);
        expectIdenticalReplicas(c);
        for (const key of keys) {
          for (let node = 0; node < 3; node++) expect(await localValue(c, node, key)).toBe(winners.get(key)!.value);
        }
        // Converged replicas answer QUORUM reads from any coordinator without a repair.
        const mismatches = c.nodes.map((n) => n.proxy.stats().digestMismatches);
        for (const key of keys) expect(await readValue(c, 1, key, 'QUORUM')).toBe(winners.get(key)!.value);
        expect(c.nodes.map((n) => n.proxy.stats().digestMismatches)).toEqual(mismatches);
        // A write resolves the conflict: in lww mode any write; in siblings mode one that sends
        // the read's context. Afterwards no conflict is left and the replicas agree again.
        for (const [i, key] of keys.entries()) {
          const context = contexts.get(key) ?? null;
          await c.node((i + 1) % 3).execute(INSERT, [key, 3000 + i], 'ALL', { context });
          const after = await c.node(i % 3).execute(SELECT, [key], 'ALL');
          if (after.kind !== 'rows') throw new Error('expected rows');
          expect(after.rows).toEqual([{ v: 3000 + i }]);
          expect(after.conflicts).toBe(0);
        }
        expectIdenticalReplicas(c);
      });
    });
  });
});
