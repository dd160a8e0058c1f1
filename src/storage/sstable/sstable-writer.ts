/**
 * Writes one SSTable (format.ts) from entries supplied in strictly increasing (pkey, ck)
 * order. Runs inside a worker thread: it is synchronous and may take seconds.
 *
 * Invariants: entries strictly increase (asserted); the file is complete and fsynced when
 * `finish` returns, and only then may the caller rename and publish it.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { assert } from '../../util/assert.js';
import { isHeaderCk } from '../data/keys.js';
import { BloomFilter, hashKey } from './bloom-filter.js';
import { CREATE_SCHEMA, SSTABLE_FORMAT_VERSION, SSTABLE_PAGE_SIZE, type SstableMeta } from './format.js';

/**
 * A read checks every SSTable's filter, so false positives add up: with 16 SSTables at 1% each,
 * 15% of reads paid one wasted lookup (measured). 0.1% costs 14.4 bits per key instead of 9.6.
 */
export const BLOOM_FALSE_POSITIVE_RATE = 0.001;

export interface SstableWriterOptions {
  readonly path: string;
  readonly generation: number;
  readonly expectedPartitions: number;
  readonly createdAtMs: number;
}

export class SstableWriter {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly bloom: BloomFilter;
  private lastPkey: Buffer | null = null;
  private lastCk: Buffer | null = null;
  private minPkey: Buffer | null = null;
  private partitions = 0;
  private rows = 0;
  private minTs = Number.POSITIVE_INFINITY;
  private maxTs = Number.NEGATIVE_INFINITY;
  bytesWritten = 0;

  constructor(private readonly options: SstableWriterOptions) {
    fs.rmSync(options.path, { force: true });
    this.db = new Database(options.path);
    // better-sqlite3 opens connections in defensive mode, which silently ignores
    // journal_mode = OFF; the file is private until published, so no journal is needed.
    this.db.unsafeMode(true);
    const journal = this.db.pragma('journal_mode = OFF', { simple: true });
    assert(journal === 'off', `sstable writer could not turn the journal off (got ${String(journal)})`);
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma(`page_size = ${SSTABLE_PAGE_SIZE}`);
    this.db.pragma('cache_size = -65536');
    this.db.exec(CREATE_SCHEMA);
    this.insert = this.db.prepare('INSERT INTO data (pkey, ck, v) VALUES (?, ?, ?)');
    this.bloom = BloomFilter.forKeys(options.expectedPartitions, BLOOM_FALSE_POSITIVE_RATE);
    this.db.exec('BEGIN');
  }

  /** Timestamps of what is added, for the metadata (the caller knows them from decoding). */
  noteTimestamps(min: number, max: number): void {
    if (min < this.minTs) this.minTs = min;
    if (max > this.maxTs) this.maxTs = max;
  }

  add(pkey: Buffer, ck: Buffer, v: Buffer): void {
    const samePartition = this.lastPkey !== null && this.lastPkey.equals(pkey);
    if (!samePartition) {
      assert(this.lastPkey === null || Buffer.compare(this.lastPkey, pkey) < 0, 'sstable partitions out of order');
      this.bloom.add(hashKey(pkey));
      this.partitions++;
      this.minPkey ??= pkey;
      this.lastPkey = pkey;
    } else {
      assert(Buffer.compare(this.lastCk!, ck) < 0, 'sstable rows out of order');
    }
    this.lastCk = ck;
    if (!isHeaderCk(ck)) this.rows++;
    this.insert.run(pkey, ck, v);
    this.bytesWritten += pkey.length + ck.length + v.length;
  }

  get isEmpty(): boolean {
    return this.lastPkey === null;
  }

  /** Commits, writes the metadata, closes and fsyncs. Returns the metadata. */
  finish(): SstableMeta {
    const meta: SstableMeta = {
      formatVersion: SSTABLE_FORMAT_VERSION,
      generation: this.options.generation,
      partitions: this.partitions,
      rows: this.rows,
      minPkey: this.minPkey ?? Buffer.alloc(0),
      maxPkey: this.lastPkey ?? Buffer.alloc(0),
      minTs: Number.isFinite(this.minTs) ? this.minTs : 0,
      maxTs: Number.isFinite(this.maxTs) ? this.maxTs : 0,
      createdAtMs: this.options.createdAtMs,
    };
    const put = this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
    put.run('format_version', meta.formatVersion);
    put.run('generation', meta.generation);
    put.run('partitions', meta.partitions);
    put.run('rows', meta.rows);
    put.run('min_pkey', meta.minPkey);
    put.run('max_pkey', meta.maxPkey);
    put.run('min_ts', meta.minTs);
    put.run('max_ts', meta.maxTs);
    put.run('created_at_ms', meta.createdAtMs);
    put.run('bloom', this.bloom.serialize());
    this.db.exec('COMMIT');
    this.db.close();
    const fd = fs.openSync(this.options.path, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return meta;
  }

  /** Abandons the file (on error). */
  abort(): void {
    try {
      if (this.db.open) this.db.close();
    } finally {
      fs.rmSync(this.options.path, { force: true });
    }
  }
}
