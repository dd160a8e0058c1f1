import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { newEndpointState, withApplicationState, withHeartBeatVersion, type EndpointState } from '../../../src/cluster/gossip/endpoint-state.js';
import { decodeGossipMessage, encodeGossipMessage } from '../../../src/cluster/gossip/gossip-codec.js';
import {
  MAX_APPLICATION_STATE_VALUE_BYTES,
  MAX_APPLICATION_STATES_PER_ENDPOINT,
  MAX_DIGESTS_PER_MESSAGE,
  MAX_ENDPOINT_ID_LENGTH,
  MAX_GOSSIP_MESSAGE_BYTES,
} from '../../../src/cluster/gossip/limits.js';
import type { GossipMessage } from '../../../src/cluster/gossip/messages.js';
import { loadProto } from '../../../src/proto/load.js';
import { SeededRandom } from '../../../src/runtime/random.js';
import { CorruptDataError } from '../../../src/util/bytes.js';

const GEN = 1_700_000_000;
const state: EndpointState = withHeartBeatVersion(
  withApplicationState(withApplicationState(newEndpointState(GEN, 0), 'STATUS', 'NORMAL', 1), 'TOKENS', '-5,7', 2),
  Number.MAX_SAFE_INTEGER,
);

const samples: GossipMessage[] = [
  { kind: 'syn', clusterName: 'prod', digests: [{ endpoint: '10.0.0.1:7000', generation: GEN, maxVersion: 3 }, { endpoint: '[::1]:7000', generation: 1, maxVersion: 0 }] },
  { kind: 'syn', clusterName: 'empty', digests: [] },
  { kind: 'ack', digests: [{ endpoint: 'a:1', generation: GEN, maxVersion: 0 }], states: [{ endpoint: 'b:1', state }] },
  { kind: 'ack', digests: [], states: [] },
  { kind: 'ack2', states: [{ endpoint: 'b:1', state }, { endpoint: 'c:1', state: newEndpointState(GEN + 1, 9) }] },
  { kind: 'shutdown', endpoint: 'a:1', generation: GEN },
];

/** Structural form without Map identity, for comparisons. */
function comparable(m: GossipMessage): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v)));
}

function envelope(): protobuf.Type {
  // Hand-built frames below use the same schema (and field names) the codec loads.
  return loadProto('gossip.proto').lookupType('ringtail.gossip.GossipMessage');
}

function expectCorrupt(bytes: Uint8Array, why: RegExp): void {
  expect(() => decodeGossipMessage(bytes)).toThrow(CorruptDataError);
  expect(() => decodeGossipMessage(bytes)).toThrow(why);
}

describe('gossip codec', () => {
  it('round-trips every message kind, including the pinned version 2^53 - 1', () => {
    for (const m of samples) expect(comparable(decodeGossipMessage(encodeGossipMessage(m)))).toEqual(comparable(m));
  });

  it('skips unknown fields from a newer peer', () => {
    const bytes = encodeGossipMessage(samples[5] as GossipMessage);
    // Append field 15 (varint) and field 16 (length-delimited) to the envelope.
    const extra = protobuf.Writer.create().uint32((15 << 3) | 0).uint32(7).uint32((16 << 3) | 2).bytes(new Uint8Array([1, 2, 3])).finish();
    const joined = new Uint8Array([...bytes, ...extra]);
    expect(comparable(decodeGossipMessage(joined))).toEqual(comparable(samples[5] as GossipMessage));
  });

  it('rejects an oversized message before parsing it', () => {
    expectCorrupt(new Uint8Array(MAX_GOSSIP_MESSAGE_BYTES + 1), /exceeds/);
  });

  it('rejects repeated fields over their limit without materialising them', () => {
    const type = envelope();
    const digests = Array.from({ length: MAX_DIGESTS_PER_MESSAGE + 1 }, () => ({}));
    expectCorrupt(type.encode({ syn: { cluster_name: 'c', digests } }).finish(), /too many GossipSyn\.digests/);
    const apps = Array.from({ length: MAX_APPLICATION_STATES_PER_ENDPOINT + 1 }, (_, i) => ({ key: `K${i}`, value: '', version: 1 }));
    expectCorrupt(type.encode({ ack2: { states: [{ endpoint: 'a', generation: 1, application_states: apps }] } }).finish(), /too many EndpointState\.application_states/);
  });

  it('rejects strings over their limit from the length prefix', () => {
    const type = envelope();
    expectCorrupt(type.encode({ shutdown: { endpoint: 'x'.repeat(MAX_ENDPOINT_ID_LENGTH + 1), generation: 1 } }).finish(), /GossipShutdown\.endpoint longer/);
    const value = 'v'.repeat(MAX_APPLICATION_STATE_VALUE_BYTES + 1);
    expectCorrupt(type.encode({ ack2: { states: [{ endpoint: 'a', generation: 1, application_states: [{ key: 'K', value, version: 1 }] }] } }).finish(), /VersionedValue\.value longer/);
    // A length prefix claiming 2^31 bytes with nothing behind it.
    expectCorrupt(new Uint8Array([(4 << 3) | 2, 10, (1 << 3) | 2, 0x80, 0x80, 0x80, 0x80, 0x08]), /overruns|longer/);
  });

  it('rejects singular fields twice, two oneof members, groups and an empty body', () => {
    const shutdown = envelope().encode({ shutdown: { endpoint: 'a', generation: 1 } }).finish();
    const syn = envelope().encode({ syn: { cluster_name: 'c' } }).finish();
    expectCorrupt(new Uint8Array([...shutdown, ...shutdown]), /too many GossipMessage\.shutdown/);
    expectCorrupt(new Uint8Array([...shutdown, ...syn]), /more than one member/);
    expectCorrupt(new Uint8Array([(9 << 3) | 3, (9 << 3) | 4]), /wire type 3/);
    expectCorrupt(new Uint8Array([]), /no body/);
    expectCorrupt(new Uint8Array([(1 << 3) | 0, 1]), /expected length-delimited/);
  });

  it('rejects meaningless values: generation 0, versions above 2^53 - 1, bad keys, duplicate keys, empty endpoints', () => {
    const type = envelope();
    const st = (over: Record<string, unknown>): Uint8Array =>
      type.encode({ ack2: { states: [{ endpoint: 'a:1', generation: 5, heartbeat_version: 1, application_states: [], ...over }] } }).finish();
    expectCorrupt(st({ generation: 0 }), /generation must be positive/);
    expectCorrupt(st({ heartbeat_version: '9007199254740992' }), /out of range/);
    expectCorrupt(st({ endpoint: '' }), /endpoint missing/);
    expectCorrupt(st({ application_states: [{ key: 'lower', value: '', version: 1 }] }), /bad application state key/);
    expectCorrupt(st({ application_states: [{ key: 'A', value: '', version: 1 }, { key: 'A', value: '', version: 2 }] }), /twice/);
    expectCorrupt(type.encode({ shutdown: { endpoint: 'a', generation: 0 } }).finish(), /generation must be positive/);
  });

  it('random bytes and mutated messages only ever throw CorruptDataError', () => {
    const random = new SeededRandom(Number(process.env.GOSSIP_SEED ?? 7));
    const valid = samples.map(encodeGossipMessage);
    for (let i = 0; i < 5_000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = random.nextBytes(random.nextInt(64));
      } else {
        bytes = Uint8Array.from(random.pick(valid));
        for (let k = 0; k < 1 + random.nextInt(4); k++) if (bytes.length > 0) bytes[random.nextInt(bytes.length)] = random.nextInt(256);
      }
      try {
        decodeGossipMessage(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptDataError);
      }
    }
  });

  it('any message with in-bound content round-trips (property)', () => {
    const arbKey = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/);
    const arbEndpoint = fc.string({ minLength: 1, maxLength: 40 });
    const arbVersion = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const arbGen = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const arbDigest = fc.record({ endpoint: arbEndpoint, generation: arbGen, maxVersion: arbVersion });
    const arbState = fc.record({
      endpoint: arbEndpoint,
      state: fc.record({
        heartBeat: fc.record({ generation: arbGen, version: arbVersion }),
        applicationStates: fc.uniqueArray(fc.tuple(arbKey, fc.record({ value: fc.string({ maxLength: 30 }), version: arbVersion })), { selector: ([k]) => k, maxLength: 5 }).map((e) => new Map(e)),
      }),
    });
    const arbMessage: fc.Arbitrary<GossipMessage> = fc.oneof(
      fc.record({ kind: fc.constant('syn' as const), clusterName: fc.string({ maxLength: 20 }), digests: fc.array(arbDigest, { maxLength: 5 }) }),
      fc.record({ kind: fc.constant('ack' as const), digests: fc.array(arbDigest, { maxLength: 5 }), states: fc.array(arbState, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('ack2' as const), states: fc.array(arbState, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('shutdown' as const), endpoint: arbEndpoint, generation: arbGen }),
    );
    fc.assert(fc.property(arbMessage, (m) => {
      expect(comparable(decodeGossipMessage(encodeGossipMessage(m)))).toEqual(comparable(m));
    }));
  });
});
