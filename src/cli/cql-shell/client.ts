/**
 * The shell's side of the node's HTTP API: `POST /v1/cql` (SPEC 3.1) and `GET /v1/schema`
 * (SPEC 3.3), over one undici connection pool that `close()` releases so the process can exit.
 *
 * Two kinds of failure, kept apart because the shell treats them differently:
 * - `CqlErrorResponse`: the server answered with `{"error": {"code", "message", …}}` (SPEC 3.2).
 *   The statement failed; the session goes on.
 * - `ConnectionFailure`: no usable answer (refused, unreachable, timed out, cancelled, or a body
 *   that is not the API's). A script stops on `refused`/`unreachable`; an interactive session
 *   reports it and goes on.
 *
 * Bounds: connect timeout, a timeout for headers and for the body (`REQUEST_TIMEOUT_MS`), and a
 * response size cap (`MAX_RESPONSE_BYTES`). User info in the URL (`http://user:pw@host`) becomes
 * Basic credentials (SPEC 7), never part of the request line.
 */
import { Agent, request } from 'undici';
import type { ResultColumn, ResultRow } from './format-table.js';
import { CONNECT_TIMEOUT_MS, MAX_RESPONSE_BYTES, REQUEST_TIMEOUT_MS } from './limits.js';

export interface CqlRequest {
  readonly query: string;
  readonly params?: readonly unknown[] | Readonly<Record<string, unknown>>;
  readonly keyspace?: string | null;
  readonly consistency?: string;
  readonly pageSize?: number;
  readonly pagingState?: string | null;
}

export type CqlResultKind = 'rows' | 'void' | 'schema_change' | 'set_keyspace';

/** A 200 answer of `POST /v1/cql`, checked for the fields the shell reads. */
export interface CqlResponse {
  readonly kind: CqlResultKind;
  readonly columns?: readonly ResultColumn[];
  readonly rows?: readonly ResultRow[];
  readonly paging_state: string | null;
  readonly keyspace?: string;
  readonly change?: string;
  readonly target?: string;
  readonly table?: string;
  readonly warnings: readonly string[];
  readonly conflicts?: number;
}

export interface SchemaColumn {
  readonly name: string;
  readonly type: string;
  readonly kind: 'partition_key' | 'clustering' | 'regular' | 'static';
}

export interface SchemaTable {
  readonly name: string;
  readonly columns: readonly SchemaColumn[];
  readonly cql: string;
}

export interface SchemaKeyspace {
  readonly name: string;
  readonly replication: Readonly<Record<string, unknown>>;
  readonly cql: string;
  readonly tables: readonly SchemaTable[];
}

/** `GET /v1/schema`. */
export interface SchemaDescription {
  readonly cluster_name: string;
  readonly partitioner: string;
  readonly version: string;
  readonly keyspaces: readonly SchemaKeyspace[];
}

/** What the session needs from a server; tests pass a fake. */
export interface CqlClient {
  readonly host: string;
  execute(req: CqlRequest, signal?: AbortSignal): Promise<CqlResponse>;
  schema(signal?: AbortSignal): Promise<SchemaDescription>;
  close(): Promise<void>;
}

/** The server answered with an error of SPEC 3.2. */
export class CqlErrorResponse extends Error {
  override readonly name = 'CqlErrorResponse';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export type ConnectionFailureReason = 'refused' | 'unreachable' | 'timeout' | 'cancelled' | 'bad-response';

/** No usable answer from the server. */
export class ConnectionFailure extends Error {
  override readonly name = 'ConnectionFailure';
  constructor(
    readonly reason: ConnectionFailureReason,
    message: string,
  ) {
    super(message);
  }
  /** The server cannot be reached at all: a script cannot go on. */
  get unreachable(): boolean {
    return this.reason === 'refused' || this.reason === 'unreachable';
  }
}

const RESULT_KINDS = new Set<string>(['rows', 'void', 'schema_change', 'set_keyspace']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `127.0.0.1:8042` → `http://127.0.0.1:8042`; drops a trailing `/`. */
export function normalizeHost(host: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  return withScheme.replace(/\/+$/, '');
}

export interface HttpCqlClientOptions {
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxResponseBytes?: number;
}

export class HttpCqlClient implements CqlClient {
  /** The host as shown to the user, without credentials. */
  readonly host: string;
  private readonly origin: string;
  private readonly authorization: string | null;
  private readonly agent: Agent;
  private readonly requestTimeoutMs: number;

  constructor(host: string, options: HttpCqlClientOptions = {}) {
    const url = new URL(normalizeHost(host));
    this.authorization = url.username === '' ? null : `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    this.origin = url.origin;
    this.host = normalizeHost(url.href);
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.agent = new Agent({
      connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
      maxResponseSize: options.maxResponseBytes ?? MAX_RESPONSE_BYTES,
    });
  }

  async execute(req: CqlRequest, signal?: AbortSignal): Promise<CqlResponse> {
    const body: Record<string, unknown> = { query: req.query };
    if (req.params !== undefined) body.params = req.params;
    if (req.keyspace != null) body.keyspace = req.keyspace;
    if (req.consistency !== undefined) body.consistency = req.consistency;
    if (req.pageSize !== undefined) body.page_size = req.pageSize;
    if (req.pagingState != null) body.paging_state = req.pagingState;
    return checkCqlResponse(await this.call('POST', '/v1/cql', body, signal));
  }

  async schema(signal?: AbortSignal): Promise<SchemaDescription> {
    return checkSchema(await this.call('GET', '/v1/schema', undefined, signal));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.authorization !== null) headers.authorization = this.authorization;
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.origin}${path}`, {
        dispatcher: this.agent,
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      throw this.connectionFailure(e, signal);
    }
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw new ConnectionFailure('bad-response', `${this.host}${path} answered HTTP ${status} with a body that is not JSON`);
    }
    if (status >= 200 && status < 300) return json;
    throw errorResponse(status, json, `${this.host}${path}`);
  }

  private connectionFailure(e: unknown, signal: AbortSignal | undefined): ConnectionFailure {
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = err.code ?? err.cause?.code ?? '';
    if (signal?.aborted === true) return new ConnectionFailure('cancelled', 'request cancelled');
    switch (code) {
      case 'ECONNREFUSED':
        return new ConnectionFailure('refused', `could not connect to ${this.host} (connection refused)`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'EADDRNOTAVAIL':
        return new ConnectionFailure('unreachable', `could not connect to ${this.host} (${code})`);
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new ConnectionFailure('unreachable', `could not connect to ${this.host} (no answer to connect within the timeout)`);
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return new ConnectionFailure('timeout', `no response from ${this.host} within ${this.requestTimeoutMs} ms`);
      case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
        return new ConnectionFailure('bad-response', `response from ${this.host} larger than ${MAX_RESPONSE_BYTES} bytes`);
      default:
        return new ConnectionFailure('unreachable', `request to ${this.host} failed: ${err.message}${code ? ` (${code})` : ''}`);
    }
  }
}

/** Turns an error status into the server's error, or a failure when the body is not one. */
function errorResponse(status: number, json: unknown, where: string): Error {
  const error = isObject(json) ? json.error : undefined;
  if (isObject(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    const { code, message, ...fields } = error;
    return new CqlErrorResponse(code, message, status, fields);
  }
  // Not the API's error shape (a proxy, or the HTTP framework's own 404/413): say what came back.
  const detail = isObject(json) && typeof json.message === 'string' ? `: ${json.message}` : '';
  return new ConnectionFailure('bad-response', `${where} answered HTTP ${status}${detail}`);
}

function checkCqlResponse(json: unknown): CqlResponse {
  const bad = (why: string) => new ConnectionFailure('bad-response', `unexpected answer to /v1/cql: ${why}`);
  if (!isObject(json)) throw bad('not an object');
  if (typeof json.kind !== 'string' || !RESULT_KINDS.has(json.kind)) throw bad(`unknown kind ${JSON.stringify(json.kind)}`);
  if (json.kind === 'rows' && (!Array.isArray(json.rows) || !json.rows.every(isObject))) throw bad('rows is not a list of objects');
  if (json.columns !== undefined && !(Array.isArray(json.columns) && json.columns.every((c) => isObject(c) && typeof c.name === 'string'))) {
    throw bad('columns is not a list of {name, type}');
  }
  if (json.kind === 'set_keyspace' && typeof json.keyspace !== 'string') throw bad('set_keyspace without a keyspace');
  const pagingState = typeof json.paging_state === 'string' ? json.paging_state : null;
  const warnings = Array.isArray(json.warnings) ? json.warnings.map(String) : [];
  return { ...(json as unknown as CqlResponse), paging_state: pagingState, warnings };
}

function checkSchema(json: unknown): SchemaDescription {
  const ok =
    isObject(json) &&
    Array.isArray(json.keyspaces) &&
    json.keyspaces.every((k) => isObject(k) && typeof k.name === 'string' && Array.isArray(k.tables) && k.tables.every((t) => isObject(t) && typeof t.name === 'string'));
  if (!ok) throw new ConnectionFailure('bad-response', 'unexpected answer to /v1/schema');
  return json as unknown as SchemaDescription;
}
