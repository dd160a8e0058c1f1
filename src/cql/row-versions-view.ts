/**
 * What a SELECT tells the client about row versions (SPEC 3.1, 6.6): `conflicts`, the rows that
 * hold concurrent versions; in `siblings` mode also each such row's `$siblings` (every
 * concurrent write as it wrote the row) and the causal `context` of what was read, which a
 * later write sends back to supersede exactly those versions.
 *
 * In `lww` mode the context is null: writes there are versioned against what the replica holds,
 * whatever the client read (row-version.ts), so a context would change nothing.
 *
 * Bounds: a context describes at most MAX_CONTEXT_ROWS rows; a larger result has none (with a
 * warning), so read-modify-write clients read the rows they will write.
 */
import type { TableMetadata } from '../schema/schema.js';
import type { Row } from '../storage/data/types.js';
import { encodeCausalContext, MAX_CONTEXT_ROWS, rowId } from '../versioning/causal-context.js';
import type { VersionVector } from '../versioning/version-vector.js';
import { rowContext, siblingRows, versionCount } from '../versioning/row-version.js';

/** A result row as far as versions are concerned. */
export interface VersionedResultRow {
  readonly key: Buffer;
  readonly clustering: Buffer;
  readonly version: Buffer | undefined;
}

export interface VersionsView {
  readonly conflicts: number;
  readonly context: string | null;
  /** Per result row (same index), its siblings rendered as result rows; absent without siblings. */
  readonly siblings: ReadonlyMap<number, readonly Record<string, unknown>[]>;
  readonly warnings: readonly string[];
}

const NONE: ReadonlyMap<number, readonly Record<string, unknown>[]> = new Map();

/**
 * `render` turns one sibling (a storage row as its write wrote it) of result row `index` into a
 * JSON row with the query's selection.
 */
export function versionsView(
  table: TableMetadata,
  rows: readonly VersionedResultRow[],
  render: (sibling: Row, index: number) => Record<string, unknown>,
): VersionsView {
  const siblingsMode = table.params.conflictResolution === 'siblings';
  let conflicts = 0;
  let siblings: Map<number, Record<string, unknown>[]> | null = null;
  rows.forEach((r, i) => {
    if (r.version === undefined || versionCount(r.version) < 2) return;
    conflicts++;
    if (!siblingsMode) return;
    siblings ??= new Map();
    siblings.set(
      i,
      siblingRows(r.version, r.clustering).map((s) => render(s, i)),
    );
  });
  if (!siblingsMode) return { conflicts, context: null, siblings: NONE, warnings: [] };
  if (rows.length > MAX_CONTEXT_ROWS) {
    return {
      conflicts,
      context: null,
      siblings: siblings ?? NONE,
      warnings: [`No context: a context describes at most ${MAX_CONTEXT_ROWS} rows; read fewer rows before writing them back`],
    };
  }
  const context = new Map<string, VersionVector>();
  for (const r of rows) context.set(rowId(table.id, r.key, r.clustering), rowContext(r.version));
  return { conflicts, context: encodeCausalContext(context), siblings: siblings ?? NONE, warnings: [] };
}
