import { describe, expect, it } from 'vitest';
import {
  STATUS_SHUTDOWN,
  newEndpointState,
  withApplicationState,
  type EndpointState,
} from '../../../src/cluster/gossip/endpoint-state.js';
import { encodeGossipMessage } from '../../../src/cluster/gossip/gossip-codec.js';
import { Gossiper, type GossipEffect, type GossipEvent, type GossiperOptions } from '../../../src/cluster/gossip/gossiper.js';
import { MAX_APPLICATION_STATE_VALUE_BYTES, MAX_GOSSIP_MESSAGE_BYTES } from '../../../src/cluster/gossip/limits.js';
import type { GossipAck, GossipMessage, GossipSyn } from '../../../src/cluster/gossip/messages.js';
import { SeededRandom } from '../../../src/runtime/random.js';

const GEN = 1_700_000_000;
const T0 = 1_700_000_000_000;
const seed = Number(process.env.GOSSIP_SEED ?? 11);

function gossiper(self: string, overrides: Partial<GossiperOptions> = {}): Gossiper {
  return new Gossiper({
    self,
    clusterName: 'test',
    generation: GEN,
    seeds: ['a:1'],
    gossipIntervalMs: 200,
    phiConvictThreshold: 8,
    random: new SeededRandom(seed + self.charCodeAt(0)),
    applicationStates: { STATUS: 'NORMAL', HOST_ID: `host-${self}` },
    ...overrides,
  });
}

type Sent = { from: string; to: string; message: GossipMessage };

/** Delivers every message among `nodes` at once, until none is left; returns events by node. */
function pump(nodes: Gossiper[], nowMs: number, initial: Sent[] = []): { events: Map<string, GossipEvent[]>; sent: Sent[] } {
  const byId = new Map(nodes.map((g) => [g.self, g]));
  const events = new Map<string, GossipEvent[]>(nodes.map((g) => [g.self, []]));
  const sent: Sent[] = [];
  const queue: Sent[] = [...initial];
  const collect = (g: Gossiper): void => {
    for (const e of g.drain()) {
      if (e.kind === 'send') queue.push({ from: g.self, to: e.to, message: e.message });
      else events.get(g.self)?.push(e);
    }
  };
  nodes.forEach(collect);
  for (let i = 0; queue.length > 0; i++) {
    expect(i).toBeLessThan(10_000);
    const m = queue.shift() as Sent;
    sent.push(m);
    const target = byId.get(m.to);
    if (target === undefined) continue;
    target.receive(m.from, m.message, nowMs);
    collect(target);
  }
  return { events, sent };
}

/** Ticks every node (in order) at `nowMs`, then pumps. */
function round(nodes: Gossiper[], nowMs: number): ReturnType<typeof pump> {
  for (const g of nodes) g.tick(nowMs);
  return pump(nodes, nowMs);
}

function kinds(events: GossipEffect[] | undefined, endpoint?: string): string[] {
  return (events ?? []).flatMap((e) => (e.kind === 'send' ? [] : [e])).filter((e) => endpoint === undefined || e.endpoint === endpoint).map((e) => (e.kind === 'down' ? `down:${e.reason}` : e.kind));
}

function sends(effects: GossipEffect[]): { to: string; message: GossipMessage }[] {
  return effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, message: e.message }] : []));
}

describe('gossiper: exchanges', () => {
  it('a lone node gossips to a seed, never to itself', () => {
    const a = gossiper('a:1', { seeds: ['a:1', 'b:1'] });
    a.tick(T0);
    const out = sends(a.drain());
    expect(out.map((s) => s.to)).toEqual(['b:1']);
    const syn = out[0]?.message as GossipSyn;
    expect(syn.kind).toBe('syn');
    expect(syn.clusterName).toBe('test');
    expect(syn.digests).toEqual([{ endpoint: 'a:1', generation: GEN, maxVersion: 3 }]); // STATUS 1, HOST_ID 2, heartbeat 3
    const lonely = gossiper('a:1', { seeds: ['a:1'] });
    lonely.tick(T0);
    expect(sends(lonely.drain())).toEqual([]);
  });

  it('SYN, ACK, ACK2: two nodes learn each other in one exchange; UP comes with the next heartbeat', () => {
    const a = gossiper('a:1');
    const b = gossiper('b:1');
    b.tick(T0); // b's only peer is the seed a
    const first = pump([a, b], T0);
    expect(first.sent.map((s) => s.message.kind)).toEqual(['syn', 'ack', 'ack2']);
    expect(kinds(first.events.get('a:1'))).toEqual(['joined']);
    expect(kinds(first.events.get('b:1'))).toEqual(['joined']);
    expect(a.endpointState('b:1')?.applicationStates.get('HOST_ID')?.value).toBe('host-b:1');
    expect(b.endpointState('a:1')?.applicationStates.get('HOST_ID')?.value).toBe('host-a:1');
    // Known but not yet UP: only a heartbeat rise proves the node is running now.
    expect(a.isUp('b:1')).toBe(false);
    const second = round([a, b], T0 + 200);
    expect(kinds(second.events.get('a:1'))).toEqual(['up']);
    expect(kinds(second.events.get('b:1'))).toEqual(['up']);
    expect(a.liveEndpoints()).toEqual(['b:1']);
  });

  it('answers a SYN with requests for newer state, deltas for older, and states the peer never mentioned', () => {
    const a = gossiper('a:1');
    const c = withApplicationState(newEndpointState(GEN, 5), 'STATUS', 'NORMAL', 6);
    a.receive('x:1', { kind: 'ack2', states: [{ endpoint: 'c:1', state: c }] }, T0);
    a.drain();
    a.receive('b:1', {
      kind: 'syn',
      clusterName: 'test',
      digests: [
        { endpoint: 'a:1', generation: GEN, maxVersion: 1 }, // b is behind on a: send a's delta above 1
        { endpoint: 'b:1', generation: GEN, maxVersion: 9 }, // unknown to a: request all of it
        { endpoint: 'a:1', generation: GEN + 5, maxVersion: 99 }, // nonsense about a itself: never requested
      ],
    }, T0);
    const ack = sends(a.drain())[0]?.message as GossipAck;
    expect(ack.kind).toBe('ack');
    expect(ack.digests).toEqual([{ endpoint: 'b:1', generation: GEN, maxVersion: 0 }]);
    const states = new Map(ack.states.map((s) => [s.endpoint, s.state]));
    expect([...states.keys()]).toEqual(['a:1', 'c:1']);
    expect([...(states.get('a:1') as EndpointState).applicationStates.keys()]).toEqual(['HOST_ID']);
    expect(states.get('c:1')).toBe(c);
  });

  it('ignores state about itself from a peer', () => {
    const a = gossiper('a:1');
    const fake = withApplicationState(newEndpointState(GEN + 1, 1), 'STATUS', 'LEFT', 100);
    a.receive('b:1', { kind: 'ack2', states: [{ endpoint: 'a:1', state: fake }] }, T0);
    expect(a.endpointState('a:1')?.heartBeat.generation).toBe(GEN);
    expect(a.drain()).toEqual([]);
  });

  it('ignores and counts a SYN from another cluster', () => {
    const a = gossiper('a:1');
    const intruder = gossiper('z:1', { clusterName: 'other' });
    intruder.tick(T0);
    const { sent } = pump([a, intruder], T0);
    expect(sent.map((s) => s.message.kind)).toEqual(['syn']);
    expect(a.endpoints()).toEqual(['a:1']);
    expect(a.stats().ignoredWrongCluster).toBe(1);
  });

  it('is deterministic: same seed and inputs, same effects', () => {
    const script = (): GossipEffect[][] => {
      const nodes = ['a:1', 'b:1', 'c:1', 'd:1'].map((id) => gossiper(id));
      const log: GossipEffect[][] = [];
      for (let r = 0; r < 10; r++) {
        for (const g of nodes) g.tick(T0 + r * 200);
        log.push(...nodes.map((g) => g.drain()));
        pump(nodes, T0 + r * 200);
      }
      return log;
    };
    expect(JSON.stringify(script())).toBe(JSON.stringify(script()));
  });
});

describe('gossiper: failure detection', () => {
  function threeUp(): Gossiper[] {
    const nodes = ['a:1', 'b:1', 'c:1'].map((id) => gossiper(id));
    for (let r = 0; r < 10; r++) round(nodes, T0 + r * 200);
    for (const g of nodes) expect(g.liveEndpoints()).toHaveLength(2);
    return nodes;
  }

  it('convicts a silent peer after about 1.5 s and feeds phi to gossipinfo', () => {
    const [a, b] = threeUp() as [Gossiper, Gossiper, Gossiper];
    const lastMs = T0 + 9 * 200;
    let downAtMs: number | null = null;
    for (let t = lastMs + 200; t <= lastMs + 4_000 && downAtMs === null; t += 200) {
      round([a, b], t); // c is dead: messages to it vanish
      if (!a.isUp('c:1')) downAtMs = t;
    }
    expect(downAtMs).not.toBeNull();
    expect((downAtMs as number) - lastMs).toBeGreaterThanOrEqual(1_400);
    expect((downAtMs as number) - lastMs).toBeLessThanOrEqual(2_000);
    const info = a.gossipInfo(downAtMs as number);
    const c = info.find((e) => e.endpoint === 'c:1');
    expect(c?.up).toBe(false);
    expect(c?.phi).toBeGreaterThan(8);
    expect(info.find((e) => e.endpoint === 'a:1')).toMatchObject({ isSelf: true, up: true, phi: 0 });
    expect(info.find((e) => e.endpoint === 'b:1')?.phi).toBeLessThan(1);
    expect(a.stats().convictions).toBe(1);
  });

  it('a second-hand heartbeat rise brings a peer back UP', () => {
    const [a, b, c] = threeUp() as [Gossiper, Gossiper, Gossiper];
    // a cannot reach c, but b can: a keeps hearing of c's heartbeats through b.
    for (let r = 10; r < 30; r++) {
      const t = T0 + r * 200;
      for (const g of [a, b, c]) g.tick(t);
      const effects = new Map([a, b, c].map((g) => [g.self, g.drain()]));
      const initial: Sent[] = [];
      for (const [from, list] of effects) for (const s of sends(list)) if (!((from === 'a:1' && s.to === 'c:1') || (from === 'c:1' && s.to === 'a:1'))) initial.push({ from, ...s });
      const { sent } = pumpFiltered([a, b, c], t, initial);
      expect(sent.every((s) => !(s.from === 'a:1' && s.to === 'c:1'))).toBe(true);
    }
    expect(a.isUp('c:1')).toBe(true);
  });

  it('does not count its own pause as the peers\' silence', () => {
    const [a] = threeUp() as [Gossiper, Gossiper, Gossiper];
    a.drain();
    // a stalls 3 s (GC, SIGSTOP); its overdue tick runs before it reads the queued heartbeats.
    const lateMs = T0 + 9 * 200 + 3_000;
    a.tick(lateMs);
    expect(a.drain().filter((e) => e.kind === 'down')).toEqual([]);
    expect(a.liveEndpoints()).toHaveLength(2);
    expect(a.stats().localPauses).toBe(1);
    expect(a.stats().localPausedMs).toBe(3_000 - 200 - 100);
    // Later silence counts again: with no news at all, both peers go DOWN within ~2 s.
    for (let t = lateMs + 200; t <= lateMs + 2_200; t += 200) a.tick(t);
    expect(a.liveEndpoints()).toEqual([]);
  });
});

/** `pump` with messages between a and c dropped. */
function pumpFiltered(nodes: Gossiper[], nowMs: number, initial: Sent[]): ReturnType<typeof pump> {
  const cut = (s: Sent): boolean => (s.from === 'a:1' && s.to === 'c:1') || (s.from === 'c:1' && s.to === 'a:1');
  const byId = new Map(nodes.map((g) => [g.self, g]));
  const queue = [...initial];
  const sent: Sent[] = [];
  while (queue.length > 0) {
    const m = queue.shift() as Sent;
    if (cut(m)) continue;
    sent.push(m);
    const target = byId.get(m.to) as Gossiper;
    target.receive(m.from, m.message, nowMs);
    for (const e of target.drain()) if (e.kind === 'send') queue.push({ from: target.self, to: e.to, message: e.message });
  }
  return { events: new Map(), sent };
}

describe('gossiper: shutdown, restart, removal', () => {
  function upPair(): [Gossiper, Gossiper, Gossiper] {
    const nodes = ['a:1', 'b:1', 'c:1'].map((id) => gossiper(id)) as [Gossiper, Gossiper, Gossiper];
    for (let r = 0; r < 10; r++) round(nodes, T0 + r * 200);
    return nodes;
  }

  it('shutdown() announces to every live peer, who mark it DOWN at once; it stays DOWN', () => {
    const [a, b, c] = upPair();
    b.shutdown();
    const effects = b.drain();
    const announced = sends(effects);
    expect(announced.map((s) => s.to).sort()).toEqual(['a:1', 'c:1']);
    expect(announced[0]?.message).toEqual({ kind: 'shutdown', endpoint: 'b:1', generation: GEN });
    expect(b.endpointState('b:1')?.applicationStates.get('STATUS')?.value).toBe(STATUS_SHUTDOWN);
    const t = T0 + 2_000;
    const { events } = pump([a, b, c], t, announced.map((s) => ({ from: 'b:1', ...s })));
    expect(kinds(events.get('a:1'), 'b:1')).toEqual(['changed', 'down:shutdown']);
    expect(a.isUp('b:1')).toBe(false);
    // A stopped gossiper neither ticks nor answers.
    b.tick(t + 200);
    b.receive('a:1', { kind: 'syn', clusterName: 'test', digests: [] }, t + 200);
    expect(b.drain()).toEqual([]);
    // Older gossip about b (its last heartbeat before the shutdown) does not revive it.
    expect(a.endpointState('b:1')?.heartBeat.version).toBe(Number.MAX_SAFE_INTEGER);
    a.receive('c:1', { kind: 'ack2', states: [{ endpoint: 'b:1', state: { heartBeat: { generation: GEN, version: 1_000 }, applicationStates: new Map() } }] }, t + 400);
    expect(a.isUp('b:1')).toBe(false);
    for (let r = 1; r < 10; r++) round([a, c], t + r * 200);
    expect(a.isUp('b:1') || c.isUp('b:1')).toBe(false);
  });

  it('the pinned shutdown state spreads to a peer that missed the message', () => {
    const [a, b, c] = upPair();
    b.shutdown();
    const toA = sends(b.drain()).filter((s) => s.to === 'a:1');
    const t = T0 + 2_000;
    pump([a], t, toA.map((s) => ({ from: 'b:1', ...s })));
    expect(c.isUp('b:1')).toBe(true);
    let r = 1;
    for (; r < 10 && c.isUp('b:1'); r++) round([a, c], t + r * 200);
    expect(c.isUp('b:1')).toBe(false);
    expect(r).toBeLessThan(5); // well before the failure detector would have convicted it
    expect(c.endpointState('b:1')?.applicationStates.get('STATUS')?.value).toBe(STATUS_SHUTDOWN);
  });

  it('ignores a SHUTDOWN about someone else or an older generation', () => {
    const [a] = upPair();
    a.receive('c:1', { kind: 'shutdown', endpoint: 'b:1', generation: GEN }, T0 + 2_000);
    a.receive('b:1', { kind: 'shutdown', endpoint: 'b:1', generation: GEN - 1 }, T0 + 2_000);
    a.receive('q:1', { kind: 'shutdown', endpoint: 'q:1', generation: GEN }, T0 + 2_000);
    expect(a.drain()).toEqual([]);
    expect(a.isUp('b:1')).toBe(true);
    expect(a.stats().ignoredShutdowns).toBe(3);
  });

  it('a restarted node (higher generation) replaces its old state everywhere and comes back UP', () => {
    const [a, b, c] = upPair();
    b.setApplicationState('LOAD', '123');
    round([a, b, c], T0 + 2_000);
    expect(a.endpointState('b:1')?.applicationStates.has('LOAD')).toBe(true);
    const b2 = gossiper('b:1', { generation: GEN + 60, applicationStates: { STATUS: 'NORMAL', HOST_ID: 'host-b:1' } });
    const nodes = [a, b2, c];
    const events = new Map<string, GossipEvent[]>();
    for (let r = 1; r <= 5; r++) {
      const { events: e } = round(nodes, T0 + 2_000 + r * 200);
      for (const [k, v] of e) events.set(k, [...(events.get(k) ?? []), ...v]);
    }
    for (const g of [a, c]) {
      expect(g.endpointState('b:1')?.heartBeat.generation).toBe(GEN + 60);
      expect(g.endpointState('b:1')?.applicationStates.has('LOAD')).toBe(false);
      expect(g.isUp('b:1')).toBe(true);
      expect(kinds(events.get(g.self), 'b:1')).toContain('restarted');
    }
  });

  it('removeEndpoint forgets a node and quarantines it against gossip, then lets it back', () => {
    const [a, , c] = upPair();
    a.removeEndpoint('b:1', T0 + 2_000);
    expect(kinds(a.drain())).toEqual(['removed']);
    expect(a.endpoints()).not.toContain('b:1');
    round([a, c], T0 + 2_200); // c still knows b
    expect(a.endpoints()).not.toContain('b:1');
    round([a, c], T0 + 62_200); // quarantine (60 s) over
    round([a, c], T0 + 62_400);
    expect(a.endpoints()).toContain('b:1');
  });
});

describe('gossiper: bounds', () => {
  it('adopts at most maxEndpoints endpoints and counts the rest', () => {
    const a = gossiper('a:1', { maxEndpoints: 3 });
    const states = ['b:1', 'c:1', 'd:1', 'e:1'].map((endpoint) => ({ endpoint, state: newEndpointState(GEN, 1) }));
    a.receive('b:1', { kind: 'ack2', states }, T0);
    expect(a.endpoints()).toEqual(['a:1', 'b:1', 'c:1']);
    expect(a.stats().droppedEndpoints).toBe(2);
    // Nor does it ask for them.
    a.drain();
    a.receive('b:1', { kind: 'syn', clusterName: 'test', digests: [{ endpoint: 'z:1', generation: GEN, maxVersion: 4 }] }, T0);
    const ack = sends(a.drain())[0]?.message as GossipAck | undefined;
    expect(ack?.digests ?? []).toEqual([]);
  });

  it('packs large states into ACKs under the message size limit and sends the rest later', () => {
    const a = gossiper('a:1');
    const big = 'x'.repeat(MAX_APPLICATION_STATE_VALUE_BYTES);
    const states = Array.from({ length: 30 }, (_, i) => ({
      endpoint: `n${i}:1`,
      state: withApplicationState(newEndpointState(GEN, 1), 'TOKENS', big, 2),
    }));
    a.receive('n0:1', { kind: 'ack2', states }, T0);
    a.drain();
    a.receive('new:1', { kind: 'syn', clusterName: 'test', digests: [{ endpoint: 'new:1', generation: GEN, maxVersion: 3 }] }, T0);
    const ack = sends(a.drain())[0]?.message as GossipAck;
    expect(ack.states.length).toBeGreaterThan(5);
    expect(ack.states.length).toBeLessThan(31);
    expect(encodeGossipMessage(ack).length).toBeLessThanOrEqual(MAX_GOSSIP_MESSAGE_BYTES);
    expect(a.stats().deferredStates).toBe(31 - ack.states.length);
  });

  it('refuses oversized or malformed local application states', () => {
    const a = gossiper('a:1');
    expect(() => a.setApplicationState('lower', 'x')).toThrow();
    expect(() => a.setApplicationState('LOAD', 'x'.repeat(MAX_APPLICATION_STATE_VALUE_BYTES + 1))).toThrow();
    a.setApplicationState('LOAD', '1');
    a.setApplicationState('LOAD', '2');
    expect(a.endpointState('a:1')?.applicationStates.get('LOAD')).toEqual({ value: '2', version: 4 });
  });
});
