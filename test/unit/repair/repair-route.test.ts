/**
 * `POST /v1/admin/repair` through `fastify.inject()` (the report serialised whole, SPEC 3.2
 * errors) and the CLI's rendering of a report.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { renderRepairReport } from '../../../src/cli/inspect/repair-command.js';
import type { SchemaDescription } from '../../../src/cql/request.js';
import { InvalidRequest } from '../../../src/errors.js';
import { buildHttpApp, type AdminOperations } from '../../../src/http/app.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import type { RepairReport } from '../../../src/repair/repair-service.js';

const SCHEMA: SchemaDescription = { cluster_name: 'test', partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner', version: 'v', keyspaces: [] };

const REPORT: RepairReport = {
  keyspaces: ['ks'],
  keyspaces_skipped: ['solo: replication factor 1'],
  tables: 1,
  ranges_compared: 47,
  ranges_mismatched: 3,
  ranges_skipped: 1,
  rows_streamed: 120,
  partitions_streamed: 60,
  bytes_streamed: 3 * 1024 * 1024,
  transfers: 4,
  replicas_down: ['127.0.0.3:7000'],
  failures: [],
  duration_ms: 2500,
  tables_detail: [
    {
      keyspace: 'ks',
      table: 'kv',
      ranges_compared: 47,
      ranges_mismatched: 3,
      ranges_skipped: 1,
      rows_streamed: 120,
      partitions_streamed: 60,
      bytes_streamed: 3 * 1024 * 1024,
      transfers: 4,
      validation_ms: 1400,
      streaming_ms: 1000,
      duration_ms: 2400,
    },
  ],
};

let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((app) => app.close()));
  open = [];
});

function appWith(repair: AdminOperations['repair']): FastifyInstance {
  const app = buildHttpApp({
    cql: { execute: async () => ({ kind: 'void', warnings: [], trace: null }) },
    describeSchema: () => SCHEMA,
    health: () => 'serving',
    registry: createMetricsRegistry(),
    maxBodyBytes: 4096,
    defaultConsistency: 'ONE',
    admin: { flush: async () => {}, compact: async () => {}, drain: async () => {}, ...(repair === undefined ? {} : { repair }) },
    logger: pino({ level: 'silent' }),
  });
  open.push(app);
  return app;
}

describe('POST /v1/admin/repair', () => {
  it('runs the repair named by the body and answers with the whole report', async () => {
    const calls: unknown[] = [];
    const app = appWith(async (keyspace, table) => {
      calls.push([keyspace, table]);
      return REPORT;
    });
    const res = await app.inject({ method: 'POST', url: '/v1/admin/repair', payload: { keyspace: 'ks', table: 'kv' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(REPORT);
    const empty = await app.inject({ method: 'POST', url: '/v1/admin/repair' });
    expect(empty.statusCode).toBe(200);
    expect(calls).toEqual([
      ['ks', 'kv'],
      [undefined, undefined],
    ]);
  });

  it('answers Invalid for a table without keyspace, a refused repair, or a node without repair', async () => {
    const app = appWith(async () => {
      throw new InvalidRequest('a repair is already running on this node');
    });
    const noKeyspace = await app.inject({ method: 'POST', url: '/v1/admin/repair', payload: { table: 'kv' } });
    expect(noKeyspace.statusCode).toBe(400);
    const running = await app.inject({ method: 'POST', url: '/v1/admin/repair', payload: {} });
    expect(running.json()).toEqual({ error: { code: 'Invalid', message: 'a repair is already running on this node' } });
    const absent = await appWith(undefined).inject({ method: 'POST', url: '/v1/admin/repair', payload: {} });
    expect(absent.statusCode).toBe(400);
    expect(absent.json().error.code).toBe('Invalid');
  });
});

describe('ringtail repair output', () => {
  it('prints a summary, one row per table, and what was not repaired', () => {
    const lines = renderRepairReport(REPORT);
    expect(lines[0]).toBe('Repair of ks done in 2.5 s: 1 tables, 47 ranges compared, 3 mismatched, 1 skipped; 120 rows (3.0 MiB) streamed in 4 transfers');
    expect(lines).toContain('Keyspace  Table  Compared  Mismatched  Skipped  Rows streamed  Streamed  Transfers  Time');
    expect(lines).toContain('ks        kv     47        3           1        120            3.0 MiB   4          2.4 s');
    expect(lines).toContain('Not repaired: solo: replication factor 1');
    expect(lines).toContain('Replicas DOWN (their ranges were compared without them): 127.0.0.3:7000');
    expect(renderRepairReport({ ...REPORT, failures: ['ks.kv: merkle trees from x: timeout'] }).slice(-2)).toEqual(['Failures (1):', '  ks.kv: merkle trees from x: timeout']);
  });
});
