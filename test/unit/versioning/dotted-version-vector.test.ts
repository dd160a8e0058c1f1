import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/errors.js';
import { CorruptDataError } from '../../../src/util/bytes.js';
import {
  DvvSet,
  MAX_ENTRIES,
  SIBLINGS_MAX,
  SIBLINGS_WARN_AT,
  checkSiblings,
  compareSets,
  context,
  decode,
  encode,
  encodeContext,
  join,
  lww,
  parseContext,
  siblings,
  stringCodec,
  sync,
  update,
  values,
  type SiblingLimits,
  type UpdateResult,
} from '../../../src/versioning/dotted-version-vector.js';
import type { VersionVector } from '../../../src/versioning/version-vector.js';

type Set_ = DvvSet<string>;
const EMPTY: Set_ = new DvvSet<string>();
const ROOMY: SiblingLimits = { warnAt: 1_000, max: 10_000 };

function applied(result: UpdateResult<string>): Set_ {
  if (result.kind !== 'applied') throw new Error(`update refused: ${result.kind}`);
  return result.set;
}
/** The coordinating replica `nodeId` writes `value` with the context of `read` (null: blind). */
function write(set: Set_, read: Set_ | null, nodeId: string, value: string): Set_ {
  return applied(update(set, read === null ? null : join(read), nodeId, value));
}
const bytes = (s: Set_): string => encode(s, stringCodec).toString('hex');
const sorted = (s: Set_): string[] => values(s).sort();

describe('dotted version vector sets: scenarios from the paper', () => {
  it('two clients writing through different replicas concurrently leave two siblings', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    const replicaB = sync(EMPTY, v0); // replicated
    const atA = write(v0, v0, 'a', 'x'); // client 1 read v0, writes x through a
    const atB = write(replicaB, v0, 'b', 'y'); // client 2 read v0, writes y through b
    const healed = sync(atA, atB);
    expect(sorted(healed)).toEqual(['x', 'y']);
    expect(compareSets(atA, atB)).toBe('concurrent');
    expect(bytes(sync(atB, atA))).toBe(bytes(healed));
  });

  it('two clients writing through the same replica with the same context both survive (no false overwrite)', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    const first = write(v0, v0, 'a', 'x');
    const second = write(first, v0, 'a', 'y'); // did not see x
    expect(sorted(second)).toEqual(['x', 'y']);
    expect(siblings(second).map((s) => s.dot)).toEqual([
      { nodeId: 'a', counter: 3 },
      { nodeId: 'a', counter: 2 },
    ]);
  });

  it('a write with the read context supersedes every sibling it saw', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    const both = sync(write(v0, v0, 'a', 'x'), write(sync(EMPTY, v0), v0, 'b', 'y'));
    const read = both; // the client reads x and y with this context
    const resolved = write(both, read, 'c', 'xy');
    expect(values(resolved)).toEqual(['xy']);
    // replicas still holding x or y learn the resolution on sync
    expect(values(sync(write(v0, v0, 'a', 'x'), resolved))).toEqual(['xy']);
  });

  it('a stale context leaves the concurrent value it did not see', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    const staleRead = v0;
    const atB = write(sync(EMPTY, v0), v0, 'b', 'y'); // someone else writes y through b
    const atA = sync(v0, atB); // a now holds y too
    const next = write(atA, staleRead, 'a', 'x'); // the stale client never saw y
    expect(sorted(next)).toEqual(['x', 'y']);
  });

  it('a blind write (no context) supersedes nothing', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    expect(sorted(write(v0, null, 'a', 'v1'))).toEqual(['v0', 'v1']);
  });

  it('a context from a replica that saw more of a node discards what it covers on a replica that saw less', () => {
    const atA = write(write(EMPTY, null, 'a', 'v1'), null, 'a', 'v2'); // a: v1, v2 siblings
    const behind = sync(EMPTY, write(EMPTY, null, 'a', 'v1')); // c only has v1
    const resolved = write(behind, atA, 'c', 'w');
    expect(values(resolved)).toEqual(['w']);
    expect(values(sync(atA, resolved))).toEqual(['w']);
  });

  it('a replica that superseded a value drops it when it syncs with one that still holds it', () => {
    const first = write(EMPTY, null, 'a', 'v1');
    const atB = write(sync(EMPTY, first), first, 'b', 'w'); // b read v1 and replaced it
    const atA = write(first, null, 'a', 'v2'); // a took a blind write meanwhile: v1, v2 siblings
    expect(sorted(atA)).toEqual(['v1', 'v2']);
    expect(sorted(sync(atA, atB))).toEqual(['v2', 'w']);
    expect(sorted(sync(atB, atA))).toEqual(['v2', 'w']);
  });

  it('replicas partitioned apart converge to one state after healing, in any sync order', () => {
    const v0 = write(EMPTY, null, 'a', 'v0');
    let [a, b, c] = [v0, sync(EMPTY, v0), sync(EMPTY, v0)];
    // partition {a} | {b, c}: each side keeps taking writes
    a = write(a, a, 'a', 'left-1');
    a = write(a, a, 'a', 'left-2');
    b = write(b, b, 'b', 'right-1');
    c = sync(c, b);
    c = write(c, c, 'c', 'right-2');
    b = sync(b, c);
    // heal: two different gossip orders
    const order1 = sync(sync(a, b), c);
    const order2 = sync(c, sync(b, a));
    expect(bytes(order1)).toBe(bytes(order2));
    expect(sorted(order1)).toEqual(['left-2', 'right-2']);
    const [a2, b2, c2] = [sync(a, order1), sync(b, order2), sync(c, order1)];
    expect(new Set([bytes(a2), bytes(b2), bytes(c2)]).size).toBe(1);
    expect(join(a2)).toEqual(new Map([['a', 3], ['b', 1], ['c', 1]]));
  });
});

describe('dotted version vector sets: bounds and results', () => {
  it('warns from 25 siblings and refuses a write that would leave more than 100', () => {
    expect([SIBLINGS_WARN_AT, SIBLINGS_MAX]).toEqual([25, 100]);
    let set = EMPTY;
    const warned: number[] = [];
    for (let i = 1; i <= SIBLINGS_MAX; i++) {
      const result = update(set, null, `n${i % 3}`, `v${i}`);
      if (result.kind !== 'applied') throw new Error(`refused write ${i}`);
      expect(result.siblings).toBe(i);
      if (result.warn) warned.push(i);
      set = result.set;
    }
    expect(warned[0]).toBe(SIBLINGS_WARN_AT);
    expect(update(set, null, 'n1', 'one too many')).toEqual({ kind: 'too-many-siblings', siblings: 101, limit: 100 });
    // a write that carries the read's context resolves the siblings instead of adding one
    const resolved = update(set, join(set), 'n1', 'merged');
    expect(resolved.kind === 'applied' && values(resolved.set)).toEqual(['merged']);
    expect(checkSiblings(24)).toBe('ok');
    expect(checkSiblings(25)).toBe('warn');
    expect(checkSiblings(101)).toBe('refuse');
    expect(update(EMPTY, null, 'a', 'x', { warnAt: 1, max: 1 }).kind).toBe('applied');
  });

  it('refuses a context that would make the row track more than MAX_ENTRIES nodes', () => {
    const forged = new Map(Array.from({ length: MAX_ENTRIES }, (_, i) => [`forged-${i}`, 1] as const));
    expect(update(EMPTY, forged, 'real', 'x')).toEqual({ kind: 'too-many-nodes', nodes: MAX_ENTRIES + 1, limit: MAX_ENTRIES });
  });

  it('rejects sets that break the invariants', () => {
    expect(() => DvvSet.of({ nodeId: 'a', counter: 1, values: ['x', 'y'] })).toThrow(RangeError);
    expect(() => DvvSet.of({ nodeId: 'a', counter: 0, values: [] })).toThrow(RangeError);
    expect(() => DvvSet.of({ nodeId: 'a', counter: 1, values: [] }, { nodeId: 'a', counter: 2, values: [] })).toThrow(RangeError);
    expect(() => DvvSet.of({ nodeId: '', counter: 1, values: [] })).toThrow(RangeError);
    const set = DvvSet.of({ nodeId: 'b', counter: 2, values: ['y'] }, { nodeId: 'a', counter: 1, values: ['x'] });
    expect(set.entries.map((e) => e.nodeId)).toEqual(['a', 'b']);
    expect(set.size).toBe(2);
  });

  it('lww picks the greatest value, reports the conflict, and breaks ties by dot on every replica alike', () => {
    const byLength = (x: string, y: string): number => x.length - y.length;
    const one = write(EMPTY, null, 'a', 'only');
    expect(lww(one, byLength)).toEqual({ value: 'only', dot: { nodeId: 'a', counter: 1 }, conflict: false, siblings: 1 });
    expect(lww(EMPTY, byLength)).toEqual({ value: undefined, dot: undefined, conflict: false, siblings: 0 });
    const three = sync(sync(write(EMPTY, null, 'a', 'xx'), write(EMPTY, null, 'b', 'yyy')), write(EMPTY, null, 'c', 'zzz'));
    expect(lww(three, byLength)).toEqual({ value: 'zzz', dot: { nodeId: 'c', counter: 1 }, conflict: true, siblings: 3 });
    // collapsing durably: write the winner back with the set's context
    const collapsed = write(three, three, 'a', lww(three, byLength).value!);
    expect(values(collapsed)).toEqual(['zzz']);
  });

  it('hands clients an opaque base64url context and reads it back, refusing garbage with InvalidRequest', () => {
    const set = sync(write(EMPTY, null, 'a', 'x'), write(EMPTY, null, 'b', 'y'));
    const token = context(set);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseContext(token)).toEqual(join(set));
    expect(parseContext(context(EMPTY))).toEqual(new Map());
    for (const bad of ['', 'not base64!', 'AA', encodeContext(new Map()).replace(/^A/, 'B'), 'AQU', 'x'.repeat(200_000)]) {
      expect(() => parseContext(bad), bad.slice(0, 20)).toThrow(InvalidRequest);
    }
  });

  it('decode refuses hostile lengths without allocating for them', () => {
    const claimsMany = Buffer.from([1, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => decode(claimsMany, stringCodec)).toThrow(CorruptDataError);
    const manyValues = Buffer.from([1, 1, 1, 0x61, 0xff, 0xff, 0x7f, 0xff, 0xff, 0x7f]);
    expect(() => decode(manyValues, stringCodec)).toThrow(CorruptDataError);
    expect(() => decode(Buffer.from([2, 0]), stringCodec)).toThrow(CorruptDataError);
    expect(() => decode(Buffer.alloc(0), stringCodec)).toThrow(CorruptDataError);
    const outOfOrder = Buffer.concat([Buffer.from([1, 2]), Buffer.from([1, 0x62, 1, 0]), Buffer.from([1, 0x61, 1, 0])]);
    expect(() => decode(outOfOrder, stringCodec)).toThrow(CorruptDataError);
  });
});

// ---- simulated histories: realistic states (each node creates its own dots) plus a reference model

const NODES = ['a', 'b', 'c'] as const;

/** The reference: explicit live dots and the (downward-closed, so vector-shaped) seen set. */
interface Reference {
  seen: Map<string, number>;
  live: Map<string, string>; // "node:counter" -> value
}

type Op =
  | { kind: 'write'; replica: number; contextIndex: number }
  | { kind: 'sync'; from: number; to: number }
  | { kind: 'read'; replica: number; other: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), replica: fc.nat(2), contextIndex: fc.nat(30) }),
  fc.record({ kind: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
  fc.record({ kind: fc.constant('read' as const), replica: fc.nat(2), other: fc.nat(2) }),
);

interface History {
  replicas: Set_[];
  references: Reference[];
  /** Every state any replica ever had, with its owner. */
  pool: { owner: number; set: Set_ }[];
  /** Contexts clients read (index 0: none). */
  contexts: (VersionVector | null)[];
}

function dotKey(nodeId: string, counter: number): string {
  return `${nodeId}:${counter}`;
}

function refUpdate(ref: Reference, ctx: VersionVector | null, nodeId: string, value: string): Reference {
  const seen = new Map(ref.seen);
  for (const [id, n] of ctx ?? []) seen.set(id, Math.max(seen.get(id) ?? 0, n));
  const live = new Map([...ref.live].filter(([key]) => {
    const [id, n] = key.split(':') as [string, string];
    return Number(n) > (ctx?.get(id) ?? 0);
  }));
  const counter = (seen.get(nodeId) ?? 0) + 1;
  seen.set(nodeId, counter);
  live.set(dotKey(nodeId, counter), value);
  return { seen, live };
}

function refSync(x: Reference, y: Reference): Reference {
  const seen = new Map(x.seen);
  for (const [id, n] of y.seen) seen.set(id, Math.max(seen.get(id) ?? 0, n));
  const unseenBy = (r: Reference, key: string): boolean => {
    const [id, n] = key.split(':') as [string, string];
    return Number(n) > (r.seen.get(id) ?? 0);
  };
  const live = new Map<string, string>();
  for (const [key, v] of x.live) if (y.live.has(key) || unseenBy(y, key)) live.set(key, v);
  for (const [key, v] of y.live) if (x.live.has(key) || unseenBy(x, key)) live.set(key, v);
  return { seen, live };
}

function simulate(ops: Op[]): History {
  const replicas: Set_[] = NODES.map(() => EMPTY);
  const references: Reference[] = NODES.map(() => ({ seen: new Map(), live: new Map() }));
  const pool: History['pool'] = [];
  const contexts: History['contexts'] = [null];
  let written = 0;
  for (const op of ops) {
    if (op.kind === 'write') {
      const ctx = contexts[op.contextIndex % contexts.length]!;
      const nodeId = NODES[op.replica]!;
      const value = `v${written++}`;
      replicas[op.replica] = applied(update(replicas[op.replica]!, ctx, nodeId, value, ROOMY));
      references[op.replica] = refUpdate(references[op.replica]!, ctx, nodeId, value);
      pool.push({ owner: op.replica, set: replicas[op.replica]! });
    } else if (op.kind === 'sync') {
      replicas[op.to] = sync(replicas[op.to]!, replicas[op.from]!);
      references[op.to] = refSync(references[op.to]!, references[op.from]!);
      pool.push({ owner: op.to, set: replicas[op.to]! });
    } else {
      // a coordinator reads two replicas and merges what it got
      contexts.push(join(sync(replicas[op.replica]!, replicas[op.other]!)));
    }
  }
  replicas.forEach((set, owner) => pool.push({ owner, set }));
  return { replicas, references, pool, contexts };
}

// size 'max': fast-check's default size keeps arrays at about 6 operations, too few to reach
// supersede-then-sync interleavings.
const arbHistory = fc.array(arbOp, { minLength: 1, maxLength: 40, size: 'max' }).map(simulate);
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

function asReference(set: Set_): Reference {
  return {
    seen: new Map(join(set)),
    live: new Map(siblings(set).map((s) => [dotKey(s.dot.nodeId, s.dot.counter), s.value])),
  };
}

describe('dotted version vector sets: properties over simulated histories', () => {
  it('match a reference model that tracks every dot explicitly', () => {
    fc.assert(
      fc.property(arbHistory, (h) => {
        h.replicas.forEach((set, i) => {
          expect(asReference(set)).toEqual(h.references[i]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('sync is a join: commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(arbHistory, fc.nat(), fc.nat(), fc.nat(), (h, i, j, k) => {
        const [x, y, z] = [pick(h.pool, i).set, pick(h.pool, j).set, pick(h.pool, k).set];
        expect(bytes(sync(x, y))).toBe(bytes(sync(y, x)));
        expect(bytes(sync(sync(x, y), z))).toBe(bytes(sync(x, sync(y, z))));
        expect(bytes(sync(x, x))).toBe(bytes(x));
        expect(bytes(sync(x, EMPTY))).toBe(bytes(x));
        expect(['after', 'equal']).toContain(compareSets(sync(x, y), x));
      }),
      { numRuns: 200 },
    );
  });

  it('sync never loses a value that one side holds and the other has not seen', () => {
    fc.assert(
      fc.property(arbHistory, fc.nat(), fc.nat(), (h, i, j) => {
        const [x, y] = [pick(h.pool, i).set, pick(h.pool, j).set];
        const merged = new Set(siblings(sync(x, y)).map((s) => dotKey(s.dot.nodeId, s.dot.counter)));
        const [seenByX, seenByY] = [join(x), join(y)];
        const liveY = new Set(siblings(y).map((s) => dotKey(s.dot.nodeId, s.dot.counter)));
        for (const s of siblings(x)) {
          const key = dotKey(s.dot.nodeId, s.dot.counter);
          if (liveY.has(key) || s.dot.counter > (seenByY.get(s.dot.nodeId) ?? 0)) expect(merged).toContain(key);
          else expect(merged).not.toContain(key); // y saw it and superseded it
        }
        for (const s of siblings(y)) {
          if (s.dot.counter > (seenByX.get(s.dot.nodeId) ?? 0)) expect(merged).toContain(dotKey(s.dot.nodeId, s.dot.counter));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('update then sync equals sync then update when the other side has no newer events of the coordinator', () => {
    fc.assert(
      fc.property(arbHistory, fc.nat(), fc.nat(), fc.nat(), (h, i, j, c) => {
        const { owner, set: mine } = pick(h.pool, i);
        const other = pick(h.pool, j).set;
        const ctx = pick(h.contexts, c);
        const nodeId = NODES[owner]!;
        const known = Math.max(join(mine).get(nodeId) ?? 0, ctx?.get(nodeId) ?? 0);
        fc.pre((join(other).get(nodeId) ?? 0) <= known);
        const updateThenSync = sync(applied(update(mine, ctx, nodeId, 'new', ROOMY)), other);
        const syncThenUpdate = applied(update(sync(mine, other), ctx, nodeId, 'new', ROOMY));
        expect(bytes(updateThenSync)).toBe(bytes(syncThenUpdate));
      }),
      { numRuns: 200 },
    );
  });

  it('encode/decode round-trips every state', () => {
    fc.assert(
      fc.property(arbHistory, (h) => {
        for (const { set } of h.pool) {
          const decoded = decode(encode(set, stringCodec), stringCodec);
          expect(decoded.entries).toEqual(set.entries);
          expect(bytes(decoded)).toBe(bytes(set));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('decode of random or corrupted bytes either yields a valid set or throws CorruptDataError', () => {
    const check = (input: Uint8Array): void => {
      try {
        const set = decode(Buffer.from(input), stringCodec);
        expect(set).toBeInstanceOf(DvvSet);
      } catch (err) {
        expect(err).toBeInstanceOf(CorruptDataError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check), { numRuns: 500 });
    fc.assert(
      fc.property(arbHistory, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (h, i, at, byte) => {
        const encoded = encode(pick(h.pool, i).set, stringCodec);
        const corrupted = Buffer.from(encoded);
        corrupted[at % corrupted.length] = byte;
        check(corrupted);
        check(encoded.subarray(0, at % encoded.length)); // truncated
      }),
      { numRuns: 300 },
    );
  });
});
