/**
 * The response tally of one request: pending until the level is met (succeeded) or can no
 * longer be met (failed); duplicates count once; LOCAL_* count the local datacenter only;
 * EACH_QUORUM needs every datacenter; the timeout and failure errors carry SPEC 3.2's fields.
 * Then properties against a model written from the levels' definitions, not from the code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requirementFor, type ReplicaInfo } from '../../../src/coordinator/consistency.js';
import { ResponseTally } from '../../../src/coordinator/response-tally.js';
import type { ConsistencyLevel } from '../../../src/cql/request.js';
import type { Replication } from '../../../src/schema/schema.js';
import { AssertionError } from '../../../src/util/assert.js';

const replica = (endpoint: string, datacenter = 'dc1'): ReplicaInfo => ({ endpoint, datacenter });
const RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };
const NTS: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } };
const ABC = [replica('a'), replica('b'), replica('c')];
const NTS_REPLICAS = [replica('a1'), replica('a2'), replica('a3'), replica('b1', 'dc2'), replica('b2', 'dc2')];

const tally = (cl: ConsistencyLevel, replication: Replication = RF3, targets = ABC, localDc = 'dc1', op: 'read' | 'write' = 'write'): ResponseTally =>
  new ResponseTally(requirementFor(cl, replication, targets, localDc, op), targets);

describe('ResponseTally at QUORUM (RF 3)', () => {
  it('succeeds on the second success, in any order, and stays succeeded', () => {
    for (const order of [['a', 'b'], ['c', 'a'], ['b', 'c']]) {
      const t = tally('QUORUM');
      expect(t.recordSuccess(order[0]!)).toBe('pending');
      expect(t.recordSuccess(order[1]!)).toBe('succeeded');
      const third = ['a', 'b', 'c'].find((e) => !order.includes(e))!;
      expect(t.recordFailure(third)).toBe('succeeded');
    }
  });

  it('succeeds despite one failure; fails once two replicas failed', () => {
    const t = tally('QUORUM');
    expect(t.recordFailure('a')).toBe('pending');
    expect(t.recordSuccess('b')).toBe('pending');
    expect(t.recordSuccess('c')).toBe('succeeded');
    const u = tally('QUORUM');
    expect(u.recordSuccess('a')).toBe('pending');
    expect(u.recordFailure('b')).toBe('pending');
    expect(u.recordFailure('c')).toBe('failed');
    expect(u.recordSuccess('c')).toBe('failed');
  });

  it('counts duplicate answers, and an answer after an error, once', () => {
    const t = tally('QUORUM');
    t.recordSuccess('a');
    expect(t.recordSuccess('a')).toBe('pending');
    expect(t.received).toBe(1);
    t.recordFailure('b');
    expect(t.recordSuccess('b')).toBe('pending');
    expect(t.recordFailure('b')).toBe('pending');
    expect(t.failures).toBe(1);
    expect(t.recordSuccess('c')).toBe('succeeded');
  });

  it('ignores answers from endpoints it did not send to', () => {
    const t = tally('QUORUM', RF3, [replica('a'), replica('b')]);
    expect(t.recordSuccess('z')).toBe('pending');
    expect(t.recordFailure('y')).toBe('pending');
    expect(t.received).toBe(0);
    expect(t.failures).toBe(0);
  });

  it('fails at once when fewer targets than needed were sent to', () => {
    expect(tally('QUORUM', RF3, [replica('a')]).state()).toBe('failed');
    expect(tally('ONE', RF3, []).state()).toBe('failed');
  });
});

describe('ResponseTally levels', () => {
  it('ONE succeeds on any success and fails only when every target failed', () => {
    const t = tally('ONE');
    expect(t.recordFailure('a')).toBe('pending');
    expect(t.recordFailure('b')).toBe('pending');
    expect(t.recordSuccess('c')).toBe('succeeded');
    const u = tally('ONE');
    for (const e of ['a', 'b']) u.recordFailure(e);
    expect(u.recordFailure('c')).toBe('failed');
  });

  it('ALL fails on the first failure', () => {
    const t = tally('ALL');
    t.recordSuccess('a');
    expect(t.recordFailure('b')).toBe('failed');
  });

  it('LOCAL_QUORUM counts local answers only: remote successes do not help, remote failures do not hurt', () => {
    const t = tally('LOCAL_QUORUM', NTS, NTS_REPLICAS, 'dc2');
    expect(t.recordSuccess('a1')).toBe('pending');
    expect(t.recordSuccess('a2')).toBe('pending');
    expect(t.recordSuccess('a3')).toBe('pending');
    expect(t.received).toBe(0);
    expect(t.successes).toBe(3);
    expect(t.recordSuccess('b1')).toBe('pending');
    expect(t.recordSuccess('b2')).toBe('succeeded');
    const u = tally('LOCAL_QUORUM', NTS, NTS_REPLICAS, 'dc1');
    for (const e of ['b1', 'b2', 'a1']) u.recordFailure(e);
    expect(u.state()).toBe('pending');
    expect(u.failures).toBe(1);
    expect(u.recordFailure('a2')).toBe('failed');
  });

  it('LOCAL_ONE needs one local success', () => {
    const t = tally('LOCAL_ONE', NTS, NTS_REPLICAS, 'dc1');
    expect(t.recordSuccess('b1')).toBe('pending');
    expect(t.recordSuccess('a3')).toBe('succeeded');
  });

  it('EACH_QUORUM needs a quorum in every datacenter; extra acks in one do not make up for another', () => {
    const t = tally('EACH_QUORUM', NTS, NTS_REPLICAS);
    for (const e of ['a1', 'a2', 'a3']) expect(t.recordSuccess(e)).toBe('pending');
    expect(t.received).toBe(2);
    expect(t.recordSuccess('b1')).toBe('pending');
    expect(t.received).toBe(3);
    expect(t.recordSuccess('b2')).toBe('succeeded');
    const u = tally('EACH_QUORUM', NTS, NTS_REPLICAS);
    for (const e of ['a1', 'a2', 'b1']) u.recordSuccess(e);
    // dc2 has RF 2 and needs both: one failure there loses the level whatever dc1 does.
    expect(u.recordFailure('b2')).toBe('failed');
    expect(u.failureError('write').toJSON().error).toMatchObject({ code: 'WriteFailure', received: 3, block_for: 4, failures: 1 });
  });

  it('ANY succeeds on a success or a stored hint, and never fails on replica errors', () => {
    const t = tally('ANY');
    for (const e of ['a', 'b', 'c']) expect(t.recordFailure(e)).toBe('pending');
    expect(t.recordHint('a')).toBe('succeeded');
    const noTargets = tally('ANY', RF3, []);
    expect(noTargets.state()).toBe('pending');
    expect(noTargets.recordHint('a')).toBe('succeeded');
    expect(tally('ANY').recordSuccess('b')).toBe('succeeded');
  });

  it('hints count for nothing at other levels', () => {
    const t = tally('ONE');
    expect(t.recordHint('a')).toBe('pending');
    expect(t.received).toBe(0);
  });
});

describe('ResponseTally speculation', () => {
  it('a speculative target keeps a read alive through a failure that would otherwise lose it', () => {
    const t = tally('QUORUM', RF3, [replica('a'), replica('b')], 'dc1', 'read');
    // a is slow: the coordinator speculates to c before anything failed.
    expect(t.addTarget(replica('c'))).toBe('pending');
    expect(t.recordFailure('b')).toBe('pending');
    expect(t.recordSuccess('c')).toBe('pending');
    expect(t.recordSuccess('a')).toBe('succeeded');
    // Without it, the same failure decides the read at once (Cassandra's ReadCallback too).
    const u = tally('QUORUM', RF3, [replica('a'), replica('b')], 'dc1', 'read');
    expect(u.recordFailure('b')).toBe('failed');
  });

  it('may speculate after success (data missing) but never after failure', () => {
    const t = tally('ONE', RF3, [replica('a')], 'dc1', 'read');
    t.recordSuccess('a');
    expect(t.addTarget(replica('b'))).toBe('succeeded');
    const u = tally('ONE', RF3, [replica('a')], 'dc1', 'read');
    u.recordFailure('a');
    expect(() => u.addTarget(replica('b'))).toThrow(AssertionError);
  });
});

describe('ResponseTally errors', () => {
  it('WriteTimeout carries consistency, received, block_for and write_type', () => {
    const t = tally('QUORUM');
    t.recordSuccess('a');
    t.recordSuccess('a');
    expect(t.timeoutError('write').toJSON().error).toMatchObject({ code: 'WriteTimeout', consistency: 'QUORUM', received: 1, block_for: 2, write_type: 'SIMPLE' });
    expect(t.timeoutError('write', 'BATCH').toJSON().error).toMatchObject({ write_type: 'BATCH' });
    expect(t.timeoutError('write').httpStatus).toBe(504);
  });

  it('ReadTimeout carries data_present, and may report every response but no data', () => {
    const t = tally('LOCAL_QUORUM', NTS, NTS_REPLICAS, 'dc1', 'read');
    t.recordSuccess('b1');
    t.recordSuccess('a1');
    expect(t.timeoutError('read', undefined, true).toJSON().error).toEqual({
      code: 'ReadTimeout', message: expect.any(String), consistency: 'LOCAL_QUORUM', received: 1, block_for: 2, data_present: true,
    });
    t.recordSuccess('a2');
    expect(t.timeoutError('read').toJSON().error).toMatchObject({ received: 2, block_for: 2, data_present: false });
  });

  it('a write that met its level cannot time out', () => {
    const t = tally('ONE');
    t.recordSuccess('a');
    expect(() => t.timeoutError('write')).toThrow(AssertionError);
  });

  it('WriteFailure and ReadFailure carry failures and received', () => {
    const t = tally('QUORUM');
    t.recordSuccess('a');
    t.recordFailure('b');
    t.recordFailure('c');
    expect(t.failureError('write').toJSON().error).toMatchObject({ code: 'WriteFailure', consistency: 'QUORUM', received: 1, block_for: 2, failures: 2 });
    expect(t.failureError('read').toJSON().error).toMatchObject({ code: 'ReadFailure', received: 1, block_for: 2, failures: 2 });
    expect(t.failureError('read').httpStatus).toBe(500);
    expect(() => tally('QUORUM').failureError('write')).toThrow(AssertionError);
  });
});

describe('ResponseTally properties', () => {
  const DCS = ['dc1', 'dc2', 'dc3'];
  const LEVELS: ConsistencyLevel[] = ['ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'];
  const quorum = (rf: number): number => Math.floor(rf / 2) + 1;

  /** Whether a set of successful replicas meets the level, straight from SPEC 6.3. */
  function satisfies(cl: ConsistencyLevel, rfs: Record<string, number>, localDc: string, ok: readonly ReplicaInfo[]): boolean {
    const total = Object.values(rfs).reduce((s, n) => s + n, 0);
    const local = ok.filter((r) => r.datacenter === localDc).length;
    switch (cl) {
      case 'ONE': return ok.length >= 1;
      case 'TWO': return ok.length >= 2;
      case 'THREE': return ok.length >= 3;
      case 'QUORUM': return ok.length >= quorum(total);
      // A keyspace without replicas meets nothing, ALL included.
      case 'ALL': return ok.length >= Math.max(1, total);
      case 'LOCAL_ONE': return local >= 1;
      case 'LOCAL_QUORUM': return local >= quorum(rfs[localDc] ?? 0);
      case 'EACH_QUORUM': return total > 0 && Object.entries(rfs).every(([dc, rf]) => rf === 0 || ok.filter((r) => r.datacenter === dc).length >= quorum(rf));
      default: throw new Error(cl);
    }
  }

  const scenario = fc
    .record({
      rfs: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
      level: fc.constantFrom(...LEVELS),
      localDc: fc.constantFrom(...DCS),
      sentMask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      answers: fc.array(fc.record({ index: fc.nat(13), ok: fc.boolean() }), { maxLength: 30 }),
      simple: fc.boolean(),
    })
    // Half the runs put every replica in dc1, where SimpleStrategy is compared too.
    .map((s) => (s.simple ? { ...s, rfs: [s.rfs[0], 0, 0] as [number, number, number] } : s));

  it('succeeds exactly when the successes meet the level; fails exactly when the silent targets cannot make it up', () => {
    fc.assert(
      fc.property(scenario, ({ rfs, level, localDc, sentMask, answers, simple }) => {
        const rfByDc = Object.fromEntries(DCS.map((dc, i) => [dc, rfs[i]!]));
        const replicas = DCS.flatMap((dc, i) => Array.from({ length: rfs[i]! }, (_, k) => replica(`${dc}-${k}`, dc)));
        const targets = replicas.filter((_, i) => sentMask[i] ?? true);
        // With every replica in dc1, SimpleStrategy must behave as NTS {dc1: RF} at every level.
        const replication: Replication = simple
          ? { class: 'SimpleStrategy', replicationFactor: rfs[0] }
          : { class: 'NetworkTopologyStrategy', datacenters: rfByDc };
        const t = new ResponseTally(requirementFor(level, replication, replicas, localDc, 'write'), targets);
        const answered = new Map<string, boolean>();
        const check = (): void => {
          const ok = targets.filter((r) => answered.get(r.endpoint) === true);
          const possible = targets.filter((r) => answered.get(r.endpoint) !== false);
          const expected = satisfies(level, rfByDc, localDc, ok) ? 'succeeded' : satisfies(level, rfByDc, localDc, possible) ? 'pending' : 'failed';
          expect(t.state()).toBe(expected);
        };
        check();
        for (const { index, ok } of answers) {
          // Indexes past the replicas are answers from endpoints never asked.
          const endpoint = replicas[index]?.endpoint ?? `stranger-${index}`;
          if (targets.some((r) => r.endpoint === endpoint) && !answered.has(endpoint)) answered.set(endpoint, ok);
          if (ok) t.recordSuccess(endpoint);
          else t.recordFailure(endpoint);
          check();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('once decided, the state never changes', () => {
    fc.assert(
      fc.property(scenario, ({ rfs, level, localDc, answers }) => {
        const replicas = DCS.flatMap((dc, i) => Array.from({ length: rfs[i]! }, (_, k) => replica(`${dc}-${k}`, dc)));
        const replication: Replication = { class: 'NetworkTopologyStrategy', datacenters: Object.fromEntries(DCS.map((dc, i) => [dc, rfs[i]!])) };
        const t = new ResponseTally(requirementFor(level, replication, replicas, localDc, 'write'), replicas);
        let decided: string | null = null;
        for (const { index, ok } of answers) {
          const endpoint = replicas[index % Math.max(1, replicas.length)]?.endpoint ?? 'x';
          const state = ok ? t.recordSuccess(endpoint) : t.recordFailure(endpoint);
          if (decided !== null) expect(state).toBe(decided);
          else if (state !== 'pending') decided = state;
          expect(t.received).toBeLessThanOrEqual(t.requirement.blockFor);
        }
      }),
      { numRuns: 300 },
    );
  });
});
