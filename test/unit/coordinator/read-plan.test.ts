/**
 * Read planning (SPEC 6.3, 6.4): the data read goes to the closest live replica (local
 * datacenter first, then proximity), digests to the next ones until the level is met,
 * speculation to the next candidate after the `speculative_retry` delay, and after a digest
 * mismatch the contacted replicas are read in full and the stale ones repaired.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requirementFor, type ReplicaInfo } from '../../../src/coordinator/consistency.js';
import {
  contactedReplicas,
  fullDataReadsAfterMismatch,
  parseSpeculativeRetry,
  planRead,
  replicasToRepair,
  speculationDelayMs,
  speculativeRequestKind,
  type ReadPlanInput,
} from '../../../src/coordinator/read-plan.js';
import type { ConsistencyLevel } from '../../../src/cql/request.js';
import { ConfigurationError, Unavailable } from '../../../src/errors.js';
import type { Replication } from '../../../src/schema/schema.js';

const replica = (endpoint: string, datacenter = 'dc1', pending = false): ReplicaInfo => ({ endpoint, datacenter, pending });
const RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };
const NTS: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3, dc2: 2 } };
const ABC = [replica('a'), replica('b'), replica('c')];
const NTS_REPLICAS = [replica('b1', 'dc2'), replica('a1'), replica('b2', 'dc2'), replica('a2'), replica('a3')];

interface Options {
  replication?: Replication;
  replicas?: ReplicaInfo[];
  down?: string[];
  localDc?: string;
  proximity?: Record<string, number>;
  retry?: string;
  latencyMs?: number;
  readTimeoutMs?: number;
}

function input(cl: ConsistencyLevel, o: Options = {}): ReadPlanInput {
  const replicas = o.replicas ?? ABC;
  const localDc = o.localDc ?? 'dc1';
  return {
    requirement: requirementFor(cl, o.replication ?? RF3, replicas, localDc, 'read'),
    replicas,
    isAlive: (e) => !(o.down ?? []).includes(e),
    localDc,
    proximity: (e) => o.proximity?.[e] ?? 0,
    retry: parseSpeculativeRetry(o.retry ?? 'NONE'),
    latencyPercentileMs: () => o.latencyMs,
    readTimeoutMs: o.readTimeoutMs ?? 5000,
  };
}

describe('planRead: contacts', () => {
  it('reads data from the closest replica and digests from the next closest ones', () => {
    const plan = planRead(input('QUORUM', { proximity: { a: 3, b: 1, c: 2 } }));
    expect(plan.dataReplica).toBe('b');
    expect(plan.digestReplicas).toEqual(['c']);
    expect(plan.blockFor).toBe(2);
    expect(plan.candidates).toEqual(['b', 'c', 'a']);
  });

  it('keeps the replication order among equal scores', () => {
    const plan = planRead(input('ALL'));
    expect([plan.dataReplica, ...plan.digestReplicas]).toEqual(['a', 'b', 'c']);
  });

  it('skips down replicas', () => {
    const plan = planRead(input('ONE', { down: ['a'], proximity: { a: 0, b: 2, c: 1 } }));
    expect(plan.dataReplica).toBe('c');
    expect(plan.digestReplicas).toEqual([]);
    expect(plan.candidates).toEqual(['c', 'b']);
  });

  it('puts the local datacenter first, whatever the scores of remote replicas', () => {
    const plan = planRead(input('QUORUM', { replication: NTS, replicas: NTS_REPLICAS, proximity: { b1: 0, b2: 0, a1: 9, a2: 5, a3: 7 } }));
    expect(plan.dataReplica).toBe('a2');
    expect(plan.digestReplicas).toEqual(['a3', 'a1']);
    expect(plan.candidates).toEqual(['a2', 'a3', 'a1', 'b1', 'b2']);
  });

  it('reads only the local datacenter for LOCAL_ONE and LOCAL_QUORUM', () => {
    const one = planRead(input('LOCAL_ONE', { replication: NTS, replicas: NTS_REPLICAS, localDc: 'dc2', proximity: { b1: 4, b2: 3 } }));
    expect(one.dataReplica).toBe('b2');
    expect(one.candidates).toEqual(['b2', 'b1']);
    const quorum = planRead(input('LOCAL_QUORUM', { replication: NTS, replicas: NTS_REPLICAS, localDc: 'dc2', retry: '10ms' }));
    expect([quorum.dataReplica, ...quorum.digestReplicas]).toEqual(['b1', 'b2']);
    // dc2 has two replicas, both contacted: there is nobody local left to speculate to.
    expect(quorum.speculation).toBeNull();
  });

  it('reads a quorum in each datacenter for EACH_QUORUM, data from the closest local one, without speculation', () => {
    const plan = planRead(input('EACH_QUORUM', { replication: NTS, replicas: NTS_REPLICAS, retry: 'ALWAYS', proximity: { a3: -1 } }));
    expect(plan.dataReplica).toBe('a3');
    expect(plan.digestReplicas).toEqual(['a1', 'b1', 'b2']);
    expect(plan.blockFor).toBe(4);
    expect(plan.speculation).toBeNull();
  });

  it('never reads a pending replica', () => {
    const replicas = [replica('p', 'dc1', true), ...ABC];
    const plan = planRead(input('ALL', { replicas, proximity: { p: -1 } }));
    expect([plan.dataReplica, ...plan.digestReplicas]).toEqual(['a', 'b', 'c']);
    expect(plan.candidates).not.toContain('p');
  });

  it('throws Unavailable before planning when too few replicas are alive', () => {
    expect(() => planRead(input('QUORUM', { down: ['a', 'b'] }))).toThrow(Unavailable);
    expect(() => planRead(input('LOCAL_QUORUM', { replication: NTS, replicas: NTS_REPLICAS, down: ['a1', 'a2'] }))).toThrow(Unavailable);
    expect(() => planRead(input('EACH_QUORUM', { replication: NTS, replicas: NTS_REPLICAS, down: ['b2'] }))).toThrow(Unavailable);
  });

  it('sorts an unknown (infinite) proximity last instead of scrambling the order', () => {
    const plan = planRead(input('ALL', { proximity: { a: Infinity, b: Infinity, c: 1 } }));
    expect([plan.dataReplica, ...plan.digestReplicas]).toEqual(['c', 'a', 'b']);
  });
});

describe('planRead: speculation', () => {
  it('NONE never speculates', () => {
    expect(planRead(input('ONE', { retry: 'NONE' })).speculation).toBeNull();
  });

  it('ALWAYS sends to the next closest candidate at once', () => {
    expect(planRead(input('ONE', { retry: 'ALWAYS', proximity: { a: 3, b: 1, c: 2 } })).speculation).toEqual({ afterMs: 0, replica: 'c' });
  });

  it('Nms waits N ms; Np waits for the latency percentile, half the read timeout before any sample', () => {
    expect(planRead(input('QUORUM', { retry: '20ms' })).speculation).toEqual({ afterMs: 20, replica: 'c' });
    expect(planRead(input('QUORUM', { retry: '99p', latencyMs: 7.5 })).speculation).toEqual({ afterMs: 7.5, replica: 'c' });
    expect(planRead(input('QUORUM', { retry: '99p', readTimeoutMs: 2000 })).speculation).toEqual({ afterMs: 1000, replica: 'c' });
  });

  it('does not speculate when the delay reaches the read timeout or no candidate is left', () => {
    expect(planRead(input('QUORUM', { retry: '5000ms', readTimeoutMs: 5000 })).speculation).toBeNull();
    expect(planRead(input('QUORUM', { retry: '99p', latencyMs: 6000, readTimeoutMs: 5000 })).speculation).toBeNull();
    expect(planRead(input('ALL', { retry: 'ALWAYS' })).speculation).toBeNull();
    expect(planRead(input('QUORUM', { retry: 'ALWAYS', down: ['c'] })).speculation).toBeNull();
  });

  it('asks the speculative replica for data until the data arrived, then for a digest', () => {
    expect(speculativeRequestKind(false)).toBe('data');
    expect(speculativeRequestKind(true)).toBe('digest');
  });

  it('resolves the delay on its own', () => {
    const timing = { latencyPercentileMs: (p: number) => p, readTimeoutMs: 99 };
    expect(speculationDelayMs({ ...timing, retry: parseSpeculativeRetry('95p') })).toBe(95);
    expect(speculationDelayMs({ ...timing, retry: parseSpeculativeRetry('99.9PERCENTILE') })).toBeNull();
  });
});

describe('parseSpeculativeRetry', () => {
  it('parses the forms schema-options.ts accepts', () => {
    expect(parseSpeculativeRetry('NONE')).toEqual({ kind: 'NONE' });
    expect(parseSpeculativeRetry('always')).toEqual({ kind: 'ALWAYS' });
    expect(parseSpeculativeRetry('50ms')).toEqual({ kind: 'FIXED', delayMs: 50 });
    expect(parseSpeculativeRetry('2.5 MS')).toEqual({ kind: 'FIXED', delayMs: 2.5 });
    expect(parseSpeculativeRetry('99p')).toEqual({ kind: 'PERCENTILE', percentile: 99 });
    expect(parseSpeculativeRetry('99.9PERCENTILE')).toEqual({ kind: 'PERCENTILE', percentile: 99.9 });
  });

  it('refuses anything else with ConfigurationError', () => {
    for (const bad of ['', 'sometimes', '100p', '0p', '-5ms', 'ms', '10s']) expect(() => parseSpeculativeRetry(bad)).toThrow(ConfigurationError);
  });
});

describe('read repair', () => {
  it('reads every contacted replica in full after a mismatch, the speculative one once sent', () => {
    const plan = planRead(input('QUORUM', { retry: '10ms' }));
    expect(fullDataReadsAfterMismatch(plan, false)).toEqual(['a', 'b']);
    expect(fullDataReadsAfterMismatch(plan, true)).toEqual(['a', 'b', 'c']);
    expect(contactedReplicas(planRead(input('ONE')), true)).toEqual(['a']);
  });

  it('repairs the replicas whose answer differs from the merge under BLOCKING, none under NONE', () => {
    const responses = [
      { endpoint: 'a', digest: 'x' },
      { endpoint: 'b', digest: 'y' },
      { endpoint: 'c', digest: 'z' },
      { endpoint: 'c', digest: 'z' },
    ];
    expect(replicasToRepair('BLOCKING', responses, 'y')).toEqual(['a', 'c']);
    expect(replicasToRepair('BLOCKING', responses.slice(1, 2), 'y')).toEqual([]);
    expect(replicasToRepair('NONE', responses, 'y')).toEqual([]);
  });
});

describe('planRead properties', () => {
  const LEVELS: ConsistencyLevel[] = ['ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_ONE', 'LOCAL_QUORUM', 'EACH_QUORUM'];

  it('contacts are live, distinct, count for the level, number blockFor, and are the closest that do', () => {
    fc.assert(
      fc.property(
        fc.record({
          rfs: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
          level: fc.constantFrom(...LEVELS),
          localDc: fc.constantFrom('dc1', 'dc2'),
          downMask: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
          scores: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
          retry: fc.constantFrom('NONE', 'ALWAYS', '10ms', '99p'),
        }),
        ({ rfs, level, localDc, downMask, scores, retry }) => {
          const replication: Replication = { class: 'NetworkTopologyStrategy', datacenters: { dc1: rfs[0], dc2: rfs[1] } };
          const replicas = [...Array.from({ length: rfs[0] }, (_, i) => replica(`a${i}`)), ...Array.from({ length: rfs[1] }, (_, i) => replica(`b${i}`, 'dc2'))];
          const down = new Set(replicas.filter((_, i) => downMask[i]).map((r) => r.endpoint));
          const score = (e: string): number => scores[replicas.findIndex((r) => r.endpoint === e)] ?? 0;
          const requirement = requirementFor(level, replication, replicas, localDc, 'read');
          const planInput: ReadPlanInput = {
            requirement, replicas, localDc, isAlive: (e) => !down.has(e), proximity: score,
            retry: parseSpeculativeRetry(retry), latencyPercentileMs: () => 3, readTimeoutMs: 100,
          };
          let plan;
          try {
            plan = planRead(planInput);
          } catch (e) {
            expect(e).toBeInstanceOf(Unavailable);
            return;
          }
          const contacts = [plan.dataReplica, ...plan.digestReplicas];
          expect(contacts).toHaveLength(requirement.blockFor);
          expect(new Set(contacts).size).toBe(contacts.length);
          for (const e of contacts) expect(down.has(e)).toBe(false);
          const dcOf = (e: string): string => (e.startsWith('a') ? 'dc1' : 'dc2');
          if (level === 'LOCAL_ONE' || level === 'LOCAL_QUORUM') for (const e of contacts) expect(dcOf(e)).toBe(localDc);
          // The data replica is the closest candidate: local first, then lowest score.
          const rank = (e: string): [number, number] => [dcOf(e) === localDc ? 0 : 1, score(e)];
          for (const e of plan.candidates) {
            const [r0, s0] = rank(plan.dataReplica);
            const [r1, s1] = rank(e);
            expect(r0 < r1 || (r0 === r1 && s0 <= s1)).toBe(true);
          }
          if (level !== 'EACH_QUORUM') expect(contacts).toEqual(plan.candidates.slice(0, contacts.length));
          if (plan.speculation !== null) {
            expect(contacts).not.toContain(plan.speculation.replica);
            expect(plan.candidates).toContain(plan.speculation.replica);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
