/**
 * The step shared by every k-way merge in storage (point reads, range scans, compaction):
 * cursors over sorted sources, and taking every head equal to the smallest one. Linear in
 * the number of sources, which is small (memtables plus the SSTables that may hold a key).
 */
export interface MergeCursor<T> {
  head: T | undefined;
  readonly it: Iterator<T>;
}

export function mergeCursor<T>(it: Iterator<T>): MergeCursor<T> {
  const c: MergeCursor<T> = { head: undefined, it };
  advance(c);
  return c;
}

function advance<T>(c: MergeCursor<T>): void {
  const r = c.it.next();
  c.head = r.done ? undefined : r.value;
}

/**
 * Removes and returns every cursor's head equal to the smallest head under `compare` (at most
 * one per cursor, in cursor order); an empty array once every cursor is exhausted.
 */
export function popSmallest<T>(cursors: ReadonlyArray<MergeCursor<T>>, compare: (a: T, b: T) => number): T[] {
  let min: T | undefined;
  for (const c of cursors) if (c.head !== undefined && (min === undefined || compare(c.head, min) < 0)) min = c.head;
  if (min === undefined) return [];
  const out: T[] = [];
  for (const c of cursors) {
    if (c.head !== undefined && compare(c.head, min) === 0) {
      out.push(c.head);
      advance(c);
    }
  }
  return out;
}
