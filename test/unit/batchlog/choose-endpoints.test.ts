import { describe, expect, it } from 'vitest';
import { chooseBatchlogEndpoints, needsBatchlog, type BatchlogMember } from '../../../src/batchlog/logged-batch.js';
import type { ConsistencyLevel } from '../../../src/cql/request.js';
import { Unavailable } from '../../../src/errors.js';
import { SeededRandom } from '../../../src/runtime/random.js';
import { mutation, TABLE } from '../../helpers/batchlog-cluster.js';

const member = (endpoint: string, rack: string, datacenter = 'dc1'): BatchlogMember => ({ endpoint, datacenter, rack });

function choose(members: BatchlogMember[], options: { down?: string[]; rack?: string; consistency?: ConsistencyLevel; seed?: number } = {}): string[] {
  const down = new Set(options.down ?? []);
  return chooseBatchlogEndpoints({
    self: 'self',
    datacenter: 'dc1',
    rack: options.rack ?? 'r1',
    members: [member('self', options.rack ?? 'r1'), ...members],
    isAlive: (e) => !down.has(e),
    random: new SeededRandom(options.seed ?? 1),
    consistency: options.consistency ?? 'QUORUM',
  });
}

describe('chooseBatchlogEndpoints', () => {
  it('uses this node alone when it is the only node of its datacenter', () => {
    expect(choose([])).toEqual(['self']);
    expect(choose([member('far', 'r1', 'dc2')])).toEqual(['self']);
  });

  it('takes every live other node when there are at most two', () => {
    expect(choose([member('b', 'r1')])).toEqual(['b']);
    expect(choose([member('b', 'r1'), member('c', 'r1')]).sort()).toEqual(['b', 'c']);
    expect(choose([member('b', 'r1'), member('c', 'r2'), member('d', 'r2')], { down: ['d'] }).sort()).toEqual(['b', 'c']);
  });

  it('never picks this node, a down node or another datacenter when others are alive', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const picked = choose([member('b', 'r1'), member('c', 'r1'), member('d', 'r1'), member('e', 'r1', 'dc2')], { down: ['c'], seed });
      expect(picked.sort()).toEqual(['b', 'd']);
    }
  });

  it('prefers two distinct racks other than its own', () => {
    const members = [member('b', 'r1'), member('c', 'r1'), member('d', 'r2'), member('e', 'r2'), member('f', 'r3')];
    for (let seed = 1; seed <= 50; seed++) {
      const picked = choose(members, { seed });
      expect(picked).toHaveLength(2);
      const racks = picked.map((e) => members.find((m) => m.endpoint === e)!.rack);
      expect(new Set(racks).size).toBe(2);
      expect(racks).not.toContain('r1');
    }
  });

  it('with one other rack holding two or more nodes, takes two of them', () => {
    const members = [member('b', 'r1'), member('c', 'r2'), member('d', 'r2'), member('e', 'r2')];
    for (let seed = 1; seed <= 20; seed++) {
      const picked = choose(members, { seed });
      expect(picked).toHaveLength(2);
      expect(picked.every((e) => ['c', 'd', 'e'].includes(e))).toBe(true);
    }
  });

  it('falls back to its own rack when other racks cannot hold two copies', () => {
    const picked = choose([member('b', 'r1'), member('c', 'r1'), member('d', 'r2')]);
    expect(picked).toHaveLength(2);
    expect(new Set(picked).size).toBe(2);
  });

  it('is Unavailable with no live other node, except at ANY where it keeps the batch itself', () => {
    const err = (() => {
      try {
        choose([member('b', 'r1')], { down: ['b'] });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Unavailable).fields()).toEqual({ consistency: 'ONE', required: 1, alive: 0 });
    expect(choose([member('b', 'r1')], { down: ['b'], consistency: 'ANY' })).toEqual(['self']);
  });
});

describe('needsBatchlog', () => {
  it('only batches over more than one partition need the log', () => {
    expect(needsBatchlog([])).toBe(false);
    expect(needsBatchlog([mutation('a', '1', 1)])).toBe(false);
    expect(needsBatchlog([mutation('a', '1', 1), mutation('a', '2', 2)])).toBe(false);
    expect(needsBatchlog([mutation('a', '1', 1), { table: { ...TABLE, id: 'other', name: 'u' }, update: mutation('a', '1', 1).update }])).toBe(false);
    expect(needsBatchlog([mutation('a', '1', 1), mutation('b', '2', 2)])).toBe(true);
    expect(needsBatchlog([mutation('a', '1', 1), { table: { ...TABLE, keyspace: 'ks2' }, update: mutation('a', '1', 1).update }])).toBe(true);
  });
});
