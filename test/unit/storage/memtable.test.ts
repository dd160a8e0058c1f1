import { describe, expect, it } from 'vitest';
import { splitStorageKey } from '../../../src/storage/data/keys.js';
import { decodeMemRow, Memtable } from '../../../src/storage/memtable/memtable.js';
import { cell, row, update, values } from '../../helpers/rows.js';


describe('memtable', () => {
  it('keeps partitions in (token, key) order and rows in clustering order', () => {
    const m = new Memtable();
    m.apply(update(5n, 'b', [row('z', [cell('a', '1', 1)]), row('m', [cell('a', '2', 1)])]), null);
    m.apply(update(-3n, 'x', [row('q', [cell('a', '3', 1)])]), null);
    m.apply(update(5n, 'a', [row('a', [cell('a', '4', 1)])]), null);
    const order = [...m.partitionsFrom(null)].map((p) => {
      const { token, key } = splitStorageKey(p.pkey);
      return `${token}:${key.toString()}`;
    });
    expect(order).toEqual(['-3:x', '5:a', '5:b']);
    const b = [...m.partitionsFrom(null)][2]!;
    expect(b.rows.map((r) => r.clustering.toString())).toEqual(['m', 'z']);
  });

  it('merges a cell per write and accounts its size', () => {
    const m = new Memtable();
    m.apply(update(1n, 'k', [row('r', [cell('a', 'old', 1), cell('b', 'keep', 1)])]), { segment: 1, offset: 10 });
    const before = m.bytes;
    m.apply(update(1n, 'k', [row('r', [cell('a', 'a much longer new value', 2)])]), { segment: 1, offset: 20 });
    const p = [...m.partitionsFrom(null)][0]!;
    expect(values(decodeMemRow(p.rows[0]!))).toEqual({ a: 'a much longer new value', b: 'keep' });
    expect(m.bytes).toBeGreaterThan(before);
    expect(m.rowCount).toBe(1);
    expect(m.firstPosition).toEqual({ segment: 1, offset: 10 });
    expect(m.lastPosition).toEqual({ segment: 1, offset: 20 });
  });

  it('sorts cells a caller sent out of order, last duplicate winning', () => {
    const m = new Memtable();
    m.apply(update(1n, 'k', [row('r', [cell('b', '1', 1), cell('a', '2', 1), cell('b', '3', 1)])]), null);
    const cells = decodeMemRow([...m.partitionsFrom(null)][0]!.rows[0]!).cells;
    expect(cells.map((c) => `${c.column}=${c.value!.toString()}`)).toEqual(['a=2', 'b=3']);
  });

  it('keeps no reference to the caller\'s buffers', () => {
    const m = new Memtable();
    const value = Buffer.from('original');
    const u = update(1n, 'k', [row('r', [cell('a', 'x', 1)])]);
    m.apply({ ...u, rows: [{ ...u.rows[0]!, cells: [{ ...u.rows[0]!.cells[0]!, value }] }] }, null);
    value.write('mutated!');
    expect(values(decodeMemRow([...m.partitionsFrom(null)][0]!.rows[0]!))).toEqual({ a: 'original' });
  });

  it('is immutable once sealed', () => {
    const m = new Memtable();
    m.seal();
    expect(() => m.apply(update(1n, 'k', []), null)).toThrow(/sealed/);
  });
});
