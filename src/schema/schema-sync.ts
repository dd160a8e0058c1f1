/**
 * Schema agreement (#4): the schema travels between nodes as the rows of its two system tables.
 *
 * A node that sees a peer gossip a different SCHEMA version pulls the peer's schema rows and
 * applies them to its own `system_schema` tables; the storage engine's merge rules (last write
 * wins, tombstones included) make the result the same whichever node pulls from which, so every
 * node converges on one version without a leader (Cassandra's schema pull, simplified).
 *
 * Wire format 1: u32 count, then per update: the table id (string) and the partition update in
 * the storage codec's format (`writeUpdate`). Bounded by `MAX_SCHEMA_UPDATES`.
 */
import type { PartitionUpdate } from '../storage/data/types.js';
import { readUpdate, writeUpdate } from '../storage/data/codec.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import { ByteReader, ByteWriter, CorruptDataError } from '../util/bytes.js';
import { SCHEMA_KEYSPACES_TABLE, SCHEMA_TABLES_TABLE } from './schema-store.js';

const MAX_SCHEMA_UPDATES = 100_000;
const SCHEMA_TABLE_IDS: ReadonlySet<string> = new Set([SCHEMA_KEYSPACES_TABLE.id, SCHEMA_TABLES_TABLE.id]);

export interface SchemaUpdate {
  readonly tableId: string;
  readonly update: PartitionUpdate;
}

/** Every schema partition of this node, tombstones included. */
export function exportSchema(engine: StorageEngine): SchemaUpdate[] {
  const out: SchemaUpdate[] = [];
  for (const tableId of SCHEMA_TABLE_IDS) {
    const table = engine.table(tableId);
    if (table === undefined) continue;
    let resume = null;
    do {
      const page = table.scanRange({ startToken: null, endToken: null, resume, pageRows: 1000 });
      for (const p of page.partitions) out.push({ tableId, update: p });
      resume = page.next;
    } while (resume !== null && out.length < MAX_SCHEMA_UPDATES);
  }
  return out;
}

/** Merges a peer's schema partitions into this node's schema tables. */
export async function importSchema(engine: StorageEngine, updates: readonly SchemaUpdate[]): Promise<void> {
  for (const { tableId, update } of updates) {
    const table = engine.table(tableId);
    if (table === undefined || !SCHEMA_TABLE_IDS.has(tableId)) throw new CorruptDataError(`schema update for unknown table ${tableId}`);
    await table.apply(update);
  }
}

export function encodeSchema(updates: readonly SchemaUpdate[]): Buffer {
  const w = new ByteWriter();
  w.u32(updates.length);
  for (const { tableId, update } of updates) {
    w.string(tableId);
    writeUpdate(w, update);
  }
  return Buffer.from(w.view());
}

export function decodeSchema(bytes: Uint8Array): SchemaUpdate[] {
  const r = new ByteReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const n = r.u32();
  if (n > MAX_SCHEMA_UPDATES) throw new CorruptDataError(`schema message with ${n} updates`);
  const out: SchemaUpdate[] = [];
  for (let i = 0; i < n; i++) {
    const tableId = r.string();
    if (!SCHEMA_TABLE_IDS.has(tableId)) throw new CorruptDataError(`schema update for unknown table ${tableId}`);
    out.push({ tableId, update: readUpdate(r) });
  }
  return out;
}
