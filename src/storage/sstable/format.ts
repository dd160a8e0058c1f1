/**
 * SSTable file format (version 1): one immutable SQLite database per SSTable.
 *
 *   PRAGMA page_size = 16384            -- 1 KB rows fit in a page instead of overflowing (ARCHITECTURE.md)
 *   CREATE TABLE data (
 *     pkey BLOB NOT NULL,               -- token as 8 order-preserving bytes + partition key bytes
 *     ck   BLOB NOT NULL,               -- 0x00: partition header; 0x01 + clustering: a row
 *     v    BLOB NOT NULL,               -- encoded header or row (src/storage/data/codec.ts)
 *     PRIMARY KEY (pkey, ck)
 *   ) WITHOUT ROWID;                    -- the B-tree itself is in (token, partition, clustering) order
 *   CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
 *
 * meta keys: format_version, generation, partitions, rows, min_pkey, max_pkey, min_ts, max_ts,
 * bloom (bloom-filter.ts), created_at_ms.
 *
 * Rows are inserted in key order inside one transaction by a worker thread, with the journal
 * off; the file is written as `<name>.tmp`, fsynced, then renamed and listed in the table's
 * manifest. A file not listed in the manifest is never read (it is deleted at start-up), so a
 * crash mid-write leaves nothing visible.
 */
export const SSTABLE_FORMAT_VERSION = 1;
export const SSTABLE_PAGE_SIZE = 16384;

export function sstableFileName(generation: number): string {
  return `sst-${String(generation).padStart(8, '0')}.db`;
}

export function tempFileName(generation: number): string {
  return `${sstableFileName(generation)}.tmp`;
}

const SSTABLE_NAME = /^sst-(\d{8,})\.db$/;

export function generationOf(fileName: string): number | null {
  const m = SSTABLE_NAME.exec(fileName);
  return m ? Number(m[1]) : null;
}

export const CREATE_SCHEMA = `
  CREATE TABLE data (pkey BLOB NOT NULL, ck BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (pkey, ck)) WITHOUT ROWID;
  CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
`;

export interface SstableMeta {
  readonly formatVersion: number;
  readonly generation: number;
  readonly partitions: number;
  readonly rows: number;
  readonly minPkey: Buffer;
  readonly maxPkey: Buffer;
  readonly minTs: number;
  readonly maxTs: number;
  readonly createdAtMs: number;
}
