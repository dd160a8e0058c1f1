/**
 * `membershipView`: how gossip states (STATUS, TOKENS, peers' REMOVALS) become the listed nodes,
 * the ring, the joining and the leaving nodes, table-driven over hand-made gossip infos.
 */
import { describe, expect, it } from 'vitest';
import type { EndpointInfo } from '../../../src/cluster/gossip/gossiper.js';
import { membershipView } from '../../../src/cluster/membership/membership-view.js';
import { encodeRemovals, type RemovalEntry } from '../../../src/cluster/membership/removals.js';

interface Spec {
  readonly endpoint: string;
  readonly status?: string;
  readonly tokens?: string;
  readonly up?: boolean;
  readonly generation?: number;
  readonly removals?: readonly RemovalEntry[] | string;
  readonly self?: boolean;
}

let version = 0;

function info(s: Spec): EndpointInfo {
  const states: Record<string, { value: string; version: number }> = {
    HOST_ID: { value: `h-${s.endpoint}`, version: ++version },
    DC: { value: 'dc1', version: ++version },
    RACK: { value: 'r1', version: ++version },
    TOKENS: { value: s.tokens ?? String(Number(s.endpoint.split(':')[1]) * 10), version: ++version },
  };
  if (s.status !== undefined) states.STATUS = { value: s.status, version: ++version };
  if (s.removals !== undefined) states.REMOVALS = { value: typeof s.removals === 'string' ? s.removals : encodeRemovals(s.removals), version: ++version };
  return { endpoint: s.endpoint, isSelf: s.self ?? false, generation: s.generation ?? 10, heartBeatVersion: 1, applicationStates: states, up: s.up ?? true, phi: 0 };
}

const removal = (endpoint: string, state: RemovalEntry['state'], generation = 10, hostId = `h-${endpoint}`): RemovalEntry => ({ endpoint, hostId, generation, state });

describe('membershipView', () => {
  it('places NORMAL, LEAVING and MOVING nodes on the ring; JOINING ones are listed and, while UP, joining', () => {
    const v = membershipView([
      info({ endpoint: 'e:1', status: 'NORMAL', self: true }),
      info({ endpoint: 'e:2', status: 'LEAVING' }),
      info({ endpoint: 'e:3', status: 'MOVING' }),
      info({ endpoint: 'e:4', status: 'JOINING' }),
      info({ endpoint: 'e:5', status: 'JOINING', up: false }),
      info({ endpoint: 'e:6', status: 'shutdown', up: false }),
      info({ endpoint: 'e:7' }),
    ]);
    expect(v.ring.endpoints()).toEqual(['e:1', 'e:2', 'e:3', 'e:6', 'e:7']);
    expect(v.nodes.map((n) => [n.internode, n.state, n.status])).toEqual([
      ['e:1', 'NORMAL', 'UP'],
      ['e:2', 'LEAVING', 'UP'],
      ['e:3', 'MOVING', 'UP'],
      ['e:4', 'JOINING', 'UP'],
      ['e:5', 'JOINING', 'DOWN'],
      ['e:6', 'NORMAL', 'DOWN'],
      ['e:7', 'NORMAL', 'UP'],
    ]);
    expect(v.joining).toEqual([{ endpoint: 'e:4', datacenter: 'dc1', rack: 'r1', tokens: [40n] }]);
    expect(v.leaving).toEqual(['e:2']);
    expect(v.gone.size).toBe(0);
  });

  it('LEFT nodes and removed incarnations are gone; a removal names a host id and a generation', () => {
    const v = membershipView([
      info({ endpoint: 'e:1', removals: [removal('e:2', 'removed'), removal('e:3', 'removing'), removal('e:4', 'removed', 9), removal('e:5', 'removed', 10, 'someone-else')] }),
      info({ endpoint: 'e:2', up: false }),
      info({ endpoint: 'e:3', up: false }),
      // Restarted since its removal (generation 10 > 9): a new incarnation, not removed.
      info({ endpoint: 'e:4' }),
      // Another node at the removed address: not the one removed.
      info({ endpoint: 'e:5' }),
      info({ endpoint: 'e:6', status: 'LEFT' }),
    ]);
    expect([...v.gone].sort()).toEqual(['e:2', 'e:6']);
    expect(v.removed).toEqual(['e:2']);
    expect(v.nodes.map((n) => n.internode)).toEqual(['e:1', 'e:3', 'e:4', 'e:5']);
    expect(v.nodes.find((n) => n.internode === 'e:3')?.state).toBe('LEAVING');
    expect(v.leaving).toEqual(['e:3']);
    expect(v.ring.endpoints()).toEqual(['e:1', 'e:3', 'e:4', 'e:5']);
  });

  it('removed beats removing, whoever announces which; a JOINING node being removed stays off the ring', () => {
    const v = membershipView([
      info({ endpoint: 'e:1', removals: [removal('e:3', 'removing'), removal('e:4', 'removing')] }),
      info({ endpoint: 'e:2', removals: [removal('e:3', 'removed')] }),
      info({ endpoint: 'e:3', up: false }),
      info({ endpoint: 'e:4', status: 'JOINING', up: false }),
    ]);
    expect(v.removed).toEqual(['e:3']);
    expect(v.nodes.find((n) => n.internode === 'e:4')?.state).toBe('JOINING');
    expect(v.ring.endpoints()).toEqual(['e:1', 'e:2']);
    expect(v.leaving).toEqual([]);
  });

  it('ignores an undecodable REMOVALS and treats undecodable TOKENS as none', () => {
    const v = membershipView([info({ endpoint: 'e:1', removals: 'garbage' }), info({ endpoint: 'e:2', tokens: '5,3' })]);
    expect(v.undecodableRemovals).toEqual(['e:1']);
    expect(v.nodes.find((n) => n.internode === 'e:2')?.tokens).toEqual([]);
    expect(v.ring.endpoints()).toEqual(['e:1']);
  });

  it('the key moves with what places tokens or changes who moves, and not with liveness of others', () => {
    const base = [info({ endpoint: 'e:1' }), info({ endpoint: 'e:2', status: 'JOINING' })];
    const key = membershipView(base).key;
    expect(membershipView(base).key).toBe(key);
    // A JOINING node going DOWN changes the pending inputs.
    expect(membershipView([base[0]!, { ...base[1]!, up: false }]).key).not.toBe(key);
    // A NORMAL node going DOWN does not change the ring.
    expect(membershipView([{ ...base[0]!, up: false }, base[1]!]).key).toBe(key);
    // A new STATUS version does.
    expect(membershipView([base[0]!, info({ endpoint: 'e:2', status: 'NORMAL' })]).key).not.toBe(key);
  });
});
