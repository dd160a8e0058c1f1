/**
 * The node's current schema, and the one place that changes it.
 *
 * A change is serialized with every other change (a promise chain, so check-then-write DDL
 * such as CREATE … IF NOT EXISTS cannot race), persisted through the SchemaStore, applied to
 * the storage engine (tables opened or dropped), and then the snapshot is swapped. Requests
 * hold the snapshot they started with.
 */
import type { Logger } from '../util/logger.js';
import type { StorageEngine } from '../storage/engine/storage-engine.js';
import type { TableOptions } from '../storage/engine/api.js';
import type { Schema, TableMetadata } from './schema.js';
import type { SchemaStore } from './schema-store.js';

export function storageOptionsOf(t: TableMetadata): TableOptions {
  const c = t.params.compaction;
  return { id: t.id, keyspace: t.keyspace, name: t.name, gcGraceSeconds: t.params.gcGraceSeconds, compaction: { enabled: c.enabled, minThreshold: c.minThreshold, maxThreshold: c.maxThreshold } };
}

export type SchemaListener = (schema: Schema) => void;

export class SchemaManager {
  private schema: Schema;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: SchemaListener[] = [];

  constructor(
    readonly store: SchemaStore,
    private readonly engine: StorageEngine,
    private readonly logger: Logger,
  ) {
    this.schema = store.load();
  }

  get current(): Schema {
    return this.schema;
  }

  /** Opens the storage table of every table in the schema (start-up, before commit-log replay). */
  openAllTables(): void {
    for (const t of this.schema.tables()) this.engine.openTable(storageOptionsOf(t));
  }

  onChange(listener: SchemaListener): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `change` alone: it sees the latest schema, persists what it decides through the store,
   * and returns what it wants to report. Then the schema is reloaded and tables are opened or
   * dropped to match it.
   */
  change<T>(change: (schema: Schema, store: SchemaStore) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const before = this.schema;
      const result = await change(before, this.store);
      const after = this.store.load();
      await this.reconcileTables(before, after);
      this.schema = after;
      if (after.version !== before.version) {
        this.logger.info({ version: after.version }, 'schema changed');
        for (const l of this.listeners) l(after);
      }
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reconcileTables(before: Schema, after: Schema): Promise<void> {
    const live = new Set<string>();
    for (const t of after.tables()) {
      live.add(t.id);
      this.engine.openTable(storageOptionsOf(t));
    }
    for (const t of before.tables()) if (!live.has(t.id)) await this.engine.dropTable(t.id);
  }
}
