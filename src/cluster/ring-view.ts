/**
 * The ring views of SPEC 3.3 with the schema behind them: `/v1/status?keyspace=`, `/v1/ring`
 * and `/v1/endpoints` turn a keyspace name into its replication and a table's partition key,
 * written as CQL literals, into a token.
 */
import type { Constant } from '../cql/ast.js';
import { tokenize } from '../cql/lexer.js';
import { InvalidRequest } from '../errors.js';
import { murmur3Token } from '../ring/murmur3.js';
import { serializePartitionKey } from '../ring/partition-key.js';
import type { Replication, Schema } from '../schema/schema.js';
import { serializeValue, valueFromConstant } from '../schema/values.js';
import type { ClusterService } from './cluster-service.js';
import type { EndpointsReport, RingEntry, StatusReport } from './status-report.js';

/** Longest key literal quoted back in an error message. */
const MAX_QUOTED_LITERAL_CHARS = 100;

/** Unknown keyspaces and tables, and keys that are not literals of the key's types, are `InvalidRequest`. */
export type RingSource = Pick<ClusterService, 'status' | 'ring' | 'replicas'>;

export class ClusterRingView {
  constructor(
    private readonly service: RingSource,
    private readonly schema: () => Schema,
  ) {}

  status(keyspace?: string): StatusReport {
    return this.service.status(keyspace === undefined ? undefined : this.replicationOf(keyspace));
  }

  ring(keyspace?: string): RingEntry[] {
    return this.service.ring(keyspace === undefined ? undefined : this.replicationOf(keyspace));
  }

  /** `keys`: one CQL literal per partition key column, in key order. */
  endpoints(keyspace: string, table: string, keys: readonly string[]): EndpointsReport {
    const replication = this.replicationOf(keyspace);
    const schema = this.schema();
    const metadata = schema.table(keyspace, table);
    if (metadata === undefined) throw new InvalidRequest(`Table '${keyspace}.${table}' does not exist`);
    const columns = schema.layout(metadata).partitionKey;
    if (keys.length !== columns.length) {
      throw new InvalidRequest(
        `Expected ${columns.length} key value${columns.length === 1 ? '' : 's'} (one per partition key column: ${columns.map((c) => c.name).join(', ')}), got ${keys.length}`,
      );
    }
    const parts = columns.map((c, i) => {
      const value = valueFromConstant(c.type, literalConstant(keys[i]!, c.name), c.name);
      if (value === null) throw new InvalidRequest(`Invalid null value for partition key part ${c.name}`);
      return serializeValue(c.type, value);
    });
    const token = murmur3Token(serializePartitionKey(parts));
    return { token: token.toString(), replicas: this.service.replicas(token, replication) };
  }

  private replicationOf(keyspace: string): Replication {
    const ks = this.schema().keyspace(keyspace);
    if (ks === undefined) throw new InvalidRequest(`Keyspace '${keyspace}' does not exist`);
    return ks.replication;
  }
}

/** One CQL constant (`42`, `'ada'`, `0xcafe`, `true`, a UUID, `null`) and nothing else. */
function literalConstant(text: string, column: string): Constant {
  const [token, end] = tokenize(text);
  const quoted = JSON.stringify(text.length > MAX_QUOTED_LITERAL_CHARS ? `${text.slice(0, MAX_QUOTED_LITERAL_CHARS)}…` : text);
  const notALiteral = (): InvalidRequest => new InvalidRequest(`Key value ${quoted} for ${column} is not a CQL literal (quote text as 'text')`);
  if (token === undefined || end?.kind !== 'eof') throw notALiteral();
  switch (token.kind) {
    case 'string':
      return { kind: 'string', value: token.text };
    case 'boolean':
      return { kind: 'boolean', value: token.text === 'true' };
    case 'integer':
    case 'float':
    case 'uuid':
    case 'hex':
      return { kind: token.kind, text: token.text };
    case 'identifier':
      if (token.text === 'null') return { kind: 'null' };
      throw notALiteral();
    default:
      throw notALiteral();
  }
}
