/**
 * A model test: random sequences of INSERT / UPDATE / DELETE (cell, row, range, partition)
 * with explicit USING TIMESTAMP values drawn from a small range (so ties happen), flushes and
 * major compactions at random points, and SELECTs (by partition, reversed, sliced, limited, paged, whole-table),
 * compared with a small in-memory model of Cassandra's semantics:
 *
 * - a cell is the write with the highest timestamp; on a tie a tombstone wins, then the
 *   greater value (serialized bytes compared unsigned);
 * - a deletion (partition, range, row) shadows everything at or below its timestamp;
 * - INSERT writes a row marker, UPDATE does not: a row is visible while its marker or one of
 *   its cells is.
 *
 * The table mixes clustering orders (c1 DESC, c2 ASC) so slices and tuple slices cross both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3Token } from '../../src/ring/murmur3.js';
import { useCql, type CqlKit } from './kit.js';

const KS = [0, 1, 2] as const;
const C1S = [0, 1, 2] as const;
const C2S = ['a', 'b'] as const;
const INTS = [-2, -1, 0, 1, 2, 1000] as const;
const TEXTS = ['', 'a', 'ab', 'b', 'é'] as const;
const MAX_TS = 6;

type Column = 'v' | 'w';
type Value = number | string | null;
type Op = '<' | '<=' | '>' | '>=';

type Range =
  | { readonly kind: 'c1'; readonly op: Op; readonly c1: number }
  | { readonly kind: 'c1-between'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'c1-eq'; readonly c1: number }
  | { readonly kind: 'c2'; readonly c1: number; readonly op: Op; readonly c2: string }
  | { readonly kind: 'tuple'; readonly op: Op; readonly c1: number; readonly c2: string };

type Command =
  | { readonly kind: 'insert'; readonly k: number; readonly c1: number; readonly c2: string; readonly values: Partial<Record<Column, Value>>; readonly ts: number }
  | { readonly kind: 'update'; readonly k: number; readonly c1: number; readonly c2: string; readonly values: Partial<Record<Column, Value>>; readonly ts: number }
  | { readonly kind: 'delete-cells'; readonly k: number; readonly c1: number; readonly c2: string; readonly columns: readonly Column[]; readonly ts: number }
  | { readonly kind: 'delete-row'; readonly k: number; readonly c1: number; readonly c2: string; readonly ts: number }
  | { readonly kind: 'delete-range'; readonly k: number; readonly range: Range; readonly ts: number }
  | { readonly kind: 'delete-partition'; readonly k: number; readonly ts: number }
  | { readonly kind: 'flush' }
  | { readonly kind: 'compact' }
  | { readonly kind: 'select'; readonly k: number | null; readonly range: Range | null; readonly reversed: boolean; readonly limit: number | null; readonly pageSize: number };

// ---- The model --------------------------------------------------------------------------------

interface CellVersion {
  readonly ts: number;
  readonly value: Value;
}

interface ModelRow {
  markerTs: number;
  deletionTs: number;
  readonly cells: Partial<Record<Column, CellVersion>>;
}

function valueBytes(v: number | string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/** Cassandra's reconcile: higher timestamp; on a tie a tombstone, then the greater bytes. */
function winner(a: CellVersion | undefined, b: CellVersion): CellVersion {
  if (a === undefined || b.ts > a.ts) return b;
  if (b.ts < a.ts) return a;
  if (a.value === null) return a;
  if (b.value === null) return b;
  return Buffer.compare(valueBytes(b.value), valueBytes(a.value)) > 0 ? b : a;
}

function compareOp(x: number | string, op: Op, y: number | string): boolean {
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

function inRange(r: Range, c1: number, c2: string): boolean {
  switch (r.kind) {
    case 'c1':
      return compareOp(c1, r.op, r.c1);
    case 'c1-between':
      return c1 >= r.lo && c1 < r.hi;
    case 'c1-eq':
      return c1 === r.c1;
    case 'c2':
      return c1 === r.c1 && compareOp(c2, r.op, r.c2);
    case 'tuple': {
      // Tuple order is value order, column by column.
      const cmp = c1 !== r.c1 ? c1 - r.c1 : c2 < r.c2 ? -1 : c2 > r.c2 ? 1 : 0;
      return compareOp(cmp, r.op, 0);
    }
  }
}

function rangeCql(r: Range): string {
  switch (r.kind) {
    case 'c1':
      return `c1 ${r.op} ${r.c1}`;
    case 'c1-between':
      return `c1 >= ${r.lo} AND c1 < ${r.hi}`;
    case 'c1-eq':
      return `c1 = ${r.c1}`;
    case 'c2':
      return `c1 = ${r.c1} AND c2 ${r.op} '${r.c2}'`;
    case 'tuple':
      return `(c1, c2) ${r.op} (${r.c1}, '${r.c2}')`;
  }
}

class Model {
  readonly rows = new Map<string, ModelRow>();
  readonly partitionDeletions = new Map<number, number>();
  readonly rangeDeletions: { k: number; range: Range; ts: number }[] = [];

  private row(k: number, c1: number, c2: string): ModelRow {
    const key = JSON.stringify([k, c1, c2]);
    let r = this.rows.get(key);
    if (r === undefined) {
      r = { markerTs: -Infinity, deletionTs: -Infinity, cells: {} };
      this.rows.set(key, r);
    }
    return r;
  }

  apply(c: Command): void {
    switch (c.kind) {
      case 'insert':
      case 'update': {
        const r = this.row(c.k, c.c1, c.c2);
        if (c.kind === 'insert') r.markerTs = Math.max(r.markerTs, c.ts);
        for (const [column, value] of Object.entries(c.values) as [Column, Value][]) r.cells[column] = winner(r.cells[column], { ts: c.ts, value });
        return;
      }
      case 'delete-cells': {
        const r = this.row(c.k, c.c1, c.c2);
        for (const column of c.columns) r.cells[column] = winner(r.cells[column], { ts: c.ts, value: null });
        return;
      }
      case 'delete-row': {
        const r = this.row(c.k, c.c1, c.c2);
        r.deletionTs = Math.max(r.deletionTs, c.ts);
        return;
      }
      case 'delete-range':
        this.rangeDeletions.push({ k: c.k, range: c.range, ts: c.ts });
        return;
      case 'delete-partition':
        this.partitionDeletions.set(c.k, Math.max(this.partitionDeletions.get(c.k) ?? -Infinity, c.ts));
        return;
      default:
    }
  }

  /** Visible rows of partition k in clustering order (c1 DESC, c2 ASC). */
  partition(k: number): Record<string, unknown>[] {
    const out: { c1: number; c2: string; row: Record<string, unknown> }[] = [];
    for (const [key, r] of this.rows) {
      const [rk, c1, c2] = JSON.parse(key) as [number, number, string];
      if (rk !== k) continue;
      let deleted = Math.max(r.deletionTs, this.partitionDeletions.get(k) ?? -Infinity);
      for (const d of this.rangeDeletions) if (d.k === k && inRange(d.range, c1, c2)) deleted = Math.max(deleted, d.ts);
      const visible = (cell: CellVersion | undefined) => (cell !== undefined && cell.ts > deleted && cell.value !== null ? cell : undefined);
      const v = visible(r.cells.v);
      const w = visible(r.cells.w);
      if (r.markerTs <= deleted && v === undefined && w === undefined) continue;
      out.push({ c1, c2, row: { k, c1, c2, v: v?.value ?? null, w: w?.value ?? null, 'writetime(v)': v === undefined ? null : String(v.ts), 'writetime(w)': w === undefined ? null : String(w.ts) } });
    }
    out.sort((a, b) => b.c1 - a.c1 || (a.c2 < b.c2 ? -1 : a.c2 > b.c2 ? 1 : 0));
    return out.map((x) => x.row);
  }
}

// ---- Commands ---------------------------------------------------------------------------------

const ts = fc.integer({ min: 1, max: MAX_TS });
const k = fc.constantFrom(...KS);
const c1 = fc.constantFrom(...C1S);
const c2 = fc.constantFrom(...C2S);
const op = fc.constantFrom<Op>('<', '<=', '>', '>=');
const values = fc.record({ v: fc.constantFrom<Value>(...INTS, null), w: fc.constantFrom<Value>(...TEXTS, null) }, { requiredKeys: [] });
const range: fc.Arbitrary<Range> = fc.oneof(
  fc.record({ kind: fc.constant('c1' as const), op, c1 }),
  fc.record({ kind: fc.constant('c1-between' as const), lo: c1, hi: c1 }),
  fc.record({ kind: fc.constant('c1-eq' as const), c1 }),
  fc.record({ kind: fc.constant('c2' as const), c1, op, c2 }),
  fc.record({ kind: fc.constant('tuple' as const), op, c1, c2 }),
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), k, c1, c2, values, ts }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), k, c1, c2, values: values.filter((v) => Object.keys(v).length > 0), ts }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete-cells' as const), k, c1, c2, columns: fc.subarray<Column>(['v', 'w'], { minLength: 1 }), ts }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete-row' as const), k, c1, c2, ts }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete-range' as const), k, range, ts }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-partition' as const), k, ts }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('select' as const),
      k: fc.option(k, { freq: 4 }),
      range: fc.option(range, { freq: 2 }),
      reversed: fc.boolean(),
      limit: fc.option(fc.integer({ min: 1, max: 6 }), { freq: 2 }),
      pageSize: fc.constantFrom(1, 2, 3, 1000),
    }),
  },
);

function literal(v: Value): string {
  return v === null ? 'null' : typeof v === 'number' ? String(v) : `'${v}'`;
}

function statementOf(c: Command, table: string): string | null {
  const key = (x: { k: number; c1: number; c2: string }) => `k = ${x.k} AND c1 = ${x.c1} AND c2 = '${x.c2}'`;
  switch (c.kind) {
    case 'insert': {
      const columns = Object.keys(c.values) as Column[];
      return `INSERT INTO ${table} (k, c1, c2${columns.map((x) => `, ${x}`).join('')}) VALUES (${c.k}, ${c.c1}, '${c.c2}'${columns.map((x) => `, ${literal(c.values[x]!)}`).join('')}) USING TIMESTAMP ${c.ts}`;
    }
    case 'update': {
      const sets = (Object.entries(c.values) as [Column, Value][]).map(([x, v]) => `${x} = ${literal(v)}`).join(', ');
      return `UPDATE ${table} USING TIMESTAMP ${c.ts} SET ${sets} WHERE ${key(c)}`;
    }
    case 'delete-cells':
      return `DELETE ${c.columns.join(', ')} FROM ${table} USING TIMESTAMP ${c.ts} WHERE ${key(c)}`;
    case 'delete-row':
      return `DELETE FROM ${table} USING TIMESTAMP ${c.ts} WHERE ${key(c)}`;
    case 'delete-range':
      return `DELETE FROM ${table} USING TIMESTAMP ${c.ts} WHERE k = ${c.k} AND ${rangeCql(c.range)}`;
    case 'delete-partition':
      return `DELETE FROM ${table} USING TIMESTAMP ${c.ts} WHERE k = ${c.k}`;
    default:
      return null;
  }
}

function tokenOf(key: number): bigint {
  const b = Buffer.alloc(4);
  b.writeInt32BE(key);
  return murmur3Token(b);
}

const RING_ORDER = [...KS].sort((a, b) => (tokenOf(a) < tokenOf(b) ? -1 : 1));

async function checkSelect(kit: CqlKit, table: string, model: Model, c: Extract<Command, { kind: 'select' }>): Promise<void> {
  const where: string[] = [];
  if (c.k !== null) where.push(`k = ${c.k}`);
  if (c.range !== null) where.push(rangeCql(c.range));
  const byKey = c.k !== null;
  const reversed = byKey && c.reversed;
  const query = `SELECT k, c1, c2, v, w, WRITETIME(v), WRITETIME(w) FROM ${table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}${reversed ? ' ORDER BY c1 ASC' : ''}${c.limit !== null ? ` LIMIT ${c.limit}` : ''}${!byKey && c.range !== null ? ' ALLOW FILTERING' : ''}`;
  let expected = (byKey ? model.partition(c.k!) : RING_ORDER.flatMap((p) => model.partition(p))).filter((r) => c.range === null || inRange(c.range, r.c1 as number, r.c2 as string));
  if (reversed) expected.reverse();
  if (c.limit !== null) expected = expected.slice(0, c.limit);
  const actual: Record<string, unknown>[] = [];
  let state: string | null = null;
  for (let pages = 0; ; pages++) {
    const r = await kit.select(query, undefined, { pageSize: c.pageSize, pagingState: state });
    actual.push(...r.rows);
    state = r.paging_state;
    if (state === null) break;
    if (pages > 200) throw new Error(`paging does not end: ${query}`);
  }
  expect(actual, query).toEqual(expected);
}

describe('CQL against a model of Cassandra', () => {
  // No fsync per write: this test never restarts, and thousands of writes must stay fast.
  const cql = useCql({ overrides: ['commitlog_sync=periodic'] });

  it('random writes, deletes, flushes and reads agree with the model', { timeout: 60_000 }, async () => {
    const kit = cql();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 80, size: 'max' }), async (commands) => {
        const table = `m${run++}`;
        await kit.exec(`CREATE TABLE ${table} (k int, c1 int, c2 text, v int, w text, PRIMARY KEY (k, c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)`);
        const model = new Model();
        try {
          for (const c of commands) {
            if (c.kind === 'flush') await kit.flush(table);
            else if (c.kind === 'compact') await kit.db.engine.table(kit.db.schema.current.table('ks', table)!.id)!.compact({ major: true });
            else if (c.kind === 'select') await checkSelect(kit, table, model, c);
            else {
              await kit.exec(statementOf(c, table)!);
              model.apply(c);
            }
          }
          // A final full comparison, by partition and of the whole table.
          for (const p of KS) await checkSelect(kit, table, model, { kind: 'select', k: p, range: null, reversed: false, limit: null, pageSize: 1000 });
          await checkSelect(kit, table, model, { kind: 'select', k: null, range: null, reversed: false, limit: null, pageSize: 2 });
        } finally {
          await kit.exec(`DROP TABLE ${table}`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
