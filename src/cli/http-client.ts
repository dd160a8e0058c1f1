/**
 * A small JSON-over-HTTP client for the CLI and tools (undici: keep-alive, timeouts). Errors
 * in SPEC 3.2's shape become `ApiError` with the code, so commands can print `Code: message`.
 */
import { request } from 'undici';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export interface HttpOptions {
  readonly timeoutMs?: number;
}

async function call<T>(method: 'GET' | 'POST', url: string, body: unknown, options: HttpOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const res = await request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let parsed: unknown = null;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    throw new ApiError('ServerError', `${method} ${url}: HTTP ${res.statusCode} with a body that is not JSON`, res.statusCode);
  }
  if (res.statusCode >= 400) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    const { code, message, ...fields } = err ?? {};
    throw new ApiError(code ?? 'ServerError', message ?? `HTTP ${res.statusCode}`, res.statusCode, fields);
  }
  return parsed as T;
}

export function getJson<T>(url: string, options: HttpOptions = {}): Promise<T> {
  return call<T>('GET', url, undefined, options);
}

export function postJson<T>(url: string, body: unknown, options: HttpOptions = {}): Promise<T> {
  return call<T>('POST', url, body, options);
}
