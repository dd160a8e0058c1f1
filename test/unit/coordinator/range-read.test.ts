import { describe, expect, it } from 'vitest';
import { decodeRangeCommand, decodeRangePage, encodeRangeCommand, encodeRangePage, mergeRangePages } from '../../../src/coordinator/range-read.js';
import { partitionStorageKey, rowStorageCk } from '../../../src/storage/data/keys.js';
import type { Partition } from '../../../src/storage/data/types.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import { cell, row, update, values } from '../../helpers/rows.js';

const NOW = 1_700_000_000;
const p = (token: bigint, key: string, rows: Partition['rows']): Partition => update(token, key, [...rows]);
const at = (part: Partition, clustering: string) => ({ pkey: partitionStorageKey(part.token, part.key), ck: rowStorageCk(Buffer.from(clustering)) });

describe('range pages from several nodes', () => {
  it('merges a partition held by two replicas by the storage rules', () => {
    const older = p(5n, 'a', [row('r1', [cell('v', 'old', 1)])]);
    const newer = p(5n, 'a', [row('r1', [cell('v', 'new', 2)]), row('r2', [cell('v', 'x', 2)])]);
    const merged = mergeRangePages([{ partitions: [older], next: null }, { partitions: [newer], next: null }], NOW);
    expect(merged.next).toBeNull();
    expect(merged.partitions).toHaveLength(1);
    expect(merged.partitions[0]!.rows.map(values)).toEqual([{ v: 'new' }, { v: 'x' }]);
  });

  it('cuts the merged page where the first node stopped short, so the next page loses nothing', () => {
    const a1 = p(1n, 'a', [row('r1', [cell('v', '1', 1)]), row('r2', [cell('v', '2', 1)])]);
    const b1 = p(1n, 'a', [row('r3', [cell('v', '3', 1)])]);
    const b2 = p(9n, 'b', [row('r1', [cell('v', '4', 1)])]);
    // Node A stopped after a/r2; node B returned further rows that must wait for the next page.
    const merged = mergeRangePages([{ partitions: [a1], next: at(a1, 'r2') }, { partitions: [b1, b2], next: null }], NOW);
    expect(merged.next).toEqual(at(a1, 'r2'));
    expect(merged.partitions.map((x) => x.key.toString())).toEqual(['a']);
    expect(merged.partitions[0]!.rows.map(values)).toEqual([{ v: '1' }, { v: '2' }]);
  });

  it('round-trips commands and pages, and refuses garbage', () => {
    const part = p(3n, 'k', [row('c', [cell('v', 'x', 7)])]);
    const command = { tableId: 't1', query: { startToken: -5n, endToken: 99n, resume: at(part, 'c'), pageRows: 10 } };
    expect(decodeRangeCommand(encodeRangeCommand(command))).toEqual(command);
    const page = { partitions: [part], next: at(part, 'c') };
    const back = decodeRangePage(encodeRangePage(page));
    expect(back.next).toEqual(page.next);
    expect(back.partitions[0]!.rows.map(values)).toEqual([{ v: 'x' }]);
    expect(() => decodeRangePage(Buffer.from([9, 9, 9]))).toThrow(CorruptDataError);
    expect(() => decodeRangeCommand(Buffer.from([1]))).toThrow(CorruptDataError);
  });
});
