/**
 * `GET /v1/status?keyspace=`, `GET /v1/ring` and `GET /v1/endpoints` through
 * `fastify.inject()`: first with fake views (routing, query validation, SPEC 3.2 errors), then
 * with the real `ClusterRingView` over a fake ring source and a real schema (keyspace
 * resolution, partition keys given as CQL literals, their errors).
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterService } from '../../../src/cluster/cluster-service.js';
import { ClusterRingView, type RingSource } from '../../../src/cluster/ring-view.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { MessagingService } from '../../../src/messaging/messaging-service.js';
import type { MessageHandler } from '../../../src/messaging/inbound-connection.js';
import type { PeerAddress, PeerInfo } from '../../../src/messaging/peer.js';
import { ManualClock } from '../../../src/runtime/manual-clock.js';
import { SeededRandom } from '../../../src/runtime/random.js';
import { TOKEN_SPACE } from '../../../src/ring/token-metadata.js';
import { FakeScheduler } from '../messaging/fake-scheduler.js';
import type { EndpointReplica, EndpointsReport, RingEntry, StatusReport } from '../../../src/cluster/status-report.js';
import type { SchemaDescription } from '../../../src/cql/request.js';
import { InvalidRequest } from '../../../src/errors.js';
import { buildHttpApp, type ClusterViews, type HttpDeps, type RingViews } from '../../../src/http/app.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { murmur3Token } from '../../../src/ring/murmur3.js';
import { serializePartitionKey } from '../../../src/ring/partition-key.js';
import type { CqlType } from '../../../src/schema/cql-type.js';
import { DEFAULT_TABLE_PARAMS } from '../../../src/schema/schema-options.js';
import { Schema, type ColumnMetadata, type KeyspaceMetadata, type Replication, type TableMetadata } from '../../../src/schema/schema.js';
import { serializeValue } from '../../../src/schema/values.js';

const SCHEMA_DESCRIPTION: SchemaDescription = { cluster_name: 'test', partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner', version: 'v', keyspaces: [] };

let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((app) => app.close()));
  open = [];
});

function appWith(overrides: Partial<HttpDeps>): FastifyInstance {
  const app = buildHttpApp({
    cql: { execute: async () => ({ kind: 'void', warnings: [], trace: null }) },
    describeSchema: () => SCHEMA_DESCRIPTION,
    health: () => 'serving',
    registry: createMetricsRegistry(),
    maxBodyBytes: 4096,
    defaultConsistency: 'ONE',
    admin: { flush: async () => {}, compact: async () => {}, drain: async () => {} },
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
  open.push(app);
  return app;
}

async function get(app: FastifyInstance, url: string): Promise<{ status: number; body: any }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
}

// ---- fake views ---------------------------------------------------------------------------------

const NODE = {
  host_id: 'h1',
  name: '127.0.0.1:7001',
  internode: '127.0.0.1:7001',
  address: '127.0.0.1',
  http: 'http://127.0.0.1:8001',
  datacenter: 'dc1',
  rack: 'rack1',
  status: 'UP',
  state: 'NORMAL',
  load_bytes: 1234,
  tokens: ['-5', '7'],
  schema_version: 'v',
  generation: 1,
  phi: 0,
} as const;

const ENTRY: RingEntry = { token: '-5', host_id: 'h1', address: '127.0.0.1', internode: '127.0.0.1:7001', datacenter: 'dc1', rack: 'rack1', status: 'UP', state: 'NORMAL', load_bytes: 1234, owns: 1 };

function fakeViews() {
  const calls: unknown[][] = [];
  const cluster: ClusterViews = {
    status: (keyspace?: string): StatusReport => {
      calls.push(['status', keyspace]);
      if (keyspace === 'missing') throw new InvalidRequest("Keyspace 'missing' does not exist");
      return { cluster_name: 'test', local: 'h1', nodes: [{ ...NODE, owns: keyspace === undefined ? 1 : 3 }] };
    },
    gossip: () => [],
  };
  const ring: RingViews = {
    ring: (keyspace) => {
      calls.push(['ring', keyspace]);
      return [ENTRY, { ...ENTRY, token: '7' }];
    },
    endpoints: (keyspace, table, keys) => {
      calls.push(['endpoints', keyspace, table, keys]);
      return { token: '99', replicas: [{ host_id: 'h1', address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: true }] };
    },
  };
  return { calls, app: appWith({ cluster, ring }) };
}

describe('GET /v1/status with a keyspace', () => {
  it('passes the keyspace to the view, and answers 400 Invalid for an unknown or malformed one', async () => {
    const { calls, app } = fakeViews();
    expect((await get(app, '/v1/status')).body.nodes[0].owns).toBe(1);
    expect((await get(app, '/v1/status?keyspace=ks')).body.nodes[0].owns).toBe(3);
    expect(calls).toEqual([
      ['status', undefined],
      ['status', 'ks'],
    ]);
    const missing = await get(app, '/v1/status?keyspace=missing');
    expect(missing).toEqual({ status: 400, body: { error: { code: 'Invalid', message: "Keyspace 'missing' does not exist" } } });
    expect((await get(app, '/v1/status?keyspace=no-such!')).body.error.code).toBe('Invalid');
    expect((await get(app, '/v1/status?other=1')).status).toBe(400);
  });
});

describe('GET /v1/ring', () => {
  it('returns the entries in the order the view gives them, with an optional keyspace', async () => {
    const { calls, app } = fakeViews();
    const res = await get(app, '/v1/ring');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([ENTRY, { ...ENTRY, token: '7' }]);
    await get(app, '/v1/ring?keyspace=ks');
    expect(calls).toEqual([
      ['ring', undefined],
      ['ring', 'ks'],
    ]);
  });

  it('is 404 on a node without ring views', async () => {
    const app = appWith({});
    expect((await get(app, '/v1/ring')).status).toBe(404);
    expect((await get(app, '/v1/endpoints?keyspace=ks&table=t&key=1')).status).toBe(404);
  });
});

describe('GET /v1/endpoints', () => {
  it('hands one key per `key` parameter to the view, in order', async () => {
    const { calls, app } = fakeViews();
    const one = await get(app, '/v1/endpoints?keyspace=ks&table=t&key=42');
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ token: '99', replicas: [{ host_id: 'h1', address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: true }] });
    await get(app, `/v1/endpoints?keyspace=ks&table=t&key=${encodeURIComponent("'ada'")}&key=7`);
    expect(calls).toEqual([
      ['endpoints', 'ks', 't', ['42']],
      ['endpoints', 'ks', 't', ["'ada'", '7']],
    ]);
  });

  it('answers 400 Invalid naming what is missing', async () => {
    const { app } = fakeViews();
    const noKey = await get(app, '/v1/endpoints?keyspace=ks&table=t');
    expect(noKey.status).toBe(400);
    expect(noKey.body.error).toEqual({ code: 'Invalid', message: 'Missing field "key" in request querystring' });
    expect((await get(app, '/v1/endpoints?keyspace=ks&key=1')).body.error.message).toMatch(/"table"/);
  });
});

// ---- the real ring view ------------------------------------------------------------------------

const int: CqlType = { kind: 'native', name: 'int' };
const text: CqlType = { kind: 'native', name: 'text' };

function column(name: string, type: CqlType, kind: ColumnMetadata['kind'], position: number): ColumnMetadata {
  return { name, type, kind, position, descending: false };
}

function table(keyspace: string, name: string, columns: ColumnMetadata[]): TableMetadata {
  return { keyspace, name, id: `${name}-id`, columns, params: DEFAULT_TABLE_PARAMS, droppedColumns: {} };
}

const RF3: Replication = { class: 'SimpleStrategy', replicationFactor: 3 };
const KS: KeyspaceMetadata = {
  name: 'ks',
  replication: RF3,
  durableWrites: true,
  tables: new Map([
    ['users', table('ks', 'users', [column('id', int, 'partition_key', 0), column('name', text, 'regular', -1)])],
    ['names', table('ks', 'names', [column('name', text, 'partition_key', 0)])],
    ['events', table('ks', 'events', [column('day', text, 'partition_key', 0), column('shard', int, 'partition_key', 1), column('at', int, 'clustering', 0)])],
  ]),
};
const SCHEMA = new Schema(new Map([['ks', KS]]), 'v1');

const REPLICAS: EndpointReplica[] = [
  { host_id: 'h2', address: '127.0.0.2', datacenter: 'dc1', rack: 'rack1', up: true },
  { host_id: 'h1', address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: false },
];

function realView() {
  const asked: { token?: bigint; replication?: Replication | undefined } = {};
  const source: RingSource = {
    status: (replication?: Replication) => {
      asked.replication = replication;
      return { cluster_name: 'test', local: 'h1', nodes: [] };
    },
    ring: (replication?: Replication) => {
      asked.replication = replication;
      return [];
    },
    replicas: (token: bigint, replication: Replication) => {
      asked.token = token;
      asked.replication = replication;
      return REPLICAS;
    },
  };
  const view = new ClusterRingView(source, () => SCHEMA);
  const app = appWith({ cluster: { status: (k) => view.status(k), gossip: () => [] }, ring: view });
  return { asked, app };
}

const endpointsUrl = (tableName: string, ...keys: string[]) => `/v1/endpoints?keyspace=ks&table=${tableName}${keys.map((k) => `&key=${encodeURIComponent(k)}`).join('')}`;

describe('ClusterRingView', () => {
  it("resolves a keyspace to its replication for status and ring, refusing unknown keyspaces", async () => {
    const { asked, app } = realView();
    await get(app, '/v1/status?keyspace=ks');
    expect(asked.replication).toEqual(RF3);
    await get(app, '/v1/ring');
    expect(asked.replication).toBeUndefined();
    expect((await get(app, '/v1/ring?keyspace=nope')).body).toEqual({ error: { code: 'Invalid', message: "Keyspace 'nope' does not exist" } });
  });

  it("hashes a single-column key given as a CQL literal, and returns the source's replicas", async () => {
    const { asked, app } = realView();
    const res = await get(app, endpointsUrl('users', '42'));
    const token = murmur3Token(serializeValue(int, 42));
    expect(res).toEqual({ status: 200, body: { token: token.toString(), replicas: REPLICAS } satisfies EndpointsReport });
    expect(asked).toEqual({ token, replication: RF3 });
    expect((await get(app, endpointsUrl('users', '-7'))).body.token).toBe(murmur3Token(serializeValue(int, -7)).toString());
  });

  it('hashes a composite key as Cassandra serializes it', async () => {
    const { app } = realView();
    const res = await get(app, endpointsUrl('events', "'2024-01-01'", '3'));
    const key = serializePartitionKey([serializeValue(text, '2024-01-01'), serializeValue(int, 3)]);
    expect(res.body.token).toBe(murmur3Token(key).toString());
  });

  it.each([
    ['a wrong number of keys', 'users', ['1', '2'], 'Invalid', /Expected 1 key value \(one per partition key column: id\), got 2/],
    ['a bare word', 'events', ['ada', '1'], 'Invalid', /Key value "ada" for day is not a CQL literal/],
    ['two literals in one key', 'users', ['1 2'], 'Invalid', /not a CQL literal/],
    ['an empty key', 'users', [''], 'Invalid', /not a CQL literal/],
    ['a literal of the wrong type', 'users', ["'x'"], 'Invalid', /Invalid STRING constant \(x\) for "id" of type int/],
    ['null', 'users', ['null'], 'Invalid', /Invalid null value for partition key part id/],
    ['an empty single-column key', 'names', ["''"], 'Invalid', /Key may not be empty/],
    ['an unknown table', 'nope', ['1'], 'Invalid', /Table 'ks.nope' does not exist/],
    ['an unterminated string', 'users', ["'abc"], 'SyntaxError', /./],
  ])('refuses %s with a SPEC 3.2 error', async (_what, tableName, keys, code, message) => {
    const { app } = realView();
    const res = await get(app, endpointsUrl(tableName, ...keys));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
  });
});

// ---- the views of a gossiping cluster ----------------------------------------------------------

/** Internode messages held until the test delivers them, so no handler runs inside another. */
class FakeNetwork {
  private readonly queue: { to: string; from: PeerInfo; verb: number; payload: Uint8Array }[] = [];
  private readonly handlers = new Map<string, Map<number, MessageHandler>>();

  messaging(address: PeerAddress, hostId: string): MessagingService {
    const handlers = new Map<number, MessageHandler>();
    this.handlers.set(`${address.host}:${address.port}`, handlers);
    const fake = {
      address,
      registerHandler: (verb: number, handler: MessageHandler) => handlers.set(verb, handler),
      sendOneWay: (peer: PeerAddress, verb: number, payload: Uint8Array) => {
        this.queue.push({ to: `${peer.host}:${peer.port}`, from: { hostId, address }, verb, payload });
        return true;
      },
      request: async () => {
        throw new Error('no requests in this test');
      },
    };
    return fake as unknown as MessagingService;
  }

  async deliverAll(): Promise<void> {
    for (let delivered = 0; this.queue.length > 0; delivered++) {
      expect(delivered).toBeLessThan(10_000);
      const m = this.queue.shift()!;
      await this.handlers.get(m.to)?.get(m.verb)?.(m.from, m.payload);
    }
  }
}

describe('ClusterService ring views', () => {
  it('fill owns, list the ring and place replicas from what gossip says', async () => {
    const clock = new ManualClock();
    const scheduler = new FakeScheduler();
    const network = new FakeNetwork();
    const tokensOf = { h1: [-100n, 100n], h2: [0n], h3: [50n] };
    const services = Object.entries(tokensOf).map(([hostId, tokens], i) => {
      const address = { host: '127.0.0.1', port: 7001 + i };
      return new ClusterService({
        settings: loadConfig({ overrides: ['seeds=127.0.0.1:7001', 'cluster_name=views'] }),
        hostId,
        tokens,
        generation: 1,
        httpUrl: `http://127.0.0.1:${8001 + i}`,
        messaging: network.messaging(address, hostId),
        schema: { version: () => 'v1', export: () => new Uint8Array(0), import: async () => 'v1' },
        loadBytes: () => 1000 * (i + 1),
        clock,
        scheduler,
        random: new SeededRandom(i + 1),
        logger: pino({ level: 'silent' }),
      });
    });
    for (const s of services) s.start();
    const interval = loadConfig().gossip_interval_ms;
    for (let round = 0; round < 100; round++) {
      if (services.every((s) => s.status().nodes.filter((n) => n.status === 'UP').length === 3)) break;
      clock.advanceMs(interval);
      scheduler.advanceMs(interval);
      await network.deliverAll();
    }
    const view = services[1]!;
    const owns = (report: StatusReport) => Object.fromEntries(report.nodes.map((n) => [n.host_id, n.owns! * Number(TOKEN_SPACE)]));
    // Ring: -100 h1, 0 h2, 50 h3, 100 h1.
    const plain = owns(view.status());
    expect(plain.h1).toBeCloseTo(Number(TOKEN_SPACE - 150n), -8);
    expect(plain.h2).toBeCloseTo(100, 6);
    expect(plain.h3).toBeCloseTo(50, 6);
    const rf2: Replication = { class: 'SimpleStrategy', replicationFactor: 2 };
    const effective = owns(view.status(rf2));
    expect(effective.h1).toBeCloseTo(Number(TOKEN_SPACE - 100n), -8);
    expect(effective.h2).toBeCloseTo(Number(TOKEN_SPACE - 50n), -8);
    expect(effective.h3).toBeCloseTo(150, 6);

    const ring = view.ring();
    expect(ring.map((e) => [e.token, e.host_id, e.internode, e.load_bytes])).toEqual([
      ['-100', 'h1', '127.0.0.1:7001', 1000],
      ['0', 'h2', '127.0.0.1:7002', 2000],
      ['50', 'h3', '127.0.0.1:7003', 3000],
      ['100', 'h1', '127.0.0.1:7001', 1000],
    ]);
    expect(view.ring(rf2)[0]!.owns).toBeCloseTo(1, 9);
    expect(view.replicas(1n, rf2)).toEqual([
      { host_id: 'h3', address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: true },
      { host_id: 'h1', address: '127.0.0.1', datacenter: 'dc1', rack: 'rack1', up: true },
    ]);
    expect(view.ringMetadata().tokens).toEqual([-100n, 0n, 50n, 100n]);
    await Promise.all(
      services.map(async (s) => {
        const stopped = s.stop();
        scheduler.advanceMs(1000);
        await stopped;
      }),
    );
  });
});
