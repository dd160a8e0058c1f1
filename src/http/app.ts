/**
 * The HTTP edge of one node (SPEC 3): fastify routes for CQL, schema, cluster status and
 * gossip, health, metrics and admin operations. It validates and maps requests, sheds load,
 * and turns every failure into SPEC 3.2's error JSON; the work itself is done by the injected
 * `CqlExecutor`, cluster views and admin operations.
 *
 * Invariants:
 * - Every response that is not a success is `{"error": {"code", "message", …}}` with the
 *   status of its code (`error-response.ts`), including fastify's own errors (validation,
 *   malformed JSON, 413, 415, 404, malformed HTTP). A bug answers 500 `ServerError` with a
 *   generic message; its stack goes to the log only.
 * - At most `maxInflightRequests` CQL requests execute at once; one more is answered
 *   `Overloaded` at once instead of queueing (Cassandra's native-transport load shedding),
 *   and so is every CQL request once the server has started closing.
 * - `/health` and `/metrics` are never shed: they are how operators see an overloaded node.
 * - Closing drains: requests in flight finish, and their responses close their connections,
 *   so `close()` does not wait for clients' keep-alive timeouts.
 *
 * Bounds: request bodies `maxBodyBytes` (`http_max_body_bytes`); CQL requests executing at
 * once `maxInflightRequests` (`max_inflight_requests`); per-field bounds in `schemas.ts`.
 *
 * fastify compiles validators and serialisers once at boot (STYLE.md §6), so the request path
 * does no schema lookups. ajv is configured to reject unknown fields and wrong types instead
 * of fastify's defaults (drop unknown fields, coerce types), which would hide client mistakes.
 * CQL results carry free-form rows whose key order is the column order, so they are
 * serialised with `JSON.stringify` (which keeps insertion order) rather than a schema.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type onSendHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import type { EndpointsReport, RingEntry, StatusReport } from '../cluster/status-report.js';
import type { ConsistencyLevel, CqlExecutor, CqlRequest, SchemaDescription } from '../cql/request.js';
import { InvalidRequest, Overloaded } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { errorResponse, notFoundResponse, type ErrorResponse } from './error-response.js';
import { registerHttpMetrics, statementKind } from './http-metrics.js';
import {
  ADMIN_BODY_SCHEMA,
  REMOVENODE_BODY_SCHEMA,
  REPAIR_RESPONSE_SCHEMA,
  ADMIN_RESPONSE_SCHEMA,
  CQL_BODY_SCHEMA,
  ENDPOINTS_QUERY_SCHEMA,
  HEALTH_RESPONSE_SCHEMA,
  KEYSPACE_QUERY_SCHEMA,
  SCHEMA_RESPONSE_SCHEMA,
  type AdminBody,
  type CqlBody,
  type EndpointsQuery,
  type HealthState,
  type KeyspaceQuery,
} from './schemas.js';

export interface AdminOperations {
  flush(keyspace?: string, table?: string): Promise<void>;
  compact(keyspace?: string, table?: string): Promise<void>;
  drain(): Promise<void>;
  /** Absent on a node without gossip. */
  membership?: MembershipOperations;
  /** Anti-entropy repair (src/repair) answering with its report; absent on a node without gossip. */
  repair?(keyspace?: string, table?: string): Promise<object>;
}

/** SPEC 2.3 decommission and removenode; each answers with the change's report (snake_case). */
export interface MembershipOperations {
  decommission(): Promise<object>;
  removeNode(hostId: string): Promise<object>;
}

/** The cluster as this node sees it (SPEC 3.3 `GET /v1/status`, `GET /v1/gossip`). */
export interface ClusterViews {
  /**
   * Every node with its `owns`: effective ownership under `keyspace`'s replication when given
   * (an unknown keyspace throws `InvalidRequest`), else the plain ring share.
   */
  status(keyspace?: string): StatusReport;
  /** Every endpoint's gossip state (`ringtail gossipinfo`); free-form JSON. */
  gossip(): unknown;
}

/** The ring and replica placement (SPEC 3.3 `GET /v1/ring`, `GET /v1/endpoints`). */
export interface RingViews {
  /** One entry per ring token in ring order; `owns` effective under `keyspace` when given. */
  ring(keyspace?: string): readonly RingEntry[];
  /** A partition key's token and replicas; `keys` are CQL literals, one per partition key column. */
  endpoints(keyspace: string, table: string, keys: readonly string[]): EndpointsReport;
}

export interface HttpDeps {
  cql: CqlExecutor;
  describeSchema(): SchemaDescription;
  health(): HealthState;
  /** prom-client registry; the HTTP metrics are added to it. */
  registry: Registry;
  /** `http_max_body_bytes`: larger bodies are answered 413. */
  maxBodyBytes: number;
  /** `default_consistency`: the level of requests that do not name one. */
  defaultConsistency: ConsistencyLevel;
  admin: AdminOperations;
  /** Absent on a node without gossip: `/v1/status` and `/v1/gossip` are then 404. */
  cluster?: ClusterViews;
  /** Absent on a node without gossip: `/v1/ring` and `/v1/endpoints` are then 404. */
  ring?: RingViews;
  /** pino; request logs are written at debug level. */
  logger: Logger;
}

export interface HttpAppOptions {
  /** `max_inflight_requests`: CQL requests executing at once before `Overloaded`. */
  maxInflightRequests?: number;
}

export const DEFAULT_MAX_INFLIGHT_REQUESTS = 1024;

const JSON_TYPE = 'application/json; charset=utf-8';
const CQL_PATH = '/v1/cql';

/** Builds the app without listening: the caller (`src/node.ts`, tests) listens or injects. */
export function buildHttpApp(deps: HttpDeps, options: HttpAppOptions = {}): FastifyInstance {
  const maxInflight = options.maxInflightRequests ?? DEFAULT_MAX_INFLIGHT_REQUESTS;
  if (!Number.isSafeInteger(maxInflight) || maxInflight < 1) {
    throw new RangeError(`maxInflightRequests must be a positive integer, got ${maxInflight}`);
  }
  if (!Number.isSafeInteger(deps.maxBodyBytes) || deps.maxBodyBytes < 1) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${deps.maxBodyBytes}`);
  }

  let inflight = 0;
  let closing = false;
  const metrics = registerHttpMetrics(deps.registry, () => inflight);

  const sendError = (reply: FastifyReply, response: ErrorResponse): FastifyReply => {
    if (closing) reply.header('connection', 'close');
    return reply.code(response.status).type(JSON_TYPE).send(response.body);
  };

  const app = fastify({
    // Typed as fastify's base logger so the instance is the plain `FastifyInstance` callers expect.
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new DebugRequestLogs(),
    // One child logger per request (fastify's default, to bind a request id) costs several µs
    // on a path that has a few dozen in all; request lines are debug-only, so log through the
    // node's logger itself.
    childLoggerFactory: (logger) => logger,
    bodyLimit: deps.maxBodyBytes,
    // Our own Overloaded answer (SPEC JSON) replaces fastify's plain 503 while closing.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allowUnionTypes: true } },
    frameworkErrors: (error, _request, reply) => {
      sendError(reply, errorResponse(error, deps.maxBodyBytes));
    },
    clientErrorHandler: (error, socket) => answerMalformedHttp(error, socket, deps.logger),
  });

  // Bodies are JSON only (SPEC 3): without this, a text/plain body would reach validation as
  // a string and fail with a less helpful message than 415.
  app.removeContentTypeParser('text/plain');

  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Closing waits for every open connection. An idle keep-alive connection is closed at once
  // (`forceCloseConnections: 'idle'`), but one busy when closing starts would stay open after
  // its response until the client's keep-alive ran out: every response sent while closing
  // asks the client to close the connection, so a drain ends when its last response does.
  // Error answers do it in `sendError` and `/v1/cql` where it answers; every other route gets
  // an onSend hook. Not a global hook: running one on every CQL response costs about a
  // microsecond on the node's hottest path.
  const closeWhenDraining: onSendHookHandler = (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  };
  app.addHook('onRoute', (route) => {
    if (route.url === CQL_PATH) return;
    const own = route.onSend;
    route.onSend = own === undefined ? [closeWhenDraining] : [...(Array.isArray(own) ? own : [own]), closeWhenDraining];
  });

  app.setErrorHandler((error, request, reply) => {
    const response = errorResponse(error, deps.maxBodyBytes);
    if (response.bug !== undefined) {
      request.log.error({ err: response.bug, method: request.method, url: request.url }, 'internal error serving a request');
    }
    if (request.routeOptions.url === CQL_PATH) metrics.countError(response.code);
    return sendError(reply, response);
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, notFoundResponse(request.method, request.url)));

  app.post<{ Body: CqlBody }>(CQL_PATH, { schema: { body: CQL_BODY_SCHEMA } }, async (request, reply) => {
    if (closing) throw new Overloaded('The node is shutting down');
    if (inflight >= maxInflight) {
      throw new Overloaded(`Too many requests in flight on this node (max_inflight_requests = ${maxInflight})`);
    }
    const body = request.body;
    const consistency = body.consistency ?? deps.defaultConsistency;
    const started = performance.now();
    inflight++;
    try {
      const result = await deps.cql.execute(toCqlRequest(body, consistency));
      if (closing) reply.header('connection', 'close');
      return reply.type(JSON_TYPE).send(JSON.stringify(result));
    } finally {
      inflight--;
      metrics.observeRequest(statementKind(body.query), consistency, (performance.now() - started) / 1000);
    }
  });

  app.get('/v1/schema', { schema: { response: SCHEMA_RESPONSE_SCHEMA } }, () => deps.describeSchema());

  app.get('/health', { schema: { response: HEALTH_RESPONSE_SCHEMA } }, (_request, reply) => {
    const status = deps.health();
    return reply.code(status === 'serving' ? 200 : 503).send({ status });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });

  if (deps.cluster !== undefined) {
    const cluster = deps.cluster;
    // Free-form and still growing with the cluster work: serialised as they are, not by schema.
    app.get<{ Querystring: KeyspaceQuery }>('/v1/status', { schema: { querystring: KEYSPACE_QUERY_SCHEMA } }, (request, reply) =>
      reply.type(JSON_TYPE).send(JSON.stringify(cluster.status(request.query.keyspace))),
    );
    app.get('/v1/gossip', (_request, reply) => reply.type(JSON_TYPE).send(JSON.stringify(cluster.gossip())));
  }

  if (deps.ring !== undefined) {
    const ring = deps.ring;
    app.get<{ Querystring: KeyspaceQuery }>('/v1/ring', { schema: { querystring: KEYSPACE_QUERY_SCHEMA } }, (request, reply) =>
      reply.type(JSON_TYPE).send(JSON.stringify(ring.ring(request.query.keyspace))),
    );
    app.get<{ Querystring: EndpointsQuery }>('/v1/endpoints', { schema: { querystring: ENDPOINTS_QUERY_SCHEMA } }, (request, reply) => {
      const { keyspace, table, key } = request.query;
      return reply.type(JSON_TYPE).send(JSON.stringify(ring.endpoints(keyspace, table, typeof key === 'string' ? [key] : key)));
    });
  }

  registerAdminRoutes(app, deps.admin);
  return app;
}

function toCqlRequest(body: CqlBody, consistency: ConsistencyLevel): CqlRequest {
  return {
    query: body.query,
    params: body.params ?? null,
    keyspace: body.keyspace ?? null,
    consistency,
    pageSize: body.page_size ?? null,
    pagingState: body.paging_state ?? null,
    timestamp: body.timestamp ?? null,
    context: body.context ?? null,
    trace: body.trace ?? false,
  };
}

/** An empty POST (no body, no Content-Type) means "everything", as `nodetool flush` does. */
async function emptyBodyIsEmptyObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/** SPEC 3.3 admin operations. */
function registerAdminRoutes(app: FastifyInstance, admin: AdminOperations): void {
  const schema = { body: ADMIN_BODY_SCHEMA, response: ADMIN_RESPONSE_SCHEMA };
  const route = (name: string, run: (body: AdminBody) => Promise<void>): void => {
    app.post<{ Body: AdminBody }>(`/v1/admin/${name}`, { schema, preValidation: emptyBodyIsEmptyObject }, async (request) => {
      await run(request.body);
      return { ok: true };
    });
  };
  const tableNeedsKeyspace = (body: AdminBody): void => {
    if (body.table !== undefined && body.keyspace === undefined) throw new InvalidRequest('"table" needs "keyspace"');
  };
  route('flush', async (body) => {
    tableNeedsKeyspace(body);
    await admin.flush(body.keyspace, body.table);
  });
  route('compact', async (body) => {
    tableNeedsKeyspace(body);
    await admin.compact(body.keyspace, body.table);
  });
  route('drain', () => admin.drain());
  // Repair answers with its report (src/repair), once every range is compared and synced.
  app.post<{ Body: AdminBody }>(
    '/v1/admin/repair',
    { schema: { body: ADMIN_BODY_SCHEMA, response: REPAIR_RESPONSE_SCHEMA }, preValidation: emptyBodyIsEmptyObject },
    async (request) => {
      tableNeedsKeyspace(request.body);
      if (admin.repair === undefined) throw new InvalidRequest('repair is not supported until this node is part of a cluster');
      return admin.repair(request.body.keyspace, request.body.table);
    },
  );
  registerMembershipRoutes(app, admin.membership);
}

/**
 * `POST /v1/admin/decommission` (SPEC 3.3) and `POST /v1/admin/removenode {"host_id"}` (the
 * route behind `ringtail removenode`): they answer once the ranges are streamed, with the
 * change's report.
 */
function registerMembershipRoutes(app: FastifyInstance, membership: MembershipOperations | undefined): void {
  const absent = (): never => {
    throw new InvalidRequest('Membership changes need a node that is part of a cluster');
  };
  app.post('/v1/admin/decommission', { schema: { body: ADMIN_BODY_SCHEMA }, preValidation: emptyBodyIsEmptyObject }, async () => (membership ?? absent()).decommission());
  app.post<{ Body: { host_id: string } }>('/v1/admin/removenode', { schema: { body: REMOVENODE_BODY_SCHEMA } }, async (request) =>
    (membership ?? absent()).removeNode(request.body.host_id),
  );
}

/**
 * fastify logs every request at info; a node serving tens of thousands of requests a second
 * must not, so request lines go to debug. Errors stay at error level.
 */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * A request that is not even HTTP (node's parser rejected it): answer in SPEC JSON and close,
 * as fastify's default handler does with its own body.
 */
function answerMalformedHttp(error: Error & { code?: string }, socket: Socket, logger: Logger): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const [status, reason] = timeout ? [408, 'Request Timeout'] : tooLarge ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
  const message = timeout ? 'Request timed out' : tooLarge ? 'Request headers are too large' : 'Malformed HTTP request';
  const body = JSON.stringify(new InvalidRequest(message).toJSON());
  logger.trace({ err: error }, 'malformed HTTP request');
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${JSON_TYPE}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

