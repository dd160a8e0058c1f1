/**
 * Everything that goes wrong while serving an HTTP request, turned into SPEC 3.2's error body
 * `{"error": {"code", "message", …fields}}` and its HTTP status.
 *
 * Three sources: a `RequestError` thrown by the CQL layer (its own status and fields); fastify's
 * own errors about the request itself (schema validation, malformed JSON, body too large, wrong
 * media type, a bad URL), which become `Invalid` with the status fastify chose; and anything
 * else, which is a bug and becomes `ServerError` with a generic message — the cause goes to the
 * log (with its stack), never to the client.
 */
import { InvalidRequest, RequestError, ServerError, toRequestError, type ErrorCode } from '../errors.js';

export interface ErrorResponse {
  readonly status: number;
  readonly code: ErrorCode;
  /** The JSON body, already serialised. */
  readonly body: string;
  /** Set when the error is a bug: log this cause at error level with its stack. */
  readonly bug: unknown;
}

/** One ajv error as fastify attaches it to a validation failure (`error.validation`). */
interface ValidationIssue {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params: Readonly<Record<string, unknown>>;
}

interface FastifyishError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly validation?: readonly ValidationIssue[];
  readonly validationContext?: string;
}

export function errorResponse(error: unknown, maxBodyBytes: number): ErrorResponse {
  if (error instanceof RequestError) return fromRequestError(error, error instanceof ServerError ? error : undefined);
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyishError;
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    return invalid(400, validationMessage(e.validation[0] as ValidationIssue, e.validationContext ?? 'body'));
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_')) {
    const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
    // 4xx from fastify: the request was at fault, so the client gets to know why.
    if (status >= 400 && status < 500) return invalid(status, requestProblemMessage(e.code, maxBodyBytes, error));
  }
  return fromRequestError(toRequestError(error), error);
}

/** The 404 answer for a method and path no route serves. */
export function notFoundResponse(method: string, url: string): ErrorResponse {
  const path = url.length > 200 ? `${url.slice(0, 200)}…` : url;
  return invalid(404, `No endpoint ${method} ${path}`);
}

function fromRequestError(error: RequestError, bug: unknown): ErrorResponse {
  return { status: error.httpStatus, code: error.code, body: JSON.stringify(error.toJSON()), bug };
}

function invalid(status: number, message: string): ErrorResponse {
  const error = new InvalidRequest(message);
  return { status, code: error.code, body: JSON.stringify(error.toJSON()), bug: undefined };
}

function requestProblemMessage(code: string, maxBodyBytes: number, error: unknown): string {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `Request body is larger than ${maxBodyBytes} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Request body must be JSON (Content-Type: application/json)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Request body is empty but Content-Type says application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'Request body is not valid JSON';
    default:
      return error instanceof Error ? error.message : 'Bad request';
  }
}

/** A message naming the field at fault, e.g. `page_size must be <= 100000`. */
function validationMessage(issue: ValidationIssue, context: string): string {
  const where = context === 'body' ? 'request body' : `request ${context}`;
  const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const subject = field === '' ? where : field;
  switch (issue.keyword) {
    case 'required':
      return `Missing field "${String(issue.params.missingProperty)}" in ${where}`;
    case 'additionalProperties':
      return `Unknown field "${String(issue.params.additionalProperty)}" in ${where}`;
    case 'enum': {
      const allowed = issue.params.allowedValues;
      const list = Array.isArray(allowed) ? allowed.filter((v) => v !== null).join(', ') : '';
      return `${subject} must be one of ${list}`;
    }
    case 'type':
      return `${subject} must be ${describeType(issue.params.type)}`;
    default:
      return `${subject} ${issue.message ?? 'is invalid'}`;
  }
}

function describeType(type: unknown): string {
  const names = (Array.isArray(type) ? type : String(type).split(',')).map(String);
  const article = (t: string) => (t === 'null' ? 'null' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
  return names.map((t) => article(t === 'object' ? 'JSON object' : t)).join(' or ');
}
