import { describe, expect, it } from 'vitest';
import { PeerDirectory } from '../../../src/cluster/peer-directory.js';
import { ApplicationStateKey, type EndpointState } from '../../../src/cluster/gossip/endpoint-state.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';

function stateWithHostId(hostId: string): EndpointState {
  return { heartBeat: { generation: 1, version: 1 }, applicationStates: new Map([[ApplicationStateKey.HOST_ID, { value: hostId, version: 1 }]]) } as unknown as EndpointState;
}

describe('PeerDirectory', () => {
  it('maps endpoints to host ids, remembers when each went DOWN, and tells listeners of UP and DOWN', () => {
    const clock = new ManualClock(1_000);
    const peers = new PeerDirectory(clock);
    const seen: string[] = [];
    peers.listen({ up: (h, e) => seen.push(`up ${h} ${e}`), down: (h, e) => seen.push(`down ${h} ${e}`) });
    peers.onGossipEvent({ kind: 'joined', endpoint: 'n2:7000', state: stateWithHostId('host-2') });
    expect(peers.hostIdOf('n2:7000')).toBe('host-2');
    expect(peers.downSinceMs('n2:7000')).toBeNull();
    peers.onGossipEvent({ kind: 'down', endpoint: 'n2:7000', reason: 'convicted' } as never);
    clock.advanceMs(5_000);
    // A second DOWN does not move the start of the outage.
    peers.onGossipEvent({ kind: 'down', endpoint: 'n2:7000', reason: 'convicted' } as never);
    expect(peers.downSinceMs('n2:7000')).toBe(1_000);
    peers.onGossipEvent({ kind: 'up', endpoint: 'n2:7000' });
    expect(peers.downSinceMs('n2:7000')).toBeNull();
    peers.onGossipEvent({ kind: 'changed', endpoint: 'n2:7000', key: ApplicationStateKey.HOST_ID, value: 'host-2b', version: 2 });
    expect(peers.hostIdOf('n2:7000')).toBe('host-2b');
    peers.onGossipEvent({ kind: 'removed', endpoint: 'n2:7000' });
    expect(peers.hostIdOf('n2:7000')).toBeUndefined();
    expect(seen).toEqual(['down host-2 n2:7000', 'down host-2 n2:7000', 'up host-2 n2:7000']);
    // An endpoint whose host id is unknown yet is not announced.
    peers.onGossipEvent({ kind: 'up', endpoint: 'n9:7000' });
    expect(seen).toHaveLength(3);
  });
});
