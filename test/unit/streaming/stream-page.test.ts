/**
 * The stream page format: entries as mergedEntries yields them round-trip into partition
 * updates (headers, range tombstones, row versions, TTL cells), partitions split across pages
 * reassemble, pages respect their size bound, and malformed pages are refused with a
 * CorruptDataError.
 */
import { describe, expect, it } from 'vitest';
import { encodeHeader, encodeRow } from '../../../src/storage/data/codec.js';
import { partitionStorageKey, rowStorageCk } from '../../../src/storage/data/keys.js';
import type { PartitionHeader, PartitionUpdate, Row } from '../../../src/storage/data/types.js';
import { decodeStreamPage, encodeStreamPage, encodeStreamPages, StreamPageWriter, type StreamEntry } from '../../../src/streaming/stream-page.js';
import { MAX_STREAM_PAGE_BYTES, streamPageBytesFor } from '../../../src/streaming/limits.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { b, bound, cell, del, rangeTombstone, row } from '../../helpers/rows.js';

function headerEntry(token: bigint, key: string, header: PartitionHeader): StreamEntry {
  return { kind: 'header', pkey: partitionStorageKey(token, b(key)), bytes: encodeHeader(header) };
}

function rowEntry(token: bigint, key: string, r: Row): StreamEntry {
  return { kind: 'row', pkey: partitionStorageKey(token, b(key)), ck: rowStorageCk(r.clustering), bytes: encodeRow(r) };
}

/** Normalises decoded updates for comparison: plain buffers, no undefined fields. */
function plain(updates: PartitionUpdate[]): unknown {
  return JSON.parse(JSON.stringify(updates, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

/** Concatenates the updates of several pages by partition (what applying them in turn amounts to). */
function joined(updates: PartitionUpdate[]): Map<string, { header: unknown; rows: string[] }> {
  const out = new Map<string, { header: unknown; rows: string[] }>();
  for (const u of updates) {
    const id = `${u.token}/${u.key.toString()}`;
    const entry = out.get(id) ?? { header: null, rows: [] };
    if (u.deletion !== undefined || u.rangeTombstones.length > 0) entry.header = plain([{ ...u, rows: [] }]);
    entry.rows.push(...u.rows.map((r) => r.clustering.toString()));
    out.set(id, entry);
  }
  return out;
}

const versioned = row('c1', [cell('v', 'x', 10), cell('l', 'e1', 11, { path: b('k1') }), cell('gone', null, 12, { ldt: 1_700_000_000 })], {
  liveness: { ts: 10, ttl: 0, expiresAt: 0 },
  version: Buffer.from([1, 2, 3, 4]),
  complexDeletions: [{ column: 'l', deletion: del(9) }],
});
const expiring = row('c2', [cell('v', 'short', 20, { ttl: 60, ldt: 1_700_000_060 })], { liveness: { ts: 20, ttl: 60, expiresAt: 1_700_000_060 } });
const deletedRow = row('c3', [], { deletion: del(30) });
const header: PartitionHeader = { deletion: del(5), rangeTombstones: [rangeTombstone(bound('d', true), bound('f', false), del(40)), rangeTombstone(null, bound('a', true), del(41))] };

describe('stream page', () => {
  it('round-trips headers, range tombstones, row versions, TTL cells and row tombstones into one update per partition', () => {
    const entries: StreamEntry[] = [
      headerEntry(-5n, 'p1', header),
      rowEntry(-5n, 'p1', versioned),
      rowEntry(-5n, 'p1', expiring),
      rowEntry(-5n, 'p1', deletedRow),
      headerEntry(7n, 'p2', { rangeTombstones: [], deletion: del(50) }),
      rowEntry(9n, 'p3', row('', [cell('v', 'only', 60)])),
    ];
    const updates = decodeStreamPage(encodeStreamPage(entries));
    expect(updates.map((u) => [u.token, u.key.toString(), u.rows.length])).toEqual([
      [-5n, 'p1', 3],
      [7n, 'p2', 0],
      [9n, 'p3', 1],
    ]);
    expect(plain([updates[0]!])).toEqual(plain([{ token: -5n, key: b('p1'), deletion: header.deletion, rangeTombstones: header.rangeTombstones, rows: [versioned, expiring, deletedRow] }]));
    expect(updates[1]!.deletion).toEqual(del(50));
    expect(updates[2]!.deletion).toBeUndefined();
    expect(updates[2]!.rangeTombstones).toEqual([]);
    expect(updates[0]!.rows[0]!.version).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('splits a partition across pages within the size bound, counting it once', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(`r${String(i).padStart(3, '0')}`, [cell('v', 'x'.repeat(50), i + 1)]));
    const entries: StreamEntry[] = [headerEntry(1n, 'big', header), ...rows.map((r) => rowEntry(1n, 'big', r)), rowEntry(2n, 'next', rows[0]!)];
    const pages = encodeStreamPages(entries, 512);
    expect(pages.length).toBeGreaterThan(3);
    for (const page of pages) expect(page.bytes.length).toBeLessThanOrEqual(512);
    expect(pages.reduce((n, p) => n + p.rows, 0)).toBe(41);
    expect(pages.reduce((n, p) => n + p.partitions, 0)).toBe(2);
    const decoded = pages.flatMap((p) => decodeStreamPage(p.bytes));
    // The header travels once, with the first rows; later pieces carry rows only.
    expect(decoded.filter((u) => u.deletion !== undefined)).toHaveLength(1);
    const whole = joined(decoded);
    expect([...whole.keys()]).toEqual(['1/big', '2/next']);
    expect(whole.get('1/big')!.rows).toEqual(rows.map((r) => r.clustering.toString()));
    expect(decoded.flatMap((u) => u.rows.map((r) => r.cells[0]!.ts)).slice(0, 40)).toEqual(rows.map((_, i) => i + 1));
  });

  it('puts an entry larger than the page bound alone in its own page', () => {
    const huge = row('h', [cell('v', 'y'.repeat(4000), 1)]);
    const pages = encodeStreamPages([rowEntry(1n, 'a', row('a', [cell('v', 'small', 1)])), rowEntry(2n, 'b', huge), rowEntry(3n, 'c', row('c', [cell('v', 'small', 1)]))], 1024);
    expect(pages.map((p) => p.rows)).toEqual([1, 1, 1]);
    expect(pages[1]!.bytes.length).toBeGreaterThan(4000);
    expect(decodeStreamPage(pages[1]!.bytes)[0]!.rows[0]!.cells[0]!.value!.length).toBe(4000);
  });

  it('refuses an out-of-order entry as a bug, not a page', () => {
    const writer = new StreamPageWriter(1024);
    writer.add(rowEntry(5n, 'p', row('a', [cell('v', '1', 1)])));
    expect(() => writer.add(headerEntry(5n, 'p', header))).toThrow(/header comes before its rows/);
  });

  describe('rejects malformed pages with CorruptDataError', () => {
    const good = encodeStreamPage([headerEntry(-5n, 'p1', header), rowEntry(-5n, 'p1', versioned), rowEntry(-5n, 'p1', expiring), rowEntry(8n, 'p2', deletedRow)]);
    const pkey = partitionStorageKey(1n, b('k'));
    /** A page of one partition without header, from raw parts. */
    const rawPage = (...parts: number[][]): Buffer => Buffer.concat([Buffer.from([1, 1, 0, 0, 0, pkey.length]), pkey, ...parts.map((p) => Buffer.from(p))]);
    // Single-partition pages, without their 5-byte page head, to splice by hand.
    const p1 = encodeStreamPage([rowEntry(-5n, 'p1', expiring)]).subarray(5);
    const p2 = encodeStreamPage([rowEntry(8n, 'p2', deletedRow)]).subarray(5);
    const twoPartitions = (...parts: Buffer[]): Buffer => Buffer.concat([Buffer.from([1, 2, 0, 0, 0]), ...parts]);
    const twoRows = encodeStreamPage([rowEntry(1n, 'k', row('b', [cell('v', '1', 1)])), rowEntry(1n, 'k', row('c', [cell('v', '1', 1)]))]);
    const swapped = Buffer.from(twoRows);
    swapped[swapped.indexOf(Buffer.from('c'), 6 + pkey.length)] = 'a'.charCodeAt(0);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['unknown format', Buffer.concat([Buffer.from([9]), good.subarray(1)])],
      ['zero partitions', Buffer.from([1, 0, 0, 0, 0])],
      ['huge partition count', Buffer.concat([Buffer.from([1, 0xff, 0xff, 0xff, 0x7f]), good.subarray(5)])],
      ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
      ['truncated', good.subarray(0, good.length - 3)],
      ['short partition key', Buffer.from([1, 1, 0, 0, 0, 3, 1, 2, 3, 0, 1, 0, 0, 0])],
      ['partitions out of order', twoPartitions(p2, p1)],
      ['the same partition twice', twoPartitions(p1, p1)],
      ['an empty partition', rawPage([0, 0, 0, 0, 0])],
      ['unknown partition flags', rawPage([0x80, 0, 0, 0, 0])],
      ['a huge row count', rawPage([0, 0xff, 0xff, 0xff, 0xff])],
      ['rows out of clustering order', swapped],
      ['a corrupt row', rawPage([0, 1, 0, 0, 0], [1, 'a'.charCodeAt(0)], [1, 0xf0])],
      ['a row with trailing bytes', rawPage([0, 1, 0, 0, 0], [1, 'a'.charCodeAt(0)], [3, 0, 0, 7])],
    ];

    it.each(cases)('%s', (_name, bytes) => {
      expect(() => decodeStreamPage(bytes)).toThrow(CorruptDataError);
    });

    it('and flipping any single byte never crashes the decoder (it throws CorruptDataError or decodes)', () => {
      for (let i = 0; i < good.length; i++) {
        for (const flip of [0x01, 0x80, 0xff]) {
          const bad = Buffer.from(good);
          bad[i] = bad[i]! ^ flip;
          try {
            decodeStreamPage(bad);
          } catch (err) {
            expect(err).toBeInstanceOf(CorruptDataError);
          }
        }
      }
    });
  });
});

describe('streamPageBytesFor', () => {
  it('keeps a page within half a frame and a quarter commit-log segment, and at most 1 MiB', () => {
    const MIB = 1024 * 1024;
    expect(streamPageBytesFor({ maxMessageBytes: 64 * MIB, commitlogSegmentBytes: 32 * MIB })).toBe(MAX_STREAM_PAGE_BYTES);
    expect(streamPageBytesFor({ maxMessageBytes: 64 * MIB, commitlogSegmentBytes: MIB })).toBe(MIB / 4);
    expect(streamPageBytesFor({ maxMessageBytes: 100_000, commitlogSegmentBytes: 32 * MIB })).toBe(50_000);
    expect(streamPageBytesFor({ maxMessageBytes: 1024, commitlogSegmentBytes: MIB })).toBe(512);
  });
});
