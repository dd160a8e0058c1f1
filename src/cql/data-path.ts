/**
 * The seam between the CQL layer and where data lives, like Cassandra's StorageProxy.
 *
 * The CQL layer turns statements into partition updates and reads, and hands them to a
 * `DataPath` with the request's consistency level. On one node (`LocalDataPath`) that is the
 * local storage engine; the coordinator of #5 implements the same interface over the ring, so
 * nothing above this line changes when replication arrives.
 */
import { InvalidRequest } from '../errors.js';
import type { TableMetadata } from '../schema/schema.js';
import type { Partition, PartitionUpdate } from '../storage/data/types.js';
import type { RangeScanPage, RangeScanQuery, SliceQuery } from '../storage/engine/api.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import type { TableStore } from '../storage/engine/table-store.js';
import type { ConsistencyLevel } from './request.js';

export interface Mutation {
  readonly table: TableMetadata;
  readonly update: PartitionUpdate;
}

export interface WriteOptions {
  /** The client's causal context (SPEC 3.1 `context`): what it read, for siblings-mode tables. */
  readonly context?: string | null;
  /** A logged BATCH (not UNLOGGED): written through the batch log when it spans partitions. */
  readonly logged?: boolean;
}

export interface WriteResult {
  /** For the client (e.g. a row with many siblings). */
  readonly warnings: readonly string[];
}

export const NO_WARNINGS: WriteResult = Object.freeze({ warnings: Object.freeze([]) as readonly string[] });

export interface DataPath {
  /** Applies the mutations; resolves once `consistency` is met. */
  write(mutations: readonly Mutation[], consistency: ConsistencyLevel, options?: WriteOptions): Promise<WriteResult>;
  readPartition(table: TableMetadata, token: bigint, key: Buffer, slice: SliceQuery, consistency: ConsistencyLevel): Promise<Partition | null>;
  scanRange(table: TableMetadata, query: RangeScanQuery, consistency: ConsistencyLevel): Promise<RangeScanPage>;
  truncate(table: TableMetadata): Promise<void>;
}

/** One node: every consistency level is met by the local replica (RF is 1 in effect). */
export class LocalDataPath implements DataPath {
  constructor(private readonly engine: StorageEngine) {}

  private store(table: TableMetadata): TableStore {
    const store = this.engine.table(table.id);
    // The schema and the engine's tables change together; a miss means the table was dropped
    // while this request was running.
    if (store === undefined) throw new InvalidRequest(`Table ${table.keyspace}.${table.name} was dropped`);
    return store;
  }

  async write(mutations: readonly Mutation[]): Promise<WriteResult> {
    if (mutations.length === 1) {
      await this.store(mutations[0]!.table).apply(mutations[0]!.update);
      return NO_WARNINGS;
    }
    await Promise.all(mutations.map((m) => this.store(m.table).apply(m.update)));
    return NO_WARNINGS;
  }

  async readPartition(table: TableMetadata, token: bigint, key: Buffer, slice: SliceQuery): Promise<Partition | null> {
    return this.store(table).readPartition(token, key, slice);
  }

  async scanRange(table: TableMetadata, query: RangeScanQuery): Promise<RangeScanPage> {
    return this.store(table).scanRange(query);
  }

  async truncate(table: TableMetadata): Promise<void> {
    await this.store(table).truncate();
  }
}
