import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../../src/storage/data/types.js';
import { bufferCodec, DvvSet, encode, MAX_NODE_ID_BYTES, type DvvEntry } from '../../../src/versioning/dotted-version-vector.js';
import { nextLwwVersion, nextRowVersion, nextRowVersionByDecoding } from '../../../src/versioning/row-version.js';
import { MAX_ENTRIES } from '../../../src/versioning/version-vector.js';

const CK = Buffer.alloc(0);
const WRITTEN: Row = { clustering: CK, cells: [{ column: 'v', value: Buffer.from('x'), ts: 1, ttl: 0, ldt: 0 }] };

/** The outcome of a call: the result, or the error's class and message. */
function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const nodeIdArb = fc.oneof(fc.constantFrom('a', 'b', 'host-1', 'host-2', 'z', 'é', '\u{1F600}', '\uD800', '\uFFFD'), fc.string({ minLength: 1, maxLength: 12 }));

/** Well-formed sets as replicas hold them: sorted unique ids, counter ≥ values. */
const setArb = fc
  .uniqueArray(
    fc.record({
      nodeId: nodeIdArb,
      counter: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constant(Number.MAX_SAFE_INTEGER)),
      values: fc.array(fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b)), { maxLength: 3 }),
    }),
    { selector: (e) => e.nodeId, maxLength: 5 },
  )
  .map((entries) => new DvvSet<Buffer>(entries.map((e): DvvEntry<Buffer> => ({ ...e, values: e.values.slice(0, e.counter) }))));

describe('nextLwwVersion (the lww fast path)', () => {
  it('gives the bytes, dot and counts the general path gives, for any well-formed set', () => {
    fc.assert(
      fc.property(fc.option(setArb, { nil: undefined }), nodeIdArb, (set, nodeId) => {
        const current = set === undefined ? undefined : encode(set, bufferCodec);
        const general = outcome(() => nextRowVersionByDecoding('lww', current, null, nodeId, WRITTEN));
        expect(outcome(() => nextRowVersion('lww', current, null, nodeId, WRITTEN))).toEqual(general);
        const fast = nextLwwVersion(current, nodeId);
        // The fast path declines only what it cannot follow: a counter at its limit, an id UTF-8 cannot carry.
        const unusual = [nodeId, ...(set?.entries.map((e) => e.nodeId) ?? [])].some((id) => id.includes('\uD800')) || set?.entries.some((e) => e.nodeId === nodeId && e.counter === Number.MAX_SAFE_INTEGER);
        if (fast === null) expect(unusual).toBe(true);
        else expect({ ok: fast }).toEqual(general);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the general path on arbitrary (mostly malformed) blobs, errors included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), nodeIdArb, (bytes, nodeId) => {
        const current = Buffer.from(bytes);
        if (current.length > 0) current[0] = 1; // past the format byte, so the entries get parsed
        const general = outcome(() => nextRowVersionByDecoding('lww', current, null, nodeId, WRITTEN));
        expect(outcome(() => nextRowVersion('lww', current, null, nodeId, WRITTEN))).toEqual(general);
      }),
      { numRuns: 3000 },
    );
  });

  it('a row nobody versioned gets one entry with one empty value', () => {
    const next = nextLwwVersion(undefined, 'host-a')!;
    expect(next.dot).toEqual({ nodeId: 'host-a', counter: 1 });
    expect(next.version).toEqual(encode(DvvSet.of({ nodeId: 'host-a', counter: 1, values: [Buffer.alloc(0)] }), bufferCodec));
    expect(next).toEqual(nextRowVersionByDecoding('lww', undefined, null, 'host-a', WRITTEN));
  });

  it('leaves the refusals to the general path: bad own node id, too many nodes', () => {
    expect(nextLwwVersion(undefined, '')).toBeNull();
    expect(nextLwwVersion(undefined, 'x'.repeat(MAX_NODE_ID_BYTES + 1))).toBeNull();
    const full = encode(new DvvSet<Buffer>(Array.from({ length: MAX_ENTRIES }, (_, i) => ({ nodeId: `n${String(i).padStart(5, '0')}`, counter: 1, values: [] }))), bufferCodec);
    expect(nextLwwVersion(full, 'zz')).toBeNull();
    expect(outcome(() => nextRowVersion('lww', full, null, 'zz', WRITTEN))).toEqual(outcome(() => nextRowVersionByDecoding('lww', full, null, 'zz', WRITTEN)));
    expect(nextLwwVersion(full, 'n00007')).not.toBeNull();
  });
});
