import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import {
  clockSeqAndNode,
  makeRandomUuid,
  makeTimeUuid,
  MAX_TIMEUUID_UNIX_MS,
  maxTimeUuid,
  minTimeUuid,
  parseUuid,
  timeUuidTicks,
  timeUuidUnixMs,
  UUID_EPOCH_UNIX_MS,
  uuidFromBytes,
  uuidToBytes,
  uuidVersion,
} from '../../../src/schema/timeuuid.js';
import { compareTimeUuids, compareUuids } from '../../../src/schema/value-compare.js';

// Expected values computed independently with Python's uuid module (fields=…, .time).
describe('version-1 UUIDs', () => {
  it('lays out the 60-bit timestamp, version and clock-seq-and-node like RFC 4122', () => {
    const ms = Date.UTC(2024, 4, 1, 12);
    const u = makeTimeUuid(ms, 1234, clockSeqAndNode(0x1abc, 0x0123456789abn));
    expect(u).toBe('55fd24d2-07b2-11ef-9abc-0123456789ab');
    expect(uuidVersion(u)).toBe(1);
    expect(timeUuidTicks(u)).toBe((BigInt(ms) + 12_219_292_800_000n) * 10_000n + 1234n);
    expect(timeUuidUnixMs(u)).toBe(ms);
  });

  it('reads the time of a UUID made elsewhere', () => {
    expect(timeUuidTicks('6bddc89a-5644-11e4-97fc-56847afe9799')).toBe(136328740595419290n);
    expect(timeUuidUnixMs('6bddc89a-5644-11e4-97fc-56847afe9799')).toBe(1413581259541);
  });

  it('minTimeuuid and maxTimeuuid match Cassandra for the epoch', () => {
    expect(minTimeUuid(0)).toBe('13814000-1dd2-11b2-8080-808080808080');
    expect(maxTimeUuid(0)).toBe('1381670f-1dd2-11b2-7f7f-7f7f7f7f7f7f');
  });

  it('every timeuuid of a millisecond lies between its min and max, in timeuuid and uuid order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: UUID_EPOCH_UNIX_MS, max: MAX_TIMEUUID_UNIX_MS }),
        fc.integer({ min: 0, max: 9999 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (ms, sub, low) => {
          const u = makeTimeUuid(ms, sub, low);
          expect(timeUuidUnixMs(u)).toBe(ms);
          expect(compareTimeUuids(minTimeUuid(ms), u)).toBeLessThanOrEqual(0);
          expect(compareTimeUuids(u, maxTimeUuid(ms))).toBeLessThanOrEqual(0);
          if (ms > UUID_EPOCH_UNIX_MS) expect(compareTimeUuids(maxTimeUuid(ms - 1), u)).toBeLessThan(0);
          expect(Math.sign(compareUuids(minTimeUuid(ms), maxTimeUuid(ms)))).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses times outside the 60-bit range', () => {
    expect(() => minTimeUuid(UUID_EPOCH_UNIX_MS - 1)).toThrow(InvalidRequest);
    expect(() => maxTimeUuid(MAX_TIMEUUID_UNIX_MS + 1)).toThrow(InvalidRequest);
    expect(() => makeTimeUuid(1.5, 0, 0n)).toThrow(InvalidRequest);
    expect(maxTimeUuid(MAX_TIMEUUID_UNIX_MS).startsWith('ffff')).toBe(true);
  });

  it('refuses to read the time of a non-version-1 UUID', () => {
    expect(() => timeUuidUnixMs('550e8400-e29b-41d4-a716-446655440000')).toThrow(InvalidRequest);
  });
});

describe('version-4 UUIDs and text', () => {
  it('sets version and variant bits over the given random bytes', () => {
    expect(makeRandomUuid(Buffer.alloc(16, 0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(makeRandomUuid(Buffer.alloc(16, 0))).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('parses either case to the canonical form and round-trips bytes', () => {
    expect(parseUuid('550E8400-E29B-41D4-A716-446655440000')).toBe('550e8400-e29b-41d4-a716-446655440000');
    expect(parseUuid('550e8400e29b41d4a716446655440000')).toBeNull();
    expect(parseUuid('550e8400-e29b-41d4-a716-44665544000g')).toBeNull();
    const u = '550e8400-e29b-41d4-a716-446655440000';
    expect(uuidToBytes(u).toString('hex')).toBe('550e8400e29b41d4a716446655440000');
    expect(uuidFromBytes(uuidToBytes(u))).toBe(u);
  });
});
