import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  digestOf,
  maxVersion,
  mergeEndpointState,
  newEndpointState,
  reconcileDigest,
  stateForRequest,
  stateNewerThan,
  withApplicationState,
  withHeartBeatVersion,
  type EndpointState,
} from '../../../src/cluster/gossip/endpoint-state.js';
import { MAX_GENERATION_AHEAD_SECONDS } from '../../../src/cluster/gossip/limits.js';

const GEN = 1_700_000_000;

/** A state built like a node builds its own: one counter for heartbeat and application states. */
function build(generation: number, steps: ([string, string] | 'beat')[]): EndpointState {
  let state = newEndpointState(generation, 0);
  let version = 0;
  for (const step of steps) {
    version++;
    state = step === 'beat' ? withHeartBeatVersion(state, version) : withApplicationState(state, step[0], step[1], version);
  }
  return state;
}

function plain(state: EndpointState | null | undefined): unknown {
  if (state === undefined || state === null) return undefined;
  return { hb: state.heartBeat, app: Object.fromEntries([...state.applicationStates].sort(([a], [b]) => a.localeCompare(b))) };
}

function merged(local: EndpointState | undefined, remote: EndpointState): EndpointState | undefined {
  const r = mergeEndpointState(local, remote);
  return 'state' in r ? r.state : local;
}

describe('endpoint state', () => {
  const base = build(GEN, [['STATUS', 'NORMAL'], ['DC', 'dc1'], 'beat', ['LOAD', '10'], 'beat']);

  it('max version and digest cover the heartbeat and every application state', () => {
    expect(maxVersion(base)).toBe(5);
    expect(digestOf('a:1', base)).toEqual({ endpoint: 'a:1', generation: GEN, maxVersion: 5 });
    expect(maxVersion(build(GEN, [['STATUS', 'x'], 'beat', ['STATUS', 'y']]))).toBe(3);
  });

  it('a delta holds the heartbeat and the application states newer than a version', () => {
    const delta = stateNewerThan(base, 2);
    expect(plain(delta)).toEqual({ hb: { generation: GEN, version: 5 }, app: { LOAD: { value: '10', version: 4 } } });
    expect(stateNewerThan(base, 5)).toBeNull();
    expect(plain(stateNewerThan(base, 0))).toEqual(plain(base));
  });

  it('adopts an unknown endpoint; a higher generation replaces everything (a restart)', () => {
    expect(mergeEndpointState(undefined, base)).toEqual({ kind: 'new', state: base });
    const restarted = build(GEN + 10, [['STATUS', 'BOOT']]);
    const r = mergeEndpointState(base, restarted);
    expect(r.kind).toBe('restarted');
    if (r.kind === 'restarted') {
      expect(r.previousGeneration).toBe(GEN);
      expect(plain(r.state)).toEqual(plain(restarted)); // DC and LOAD of the old incarnation are gone
    }
  });

  it('ignores an older generation and one absurdly far ahead', () => {
    expect(mergeEndpointState(base, build(GEN - 1, [['STATUS', 'OLD']])).kind).toBe('stale');
    expect(mergeEndpointState(base, build(GEN + MAX_GENERATION_AHEAD_SECONDS + 1, [['STATUS', 'X']])).kind).toBe('generation-too-far-ahead');
  });

  it('same generation: newer versions win, per key and for the heartbeat', () => {
    const remote = build(GEN, [['STATUS', 'NORMAL'], ['DC', 'dc1'], 'beat', ['LOAD', '10'], 'beat', 'beat', ['LOAD', '20'], ['SCHEMA', 's1']]);
    const r = mergeEndpointState(base, remote);
    expect(r.kind).toBe('updated');
    if (r.kind === 'updated') {
      expect(r.heartBeatAdvanced).toBe(true);
      expect(r.changedKeys).toEqual(['LOAD', 'SCHEMA']);
      expect(r.state.heartBeat.version).toBe(6);
      expect(r.state.applicationStates.get('LOAD')).toEqual({ value: '20', version: 7 });
    }
    // An older delta changes nothing.
    expect(mergeEndpointState(remote, base).kind).toBe('unchanged');
    // A delta with only application states leaves the heartbeat alone.
    const onlyApp = stateNewerThan(remote, 6) as EndpointState;
    const r2 = mergeEndpointState(base, { heartBeat: base.heartBeat, applicationStates: onlyApp.applicationStates });
    expect(r2.kind === 'updated' && !r2.heartBeatAdvanced && r2.state.heartBeat.version === 5).toBe(true);
  });

  it('merging is a join: order and repetition of deltas do not matter', () => {
    // Random histories of one node, observed through random deltas in random order.
    const arbStep = fc.oneof(fc.constant<'beat'>('beat'), fc.tuple(fc.constantFrom('STATUS', 'LOAD', 'DC', 'SCHEMA'), fc.string({ maxLength: 3 })));
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), fc.array(fc.nat()), (steps, cuts, order) => {
        const full = build(GEN, steps);
        const top = maxVersion(full);
        // Deltas "newer than v" for assorted v, as peers would send them.
        const deltas = cuts.map((c) => stateNewerThan(full, c % (top + 1))).filter((d): d is EndpointState => d !== null);
        const shuffled = [...deltas];
        if (shuffled.length > 0) order.forEach((o, i) => {
          const j = o % shuffled.length;
          [shuffled[i % shuffled.length], shuffled[j]] = [shuffled[j]!, shuffled[i % shuffled.length]!];
        });
        const a = deltas.reduce<EndpointState | undefined>((s, d) => merged(s, d), undefined);
        const b = [...shuffled, ...shuffled].reduce<EndpointState | undefined>((s, d) => merged(s, d), undefined);
        expect(plain(a)).toEqual(plain(b));
        // And with the full state merged in, the result is the full state.
        expect(plain(merged(a, full))).toEqual(plain(full));
      }),
    );
  });
});

describe('digest reconciliation (examineGossiper)', () => {
  const mine = build(GEN, [['STATUS', 'NORMAL'], 'beat', ['LOAD', '1'], 'beat']);

  it('requests everything about an unknown endpoint or a newer generation', () => {
    expect(reconcileDigest(undefined, { endpoint: 'x', generation: GEN, maxVersion: 9 })).toEqual({ request: { endpoint: 'x', generation: GEN, maxVersion: 0 } });
    expect(reconcileDigest(mine, { endpoint: 'x', generation: GEN + 1, maxVersion: 1 })).toEqual({ request: { endpoint: 'x', generation: GEN + 1, maxVersion: 0 } });
  });

  it('sends the whole state to a peer on an older generation', () => {
    expect(reconcileDigest(mine, { endpoint: 'x', generation: GEN - 5, maxVersion: 100 })).toEqual({ send: mine });
  });

  it('same generation: request above our version, or send above theirs, or nothing', () => {
    expect(reconcileDigest(mine, { endpoint: 'x', generation: GEN, maxVersion: 9 })).toEqual({ request: { endpoint: 'x', generation: GEN, maxVersion: 4 } });
    const r = reconcileDigest(mine, { endpoint: 'x', generation: GEN, maxVersion: 2 });
    expect(plain(r.send)).toEqual(plain(stateNewerThan(mine, 2)));
    expect(reconcileDigest(mine, { endpoint: 'x', generation: GEN, maxVersion: 4 })).toEqual({});
  });

  it('answers requests: newer than the version asked, the whole state for an older generation', () => {
    expect(plain(stateForRequest(mine, { endpoint: 'x', generation: GEN, maxVersion: 2 }))).toEqual(plain(stateNewerThan(mine, 2)));
    expect(stateForRequest(mine, { endpoint: 'x', generation: GEN - 1, maxVersion: 3 })).toBe(mine);
    expect(stateForRequest(mine, { endpoint: 'x', generation: GEN + 1, maxVersion: 0 })).toBeNull();
    expect(stateForRequest(undefined, { endpoint: 'x', generation: GEN, maxVersion: 0 })).toBeNull();
  });
});
