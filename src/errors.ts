/**
 * The request errors of SPEC 3.2, one class per code, created here and nowhere else.
 *
 * Every error a client can see is a `RequestError`: a stable `code` (the SPEC's name), the HTTP
 * status it maps to, and the extra fields the SPEC lists for it. The HTTP layer turns one into
 * `{"error": {"code", "message", …fields}}` without knowing which it is. Anything else that
 * escapes a request is a bug and becomes `ServerError` (logged with its stack).
 */

export type ErrorCode =
  | 'SyntaxError'
  | 'Invalid'
  | 'ConfigurationError'
  | 'AlreadyExists'
  | 'Unauthorized'
  | 'BadCredentials'
  | 'Unavailable'
  | 'Overloaded'
  | 'WriteTimeout'
  | 'ReadTimeout'
  | 'WriteFailure'
  | 'ReadFailure'
  | 'ServerError';

export type ErrorFields = Readonly<Record<string, string | number | boolean | null>>;

export abstract class RequestError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly httpStatus: number;
  /** The code-specific fields of SPEC 3.2 (e.g. `line`/`column`, `required`/`alive`). */
  fields(): ErrorFields {
    return {};
  }
  toJSON(): { error: { code: ErrorCode; message: string } & ErrorFields } {
    return { error: { code: this.code, message: this.message, ...this.fields() } };
  }
}

/** The statement does not parse. `line` and `column` are 1-based. */
export class CqlSyntaxError extends RequestError {
  override readonly name = 'CqlSyntaxError';
  readonly code = 'SyntaxError';
  readonly httpStatus = 400;
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
  override fields(): ErrorFields {
    return { line: this.line, column: this.column };
  }
}

/** The statement parses but cannot run: unknown column, wrong type, restriction not allowed, … */
export class InvalidRequest extends RequestError {
  override readonly name = 'InvalidRequest';
  readonly code = 'Invalid';
  readonly httpStatus = 400;
}

/** Bad keyspace or table options (replication, compaction, table properties). */
export class ConfigurationError extends RequestError {
  override readonly name = 'ConfigurationError';
  readonly code = 'ConfigurationError';
  readonly httpStatus = 400;
}

/** CREATE without IF NOT EXISTS on an existing keyspace or table (`table` is '' for a keyspace). */
export class AlreadyExists extends RequestError {
  override readonly name = 'AlreadyExists';
  readonly code = 'AlreadyExists';
  readonly httpStatus = 409;
  constructor(
    readonly keyspace: string,
    readonly table: string,
  ) {
    super(table === '' ? `Cannot add existing keyspace "${keyspace}"` : `Cannot add already existing table "${table}" to keyspace "${keyspace}"`);
  }
  override fields(): ErrorFields {
    return { keyspace: this.keyspace, table: this.table };
  }
}

export class Unauthorized extends RequestError {
  override readonly name = 'Unauthorized';
  readonly code = 'Unauthorized';
  readonly httpStatus = 403;
}

export class BadCredentials extends RequestError {
  override readonly name = 'BadCredentials';
  readonly code = 'BadCredentials';
  readonly httpStatus = 401;
}

/** Too few replicas known alive: returned before anything is sent, nothing written. */
export class Unavailable extends RequestError {
  override readonly name = 'Unavailable';
  readonly code = 'Unavailable';
  readonly httpStatus = 503;
  constructor(
    readonly consistency: string,
    readonly required: number,
    readonly alive: number,
  ) {
    super(`Cannot achieve consistency level ${consistency}: ${required} replicas required, ${alive} alive`);
  }
  override fields(): ErrorFields {
    return { consistency: this.consistency, required: this.required, alive: this.alive };
  }
}

/** The node sheds load instead of queueing without bound. */
export class Overloaded extends RequestError {
  override readonly name = 'Overloaded';
  readonly code = 'Overloaded';
  readonly httpStatus = 503;
}

export interface WriteTimeoutFields {
  readonly consistency: string;
  readonly received: number;
  readonly blockFor: number;
  readonly writeType: string;
}

export class WriteTimeout extends RequestError {
  override readonly name = 'WriteTimeout';
  readonly code = 'WriteTimeout';
  readonly httpStatus = 504;
  constructor(readonly info: WriteTimeoutFields) {
    super(`Operation timed out - received only ${info.received} responses (${info.blockFor} required, consistency ${info.consistency})`);
  }
  override fields(): ErrorFields {
    const i = this.info;
    return { consistency: i.consistency, received: i.received, block_for: i.blockFor, write_type: i.writeType };
  }
}

export interface ReadTimeoutFields {
  readonly consistency: string;
  readonly received: number;
  readonly blockFor: number;
  readonly dataPresent: boolean;
}

export class ReadTimeout extends RequestError {
  override readonly name = 'ReadTimeout';
  readonly code = 'ReadTimeout';
  readonly httpStatus = 504;
  constructor(readonly info: ReadTimeoutFields) {
    super(`Operation timed out - received only ${info.received} responses (${info.blockFor} required, consistency ${info.consistency})`);
  }
  override fields(): ErrorFields {
    const i = this.info;
    return { consistency: i.consistency, received: i.received, block_for: i.blockFor, data_present: i.dataPresent };
  }
}

export interface FailureFields {
  readonly consistency: string;
  readonly received: number;
  readonly blockFor: number;
  readonly failures: number;
}

abstract class ReplicaFailure extends RequestError {
  readonly httpStatus = 500;
  constructor(
    what: string,
    readonly info: FailureFields,
  ) {
    super(`Operation failed - ${what}: received ${info.received} responses and ${info.failures} failures (${info.blockFor} required, consistency ${info.consistency})`);
  }
  override fields(): ErrorFields {
    const i = this.info;
    return { consistency: i.consistency, received: i.received, block_for: i.blockFor, failures: i.failures };
  }
}

export class WriteFailure extends ReplicaFailure {
  override readonly name = 'WriteFailure';
  readonly code = 'WriteFailure';
  constructor(info: FailureFields) {
    super('write', info);
  }
}

export class ReadFailure extends ReplicaFailure {
  override readonly name = 'ReadFailure';
  readonly code = 'ReadFailure';
  constructor(info: FailureFields) {
    super('read', info);
  }
}

/** A bug. The message is generic; the cause goes to the log, not to the client. */
export class ServerError extends RequestError {
  override readonly name = 'ServerError';
  readonly code = 'ServerError';
  readonly httpStatus = 500;
}

/** Maps anything thrown while serving a request to the error the client sees. */
export function toRequestError(e: unknown): RequestError {
  if (e instanceof RequestError) return e;
  return new ServerError('Internal server error', { cause: e });
}

/**
 * The error a peer reported as SPEC 3.2 JSON (`{code, message, …fields}`), rebuilt so that a
 * coordinator relaying another node's answer (a forwarded write) gives its client the same
 * error. Codes a peer should never relay become a `ServerError`.
 */
export function errorFromJson(json: unknown): RequestError {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  const num = (k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : 0);
  switch (o['code']) {
    case 'Invalid':
      return new InvalidRequest(str('message'));
    case 'Overloaded':
      return new Overloaded(str('message'));
    case 'Unavailable':
      return new Unavailable(str('consistency'), num('required'), num('alive'));
    case 'WriteTimeout':
      return new WriteTimeout({ consistency: str('consistency'), received: num('received'), blockFor: num('block_for'), writeType: str('write_type') });
    case 'WriteFailure':
      return new WriteFailure({ consistency: str('consistency'), received: num('received'), blockFor: num('block_for'), failures: num('failures') });
    default:
      return new ServerError(`A replica failed the write: ${str('message') || 'unknown error'}`);
  }
}
