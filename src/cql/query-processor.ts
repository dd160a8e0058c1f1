/**
 * Runs CQL requests: parse (cached), plan (cached per schema version and keyspace), execute.
 *
 * The prepared-statement cache is keyed by the query text, so a hot statement sent with new
 * parameters is parsed once, as a driver's prepared statement would be; its plan (table
 * resolved, restrictions checked, selectors built) is cached beside it and rebuilt when the
 * schema version or the session keyspace differs. Bounds: `MAX_CACHED_STATEMENTS` entries,
 * least recently used evicted; statements longer than `MAX_CACHED_QUERY_CHARS` are not cached.
 */
import type { Batch, ParsedStatement, Statement } from './ast.js';
import { InvalidRequest } from '../errors.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { SchemaManager } from '../schema/schema-manager.js';
import type { DataPath } from './data-path.js';
import { executeSchemaStatement, isSchemaStatement } from './ddl.js';
import type { ExecutionContext } from './execution-context.js';
import { TimeUuidGenerator, type FunctionContext } from './functions.js';
import { prepareModification, timestampOf, UpdateCollector, type ModificationPlan } from './modification.js';
import { parse } from './parser.js';
import { ListPositionClock } from './row-codec.js';
import { isConsistencyLevel, type ConsistencyLevel, type CqlExecutor, type CqlRequest, type CqlResult } from './request.js';
import { prepareSelect, type SelectPlan } from './select.js';
import { Bindings } from './terms.js';

export const MAX_CACHED_STATEMENTS = 2000;
const MAX_CACHED_QUERY_CHARS = 64 * 1024;
/** Statements in one BATCH at most. */
export const MAX_BATCH_STATEMENTS = 65_535;

type Plan = { kind: 'select'; plan: SelectPlan } | { kind: 'modify'; plans: readonly ModificationPlan[]; batch: Batch | null } | { kind: 'schema' };

interface CacheEntry {
  readonly parsed: ParsedStatement;
  plan: Plan | null;
  planVersion: string | null;
  planKeyspace: string | null;
}

export interface QueryProcessorOptions {
  readonly schema: SchemaManager;
  readonly dataPath: DataPath;
  readonly clock: Clock;
  readonly random: Random;
  readonly defaultConsistency: ConsistencyLevel;
  /** Source of write timestamps (µs); default: the clock's `nowMicros`. A node passes its Hybrid Clock. */
  readonly writeClock?: { now(): number };
}

export class QueryProcessor implements CqlExecutor {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly functions: FunctionContext;

  private readonly writeTimestamp: () => number;

  constructor(private readonly options: QueryProcessorOptions) {
    const writeClock = options.writeClock;
    this.writeTimestamp = writeClock === undefined ? () => options.clock.nowMicros() : () => writeClock.now();
    this.functions = {
      clock: options.clock,
      random: options.random,
      timeUuids: new TimeUuidGenerator(options.clock, options.random),
      listPositions: new ListPositionClock(options.clock),
    };
  }

  /** Number of cached statements (for metrics and tests). */
  get cachedStatements(): number {
    return this.cache.size;
  }

  private entryFor(query: string): CacheEntry {
    const hit = this.cache.get(query);
    if (hit !== undefined) {
      // Re-insert: Map order is the LRU order.
      this.cache.delete(query);
      this.cache.set(query, hit);
      return hit;
    }
    const entry: CacheEntry = { parsed: parse(query), plan: null, planVersion: null, planKeyspace: null };
    if (query.length <= MAX_CACHED_QUERY_CHARS) {
      if (this.cache.size >= MAX_CACHED_STATEMENTS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(query, entry);
    }
    return entry;
  }

  async execute(request: CqlRequest): Promise<CqlResult> {
    const entry = this.entryFor(request.query);
    const consistency = request.consistency ?? this.options.defaultConsistency;
    if (!isConsistencyLevel(consistency)) throw new InvalidRequest(`Unknown consistency level ${String(consistency)}`);
    const schema = this.options.schema.current;
    const ctx: ExecutionContext = {
      schema,
      keyspace: request.keyspace ?? null,
      consistency,
      dataPath: this.options.dataPath,
      clock: this.options.clock,
      random: this.options.random,
      functions: this.functions,
      bindings: Bindings.of(entry.parsed.markers, request.params),
      requestTimestamp: request.timestamp ?? null,
      writeTimestamp: this.writeTimestamp,
    };
    const statement = entry.parsed.statement;
    if (entry.plan === null || entry.planVersion !== schema.version || entry.planKeyspace !== ctx.keyspace) {
      entry.plan = plan(statement, ctx);
      entry.planVersion = schema.version;
      entry.planKeyspace = ctx.keyspace;
    }
    const p = entry.plan;
    switch (p.kind) {
      case 'schema':
        if (!isSchemaStatement(statement)) throw new Error('schema plan for a non-schema statement');
        return executeSchemaStatement(statement, ctx, this.options.schema);
      case 'select':
        if (consistency === 'ANY') throw new InvalidRequest('ANY ConsistencyLevel is only supported for writes');
        return p.plan.execute(ctx, request.pageSize ?? null, request.pagingState ?? null);
      case 'modify': {
        if (consistency === 'SERIAL' || consistency === 'LOCAL_SERIAL') throw new InvalidRequest(`You must use conditional updates for serializable writes`);
        const collector = new UpdateCollector();
        const batchTimestamp = p.batch === null ? null : batchTimestampOf(p.batch, ctx);
        for (const m of p.plans) await m.collect(ctx, collector, batchTimestamp);
        const written = await ctx.dataPath.write(collector.mutations(), consistency, {
          context: request.context ?? null,
          logged: p.batch !== null && p.batch.type === 'logged',
        });
        return { kind: 'void', warnings: written.warnings, trace: null };
      }
    }
  }
}

function plan(statement: Statement, ctx: ExecutionContext): Plan {
  if (isSchemaStatement(statement)) return { kind: 'schema' };
  switch (statement.kind) {
    case 'select':
      return { kind: 'select', plan: prepareSelect(statement, ctx) };
    case 'batch': {
      if (statement.type === 'counter') throw new InvalidRequest('counter columns are not supported');
      if (statement.statements.length > MAX_BATCH_STATEMENTS) throw new InvalidRequest(`Too many statements in batch: ${statement.statements.length} > ${MAX_BATCH_STATEMENTS}`);
      if (statement.using.ttl !== null) throw new InvalidRequest('Global TTL on the BATCH statement is not supported.');
      if (statement.using.timestamp !== null && statement.statements.some((s) => s.using.timestamp !== null)) {
        throw new InvalidRequest('Timestamp must be set either on BATCH or individual statements');
      }
      return { kind: 'modify', plans: statement.statements.map((s) => prepareModification(s, ctx)), batch: statement };
    }
    default:
      return { kind: 'modify', plans: [prepareModification(statement, ctx)], batch: null };
  }
}

/** One timestamp for every statement of a batch without its own, as Cassandra does. */
function batchTimestampOf(batch: Batch, ctx: ExecutionContext): number {
  if (batch.using.timestamp !== null) return timestampOf(batch.using.timestamp, ctx);
  return ctx.requestTimestamp ?? ctx.writeTimestamp();
}
