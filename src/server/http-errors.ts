/**
 * Errors on the wire, in OpenAI's shape `{error: {message, type, param, code}}`. Every TesseraError code maps to
 * an HTTP status here and nowhere else; routes throw, the app's error handler answers.
 */
import { isTesseraError, type ErrorCode } from '../errors.js';

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'rate_limit_error' | 'server_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers (retry-after on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (param: string | null, message: string, code = 'invalid_value') =>
  new ApiError(400, message, 'invalid_request_error', code, param);
export const notFound = (message: string, param: string | null = null) =>
  new ApiError(404, message, 'invalid_request_error', 'not_found', param);
export const conflict = (message: string, code = 'video_not_ready') => new ApiError(409, message, 'invalid_request_error', code);
export const tooLarge = (message: string, param: string | null = null) =>
  new ApiError(413, message, 'invalid_request_error', 'payload_too_large', param);
export const unauthorized = (message: string) => new ApiError(401, message, 'authentication_error', 'invalid_api_key');
export const rateLimited = (message: string, retryAfterS: number) =>
  new ApiError(429, message, 'rate_limit_error', 'rate_limit_exceeded', null, { 'retry-after': String(retryAfterS) });

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_argument: 400,
  shape_mismatch: 400,
  unsupported: 400,
  corrupt_file: 400,
  not_found: 404,
  aborted: 499,
  io_error: 500,
  internal: 500,
};

/** Fastify's own errors that are the client's fault, by their code. */
const FASTIFY_STATUS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [413, 'payload_too_large'],
  FST_PARTS_LIMIT: [413, 'payload_too_large'],
  FST_FIELDS_LIMIT: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'invalid_body'],
  FST_PROTO_VIOLATION: [400, 'invalid_body'],
};

/** Turns anything thrown while answering a request into an ApiError; unknown errors become a 500 without internals. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isTesseraError(e)) {
    const status = STATUS_BY_CODE[e.code];
    if (status >= 500) return new ApiError(500, 'the server failed to handle the request', 'server_error', e.code);
    return new ApiError(status, e.message, 'invalid_request_error', e.code, e.param ?? null);
  }
  const err = e as { code?: string; statusCode?: number; message?: string };
  const known = err.code ? FASTIFY_STATUS[err.code] : undefined;
  if (known) return new ApiError(known[0], err.message ?? 'invalid request', 'invalid_request_error', known[1]);
  // Body parsers (busboy, secure-json-parse) fail with a 4xx statusCode on malformed input.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, err.message ?? 'invalid request', 'invalid_request_error', 'invalid_body');
  }
  // busboy's parse errors carry no status: they are malformed multipart bodies.
  if (typeof err.message === 'string' && /multipart|boundary|Unexpected end of form|Malformed part header/i.test(err.message)) {
    return new ApiError(400, `malformed multipart body: ${err.message}`, 'invalid_request_error', 'invalid_body');
  }
  return new ApiError(500, 'the server failed to handle the request', 'server_error', 'internal_error');
}

export function errorBody(e: ApiError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}
