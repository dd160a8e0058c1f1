/**
 * JSON schemas of the HTTP API's request and response bodies (SPEC 3.1, 3.3). fastify compiles
 * them once at boot into a validator (ajv, configured in app.ts to reject rather than drop
 * unknown fields and never to coerce types) and response serialisers (fast-json-stringify).
 *
 * Bounds: `page_size` 1..100000; `params` at most 65535 entries (Cassandra's limit on bound
 * variables per statement); `timestamp` a safe integer; the whole body at most
 * `http_max_body_bytes`.
 */
import { CONSISTENCY_LEVELS, type ConsistencyLevel } from '../cql/request.js';

export const MAX_PAGE_SIZE = 100_000;
export const MAX_BOUND_PARAMS = 65_535;

/** The body of `POST /v1/cql`, as SPEC 3.1 spells it (snake_case). */
export interface CqlBody {
  readonly query: string;
  readonly params?: readonly unknown[] | Readonly<Record<string, unknown>> | null;
  readonly keyspace?: string | null;
  readonly consistency?: ConsistencyLevel | null;
  readonly page_size?: number | null;
  readonly paging_state?: string | null;
  readonly timestamp?: number | null;
  readonly context?: string | null;
  readonly trace?: boolean;
}

export const CQL_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string' },
    params: { type: ['array', 'object', 'null'], maxItems: MAX_BOUND_PARAMS, maxProperties: MAX_BOUND_PARAMS },
    keyspace: { type: ['string', 'null'] },
    consistency: { type: ['string', 'null'], enum: [...CONSISTENCY_LEVELS, null] },
    page_size: { type: ['integer', 'null'], minimum: 1, maximum: MAX_PAGE_SIZE },
    paging_state: { type: ['string', 'null'] },
    timestamp: { type: ['integer', 'null'], minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
    context: { type: ['string', 'null'] },
    trace: { type: 'boolean' },
  },
} as const;

/** SPEC 4: keyspace and table names. */
const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,47}$';

/** The query of `GET /v1/status` and `GET /v1/ring`: ownership effective for a keyspace. */
export interface KeyspaceQuery {
  readonly keyspace?: string;
}

export const KEYSPACE_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: { keyspace: { type: 'string', pattern: NAME_PATTERN } },
} as const;

/** Most `key` values in `GET /v1/endpoints`: partition key columns are far fewer in practice. */
export const MAX_ENDPOINT_KEY_VALUES = 64;
/** Longest `key` literal in `GET /v1/endpoints` (a serialized partition key is at most 65535 bytes). */
export const MAX_ENDPOINT_KEY_CHARS = 2 * 65_535 + 4;

/** The query of `GET /v1/endpoints`: one `key` (a CQL literal) per partition key column. */
export interface EndpointsQuery {
  readonly keyspace: string;
  readonly table: string;
  readonly key: string | readonly string[];
}

const keyLiteral = { type: 'string', maxLength: MAX_ENDPOINT_KEY_CHARS } as const;

export const ENDPOINTS_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['keyspace', 'table', 'key'],
  properties: {
    keyspace: { type: 'string', pattern: NAME_PATTERN },
    table: { type: 'string', pattern: NAME_PATTERN },
    key: { anyOf: [keyLiteral, { type: 'array', minItems: 1, maxItems: MAX_ENDPOINT_KEY_VALUES, items: keyLiteral }] },
  },
} as const;

/** The body of `POST /v1/admin/flush|compact|…`; an absent body means `{}`. */
export interface AdminBody {
  readonly keyspace?: string;
  readonly table?: string;
}

export const ADMIN_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    keyspace: { type: 'string', pattern: NAME_PATTERN },
    table: { type: 'string', pattern: NAME_PATTERN },
  },
} as const;

export const REMOVENODE_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['host_id'],
  properties: { host_id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$' } },
} as const;

export const ADMIN_RESPONSE_SCHEMA = {
  200: {
    type: 'object',
    required: ['ok'],
    properties: { ok: { type: 'boolean' } },
  },
} as const;

const repairCounts = {
  ranges_compared: { type: 'integer' },
  ranges_mismatched: { type: 'integer' },
  ranges_skipped: { type: 'integer' },
  rows_streamed: { type: 'integer' },
  partitions_streamed: { type: 'integer' },
  bytes_streamed: { type: 'integer' },
  transfers: { type: 'integer' },
  duration_ms: { type: 'integer' },
} as const;

const repairTableTimes = { validation_ms: { type: 'integer' }, streaming_ms: { type: 'integer' } } as const;

/** `POST /v1/admin/repair`: mirrors `RepairReport` in src/repair/repair-service.ts. */
export const REPAIR_RESPONSE_SCHEMA = {
  200: {
    type: 'object',
    properties: {
      keyspaces: { type: 'array', items: { type: 'string' } },
      keyspaces_skipped: { type: 'array', items: { type: 'string' } },
      tables: { type: 'integer' },
      ...repairCounts,
      replicas_down: { type: 'array', items: { type: 'string' } },
      failures: { type: 'array', items: { type: 'string' } },
      tables_detail: {
        type: 'array',
        items: { type: 'object', properties: { keyspace: { type: 'string' }, table: { type: 'string' }, ...repairCounts, ...repairTableTimes } },
      },
    },
  },
} as const;

export const HEALTH_STATES = ['starting', 'serving', 'joining', 'draining'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

const healthBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: HEALTH_STATES } },
} as const;

export const HEALTH_RESPONSE_SCHEMA = { 200: healthBody, 503: healthBody } as const;

/**
 * `GET /v1/schema`: mirrors `SchemaDescription` in src/cql/request.ts. Nothing is `required`:
 * the serialiser would otherwise turn a description missing a field into a 500.
 */
export const SCHEMA_RESPONSE_SCHEMA = {
  200: {
    type: 'object',
    properties: {
      cluster_name: { type: 'string' },
      partitioner: { type: 'string' },
      version: { type: 'string' },
      keyspaces: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            replication: { type: 'object', additionalProperties: { type: 'string' } },
            durable_writes: { type: 'boolean' },
            cql: { type: 'string' },
            tables: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  id: { type: 'string' },
                  columns: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { name: { type: 'string' }, type: { type: 'string' }, kind: { type: 'string' } },
                    },
                  },
                  cql: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
