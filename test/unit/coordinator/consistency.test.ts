/**
 * Consistency levels (SPEC 6.3) with Cassandra's blockFor rules, and the Unavailable check that
 * runs before anything is sent: a table of every level against the reference topologies, then
 * `required`/`alive` for each level with replicas down.
 */
import { describe, expect, it } from 'vitest';
import { blockFor, checkAvailable, requirementFor, writeTargets, type ReplicaInfo } from '../../../src/coordinator/consistency.js';
import type { ConsistencyLevel } from '../../../src/cql/request.js';
import { InvalidRequest, Unavailable } from '../../../src/errors.js';
import type { Replication } from '../../../src/schema/schema.js';

const simple = (rf: number): Replication => ({ class: 'SimpleStrategy', replicationFactor: rf });
const NTS: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } };
const replica = (endpoint: string, datacenter = 'dc1', pending = false): ReplicaInfo => ({ endpoint, datacenter, pending });
const simpleReplicas = (rf: number): ReplicaInfo[] => Array.from({ length: rf }, (_, i) => replica(`n${i}`));
const NTS_REPLICAS = [replica('a1'), replica('a2'), replica('a3'), replica('b1', 'dc2'), replica('b2', 'dc2')];
const LEVELS: ConsistencyLevel[] = ['ANY', 'ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'];

describe('blockFor', () => {
  // Columns: ANY ONE TWO THREE QUORUM ALL LOCAL_ONE LOCAL_QUORUM EACH_QUORUM.
  const table: { name: string; replication: Replication; replicas: ReplicaInfo[]; localDc: string; expected: number[] }[] = [
    ...[1, 2, 3, 5].flatMap((rf) =>
      ['dc1', 'dc2'].map((localDc) => {
        const quorum = Math.floor(rf / 2) + 1;
        return { name: `SimpleStrategy RF ${rf}, local ${localDc}`, replication: simple(rf), replicas: simpleReplicas(rf), localDc, expected: [1, 1, 2, 3, quorum, rf, 1, quorum, quorum] };
      }),
    ),
    { name: 'NTS {dc1: 3, dc2: 2}, local dc1', replication: NTS, replicas: NTS_REPLICAS, localDc: 'dc1', expected: [1, 1, 2, 3, 3, 5, 1, 2, 4] },
    { name: 'NTS {dc1: 3, dc2: 2}, local dc2', replication: NTS, replicas: NTS_REPLICAS, localDc: 'dc2', expected: [1, 1, 2, 3, 3, 5, 1, 2, 4] },
  ];

  for (const row of table) {
    it(row.name, () => {
      const actual = LEVELS.map((cl) => blockFor(cl, row.replication, row.replicas, row.localDc));
      expect(Object.fromEntries(LEVELS.map((cl, i) => [cl, actual[i]]))).toEqual(Object.fromEntries(LEVELS.map((cl, i) => [cl, row.expected[i]])));
    });
  }

  it('is the same for reads, except that ANY is refused', () => {
    for (const cl of LEVELS.filter((l) => l !== 'ANY')) expect(blockFor(cl, NTS, NTS_REPLICAS, 'dc1', 'read')).toBe(blockFor(cl, NTS, NTS_REPLICAS, 'dc1', 'write'));
    expect(() => blockFor('ANY', NTS, NTS_REPLICAS, 'dc1', 'read')).toThrow(InvalidRequest);
  });

  it('refuses SERIAL and LOCAL_SERIAL (no conditional updates) with InvalidRequest', () => {
    for (const cl of ['SERIAL', 'LOCAL_SERIAL'] as const) {
      for (const op of ['read', 'write'] as const) expect(() => requirementFor(cl, NTS, NTS_REPLICAS, 'dc1', op)).toThrow(InvalidRequest);
    }
  });

  it('EACH_QUORUM needs a local quorum in every datacenter with replicas, sorted by name', () => {
    const replication: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc3: 5, dc1: 3, dc2: 0 } };
    const r = requirementFor('EACH_QUORUM', replication, [], 'dc1', 'write');
    expect(r.groups).toEqual([{ datacenter: 'dc1', required: 2 }, { datacenter: 'dc3', required: 3 }]);
    expect(r.blockFor).toBe(5);
  });

  it('LOCAL levels count the local datacenter only; a datacenter without replicas cannot be satisfied', () => {
    expect(requirementFor('LOCAL_QUORUM', NTS, NTS_REPLICAS, 'dc2', 'read').groups).toEqual([{ datacenter: 'dc2', required: 2 }]);
    expect(requirementFor('LOCAL_ONE', NTS, NTS_REPLICAS, 'dc1', 'read').groups).toEqual([{ datacenter: 'dc1', required: 1 }]);
    // Cassandra: floor(0 / 2) + 1 = 1 local response, which no replica can give: Unavailable.
    const r = requirementFor('LOCAL_QUORUM', NTS, NTS_REPLICAS, 'dc9', 'read');
    expect(r.blockFor).toBe(1);
    expect(() => checkAvailable(r, NTS_REPLICAS, () => true)).toThrow(Unavailable);
  });

  it('writes also wait for pending replicas (in the counted datacenters); ANY and reads do not', () => {
    const replicas = [...NTS_REPLICAS, replica('p1', 'dc1', true), replica('p2', 'dc2', true)];
    expect(blockFor('QUORUM', NTS, replicas, 'dc1')).toBe(5);
    expect(blockFor('ALL', NTS, replicas, 'dc1')).toBe(7);
    expect(blockFor('ONE', NTS, replicas, 'dc1')).toBe(3);
    expect(blockFor('LOCAL_QUORUM', NTS, replicas, 'dc1')).toBe(3);
    expect(blockFor('LOCAL_ONE', NTS, replicas, 'dc2')).toBe(2);
    expect(requirementFor('EACH_QUORUM', NTS, replicas, 'dc1', 'write').groups).toEqual([{ datacenter: 'dc1', required: 3 }, { datacenter: 'dc2', required: 3 }]);
    expect(blockFor('ANY', NTS, replicas, 'dc1')).toBe(1);
    expect(blockFor('QUORUM', NTS, replicas, 'dc1', 'read')).toBe(3);
  });

  it('never meets ALL or EACH_QUORUM vacuously on a keyspace without replicas', () => {
    const none: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc1: 0 } };
    expect(blockFor('ALL', none, [], 'dc1')).toBe(1);
    expect(blockFor('EACH_QUORUM', none, [], 'dc1')).toBe(1);
    expect(blockFor('ALL', simple(0), [], 'dc1')).toBe(1);
  });

  it('counts QUORUM and ALL from the replication factor, not from a ring that yields fewer replicas', () => {
    expect(blockFor('QUORUM', simple(3), simpleReplicas(2), 'dc1')).toBe(2);
    expect(blockFor('ALL', simple(3), simpleReplicas(2), 'dc1')).toBe(3);
  });
});

describe('checkAvailable', () => {
  const down = (...endpoints: string[]) => (endpoint: string): boolean => !endpoints.includes(endpoint);
  const unavailable = (cl: ConsistencyLevel, isAlive: (e: string) => boolean, localDc = 'dc1', replication: Replication = NTS, replicas = NTS_REPLICAS): Record<string, unknown> | null => {
    try {
      checkAvailable(requirementFor(cl, replication, replicas, localDc, 'write'), replicas, isAlive);
      return null;
    } catch (e) {
      expect(e).toBeInstanceOf(Unavailable);
      return (e as Unavailable).toJSON().error;
    }
  };

  it('passes every level when all replicas are alive', () => {
    for (const cl of LEVELS) for (const dc of ['dc1', 'dc2']) expect(unavailable(cl, () => true, dc)).toBeNull();
  });

  it('reports required and alive over every replica for ONE, TWO, THREE, QUORUM and ALL', () => {
    const noneUp = (): boolean => false;
    expect(unavailable('ONE', noneUp)).toMatchObject({ code: 'Unavailable', consistency: 'ONE', required: 1, alive: 0 });
    expect(unavailable('TWO', down('a1', 'a2', 'a3', 'b1'))).toMatchObject({ consistency: 'TWO', required: 2, alive: 1 });
    expect(unavailable('THREE', down('a1', 'a2', 'a3'))).toMatchObject({ consistency: 'THREE', required: 3, alive: 2 });
    expect(unavailable('QUORUM', down('a1', 'a2', 'b1'))).toMatchObject({ consistency: 'QUORUM', required: 3, alive: 2 });
    expect(unavailable('QUORUM', down('a1', 'b1'))).toBeNull();
    expect(unavailable('ALL', down('b2'))).toMatchObject({ consistency: 'ALL', required: 5, alive: 4 });
  });

  it('counts only the local datacenter for LOCAL_ONE and LOCAL_QUORUM', () => {
    expect(unavailable('LOCAL_ONE', down('a1', 'a2', 'a3'))).toMatchObject({ consistency: 'LOCAL_ONE', required: 1, alive: 0 });
    expect(unavailable('LOCAL_ONE', down('a1', 'a2', 'a3'), 'dc2')).toBeNull();
    expect(unavailable('LOCAL_QUORUM', down('a1', 'a2'))).toMatchObject({ consistency: 'LOCAL_QUORUM', required: 2, alive: 1 });
    expect(unavailable('LOCAL_QUORUM', down('b1'), 'dc2')).toMatchObject({ required: 2, alive: 1 });
    expect(unavailable('LOCAL_QUORUM', down('b1', 'b2'), 'dc1')).toBeNull();
  });

  it('checks each datacenter for EACH_QUORUM and names the one that is short', () => {
    expect(unavailable('EACH_QUORUM', down('a1'))).toBeNull();
    expect(unavailable('EACH_QUORUM', down('b1'))).toMatchObject({ consistency: 'EACH_QUORUM', required: 2, alive: 1 });
    expect(unavailable('EACH_QUORUM', down('b1'))!.message).toContain('dc2');
    expect(unavailable('EACH_QUORUM', down('a1', 'a2', 'b1', 'b2'))).toMatchObject({ required: 2, alive: 1 });
  });

  it('never refuses ANY: the coordinator can always store a hint', () => {
    expect(unavailable('ANY', () => false)).toBeNull();
    expect(unavailable('ANY', () => false, 'dc1', simple(3), [])).toBeNull();
  });

  it('under SimpleStrategy counts the ring; a ring smaller than RF cannot give ALL', () => {
    const two = simpleReplicas(2);
    expect(unavailable('QUORUM', () => true, 'dc1', simple(3), two)).toBeNull();
    expect(unavailable('ALL', () => true, 'dc1', simple(3), two)).toMatchObject({ required: 3, alive: 2 });
    expect(unavailable('QUORUM', down('n0'), 'dc1', simple(3), simpleReplicas(3))).toBeNull();
    expect(unavailable('QUORUM', down('n0', 'n1'), 'dc1', simple(3), simpleReplicas(3))).toMatchObject({ required: 2, alive: 1 });
    expect(unavailable('EACH_QUORUM', down('n0', 'n1'), 'dc1', simple(3), simpleReplicas(3))).toMatchObject({ required: 2, alive: 1 });
  });

  it('counts live pending replicas toward what a write needs', () => {
    const replicas = [...simpleReplicas(3), replica('p', 'dc1', true)];
    const requirement = requirementFor('QUORUM', simple(3), replicas, 'dc1', 'write');
    expect(() => checkAvailable(requirement, replicas, down('n0'))).not.toThrow();
    expect(() => checkAvailable(requirement, replicas, down('n0', 'p'))).toThrow(Unavailable);
  });
});

describe('writeTargets', () => {
  it('sends to every live replica, pending ones included, and leaves the down ones for hints', () => {
    const replicas = [...simpleReplicas(3), replica('p', 'dc1', true)];
    const { live, down } = writeTargets(replicas, (e) => e !== 'n1');
    expect(live.map((r) => r.endpoint)).toEqual(['n0', 'n2', 'p']);
    expect(down.map((r) => r.endpoint)).toEqual(['n1']);
  });
});
