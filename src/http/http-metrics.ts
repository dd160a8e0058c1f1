/**
 * Prometheus metrics of the HTTP edge (SPEC 3.3 `GET /metrics`): CQL request latency by
 * statement kind and consistency level, errors by SPEC 3.2 code, and CQL requests in flight.
 *
 * Hot-path cost is one Map lookup and one `observe()` per request: the labelled histogram
 * children are cached per (kind, consistency) so prom-client does not hash a label object on
 * every call. Bounds: kinds are the 8 `StatementKind`s and consistency levels the 11 of
 * `CONSISTENCY_LEVELS`, so the cache and the exported series hold at most 88 children; error
 * codes are the 13 `ErrorCode`s. Series appear on first use, so an idle node exports no
 * all-zero histograms.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ConsistencyLevel } from '../cql/request.js';
import type { ErrorCode } from '../errors.js';

export const STATEMENT_KINDS = ['select', 'insert', 'update', 'delete', 'batch', 'ddl', 'use', 'other'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** From 100 µs (a memtable hit) to 10 s (twice the default read timeout). */
const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const KIND_OF_KEYWORD: ReadonlyMap<string, StatementKind> = new Map([
  ['select', 'select'],
  ['insert', 'insert'],
  ['update', 'update'],
  ['delete', 'delete'],
  ['begin', 'batch'],
  ['apply', 'batch'],
  ['use', 'use'],
  ['create', 'ddl'],
  ['alter', 'ddl'],
  ['drop', 'ddl'],
  ['truncate', 'ddl'],
]);

/** Longest keyword in `KIND_OF_KEYWORD`: a longer leading word cannot be one of them. */
const MAX_KEYWORD_LENGTH = 8;

/**
 * The kind of a statement from its first keyword, without parsing it: leading white space and
 * line comments (`--`, `//`) and block comments are skipped. Anything unrecognised (including text that
 * will not parse) is `other`. Linear in the skipped prefix, constant afterwards.
 */
export function statementKind(query: string): StatementKind {
  let i = skipSpaceAndComments(query);
  const start = i;
  while (i < query.length && i - start <= MAX_KEYWORD_LENGTH && isLetter(query.charCodeAt(i))) i++;
  if (i === start || i - start > MAX_KEYWORD_LENGTH) return 'other';
  return KIND_OF_KEYWORD.get(query.slice(start, i).toLowerCase()) ?? 'other';
}

function skipSpaceAndComments(q: string): number {
  let i = 0;
  for (;;) {
    while (i < q.length && q.charCodeAt(i) <= 0x20) i++;
    const two = q.slice(i, i + 2);
    if (two === '--' || two === '//') {
      const eol = q.indexOf('\n', i);
      if (eol === -1) return q.length;
      i = eol + 1;
    } else if (two === '/*') {
      const end = q.indexOf('*/', i + 2);
      if (end === -1) return q.length;
      i = end + 2;
    } else {
      return i;
    }
  }
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

interface Observer {
  observe(value: number): void;
}

export interface HttpMetrics {
  /** Records one finished `/v1/cql` request, successful or not. */
  observeRequest(kind: StatementKind, consistency: ConsistencyLevel, seconds: number): void;
  /** Counts one error response with a SPEC 3.2 code. */
  countError(code: ErrorCode): void;
}

/** Registers the HTTP metrics in `registry`; `inflight()` is read when Prometheus scrapes. */
export function registerHttpMetrics(registry: Registry, inflight: () => number): HttpMetrics {
  const latency = new Histogram({
    name: 'ringtail_cql_request_duration_seconds',
    help: 'Latency of POST /v1/cql requests as the node served them, by statement kind and consistency level',
    labelNames: ['kind', 'consistency'],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'ringtail_cql_errors_total',
    help: 'Error responses of the HTTP API, by SPEC error code',
    labelNames: ['code'],
    registers: [registry],
  });
  new Gauge({
    name: 'ringtail_cql_requests_in_flight',
    help: 'CQL requests being executed by this node (more than max_inflight_requests are shed with Overloaded)',
    registers: [registry],
    collect() {
      this.set(inflight());
    },
  });

  const children = new Map<string, Observer>();
  return {
    observeRequest(kind, consistency, seconds) {
      const key = `${kind}|${consistency}`;
      let child = children.get(key);
      if (child === undefined) {
        child = latency.labels(kind, consistency);
        children.set(key, child);
      }
      child.observe(seconds);
    },
    countError(code) {
      errors.inc({ code });
    },
  };
}
