import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionUpdate } from '../../../src/coordinator/versioned-write.js';
import { InvalidRequest } from '../../../src/errors.js';
import type { Row } from '../../../src/storage/data/types.js';
import { encodeCausalContext, MAX_CONTEXT_ROWS, parseCausalContext, rowId } from '../../../src/versioning/causal-context.js';
import { SIBLINGS_MAX } from '../../../src/versioning/dotted-version-vector.js';
import { mergeRowVersions, nextRowVersion, rowContext, siblingRows, versionCount } from '../../../src/versioning/row-version.js';

const CK = Buffer.alloc(0);
const A = 'host-a';
const B = 'host-b';

function written(value: string, ts: number): Row {
  return { clustering: CK, cells: [{ column: 'v', value: Buffer.from(value), ts, ttl: 0, ldt: 0 }] };
}

function valuesOf(blob: Buffer | undefined): string[] {
  return siblingRows(blob, CK)
    .map((r) => r.cells[0]!.value!.toString())
    .sort();
}

describe('row versions (lww mode)', () => {
  it('a write through one replica supersedes what that replica holds', () => {
    const v1 = nextRowVersion('lww', undefined, null, A, written('x', 1)).version;
    const v2 = nextRowVersion('lww', v1, null, A, written('y', 2)).version;
    expect(versionCount(v2)).toBe(1);
    expect(rowContext(v2)).toEqual(new Map([[A, 2]]));
    // lww keeps only dots, no values
    expect(siblingRows(v2, CK)).toEqual([]);
  });

  it('writes coordinated by two replicas that did not see each other are concurrent until the next write', () => {
    const base = nextRowVersion('lww', undefined, null, A, written('x', 1)).version;
    const onA = nextRowVersion('lww', base, null, A, written('a', 2)).version;
    const onB = nextRowVersion('lww', base, null, B, written('b', 3)).version;
    const merged = mergeRowVersions(onA, onB)!;
    expect(versionCount(merged)).toBe(2);
    expect(mergeRowVersions(onB, onA)).toEqual(merged);
    const next = nextRowVersion('lww', merged, null, B, written('c', 4)).version;
    expect(versionCount(next)).toBe(1);
    // A replica that still holds the old conflict learns the resolution by merging.
    expect(mergeRowVersions(merged, next)).toEqual(next);
  });
});

describe('row versions (siblings mode)', () => {
  it('a blind write keeps what it did not see as a sibling; a write with the context supersedes it', () => {
    const v1 = nextRowVersion('siblings', undefined, null, A, written('x', 1)).version;
    const blind = nextRowVersion('siblings', v1, null, A, written('y', 2));
    expect(blind.siblings).toBe(2);
    expect(valuesOf(blind.version)).toEqual(['x', 'y']);
    const resolved = nextRowVersion('siblings', blind.version, rowContext(blind.version), B, written('z', 3));
    expect(valuesOf(resolved.version)).toEqual(['z']);
  });

  it('a context covers exactly what was read: a concurrent write it did not see survives', () => {
    const v1 = nextRowVersion('siblings', undefined, null, A, written('x', 1)).version;
    const read = rowContext(v1);
    const concurrent = nextRowVersion('siblings', v1, null, B, written('other', 2)).version; // on B, not seen by the reader
    const onA = nextRowVersion('siblings', v1, read, A, written('mine', 3)).version;
    const merged = mergeRowVersions(onA, concurrent)!;
    expect(valuesOf(merged)).toEqual(['mine', 'other']);
  });

  it('refuses a write that would leave more than the sibling limit, with a clear error', () => {
    let v: Buffer | undefined;
    for (let i = 0; i < SIBLINGS_MAX; i++) v = nextRowVersion('siblings', v, null, A, written(`v${i}`, i + 1)).version;
    expect(versionCount(v)).toBe(SIBLINGS_MAX);
    expect(() => nextRowVersion('siblings', v, null, A, written('one more', 1000))).toThrow(InvalidRequest);
    expect(() => nextRowVersion('siblings', v, null, A, written('one more', 1000))).toThrow(/Too many concurrent versions/);
    // A write with the read's context resolves them all.
    expect(versionCount(nextRowVersion('siblings', v, rowContext(v), A, written('resolved', 1001)).version)).toBe(1);
  });

  it('replica merge is a join, and replicas that exchange everything converge', () => {
    // Three replicas; each write goes through one of them (on its own state, as the write path
    // does), with or without the context of an earlier read of any replica; replicas merge
    // each other's states at random, as replication, read repair and hints would.
    const NODES = [A, B, 'host-c'];
    const step = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), node: fc.nat(2), readFrom: fc.nat(2), withContext: fc.boolean() }),
      fc.record({ kind: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
        const local: (Buffer | undefined)[] = [undefined, undefined, undefined];
        const seen: (Buffer | undefined)[] = [];
        steps.forEach((s, n) => {
          if (s.kind === 'sync') {
            local[s.to] = mergeRowVersions(local[s.to], local[s.from]);
          } else {
            const read = local[s.readFrom];
            const ctx = s.withContext && read !== undefined ? rowContext(read) : null;
            local[s.node] = nextRowVersion('siblings', local[s.node], ctx, NODES[s.node]!, written(`w${n}`, n + 1)).version;
          }
          seen.push(...local);
        });
        const same = (p: Buffer | undefined, q: Buffer | undefined) => {
          expect(valuesOf(p)).toEqual(valuesOf(q));
          expect(rowContext(p)).toEqual(rowContext(q));
        };
        const [x, y, z] = [seen[0], seen[Math.floor(seen.length / 2)], seen[seen.length - 1]];
        same(mergeRowVersions(x, y), mergeRowVersions(y, x));
        same(mergeRowVersions(mergeRowVersions(x, y), z), mergeRowVersions(x, mergeRowVersions(y, z)));
        same(mergeRowVersions(x, x), x);
        const all = local.reduce((acc, v) => mergeRowVersions(acc, v), undefined as Buffer | undefined);
        for (let i = 0; i < 3; i++) same(mergeRowVersions(local[i], all), all);
      }),
      { numRuns: 300 },
    );
  });
});

describe('causal context tokens', () => {
  it('round-trip per-row vectors and refuse anything else with Invalid', () => {
    const ctx = new Map([
      [rowId('t1', Buffer.from('k1'), CK), new Map([[A, 3]])],
      [rowId('t1', Buffer.from('k2'), CK), new Map([[A, 1], [B, 2]])],
    ]);
    expect(parseCausalContext(encodeCausalContext(ctx))).toEqual(ctx);
    expect(() => parseCausalContext('not a token!')).toThrow(InvalidRequest);
    expect(() => parseCausalContext('AQ')).toThrow(InvalidRequest);
    expect(() => parseCausalContext(encodeCausalContext(ctx).slice(0, -3))).toThrow(InvalidRequest);
    expect(() => encodeCausalContext(new Map(Array.from({ length: MAX_CONTEXT_ROWS + 1 }, (_, i) => [rowId('t', Buffer.from([i]), CK), new Map()])))).toThrow(RangeError);
  });

  it('names rows by table, key and clustering', () => {
    expect(rowId('t1', Buffer.from('k'), CK)).not.toBe(rowId('t2', Buffer.from('k'), CK));
    expect(rowId('t1', Buffer.from('ab'), Buffer.from('c'))).not.toBe(rowId('t1', Buffer.from('a'), Buffer.from('bc')));
  });

  it('a versioned update uses each row its own context', () => {
    const key = Buffer.from('k');
    const held = nextRowVersion('siblings', undefined, null, B, written('old', 1)).version;
    const update = { token: 1n, key, rangeTombstones: [], rows: [written('new', 2)] };
    const withCtx = versionUpdate({
      tableId: 't',
      mode: 'siblings',
      update,
      context: new Map([[rowId('t', key, CK), rowContext(held)]]),
      nodeId: A,
      currentVersion: () => held,
    });
    expect(valuesOf(withCtx.update.rows[0]!.version)).toEqual(['new']);
    const otherRowCtx = versionUpdate({
      tableId: 't',
      mode: 'siblings',
      update,
      context: new Map([[rowId('t', Buffer.from('other'), CK), rowContext(held)]]),
      nodeId: A,
      currentVersion: () => held,
    });
    expect(valuesOf(otherRowCtx.update.rows[0]!.version)).toEqual(['new', 'old']);
  });
});
