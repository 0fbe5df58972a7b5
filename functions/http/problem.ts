import { ZodError } from 'zod';
import {
  BillowError,
  ConcurrentChangeError,
  ConflictError,
  ForbiddenError,
  NotAuthenticatedError,
  NotFoundError,
  RuleViolationError,
  StillInProgressError,
  ThrottledError,
  TooLargeError,
  UnavailableError,
  UpstreamError,
  ValidationError,
  type FieldError,
} from '../domain/errors.js';
import type { HttpResponse } from './route.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://billow.dev/problems/';

/** Only the HTTP layer can meet a method the route table does not serve. */
export class MethodNotAllowedError extends BillowError {
  constructor(message: string) {
    super(message, 'method_not_allowed');
  }
}

/** A body that is not declared JSON: read as JSON anyway, a cross-site form post could act as a JSON call. */
export class UnsupportedMediaTypeError extends BillowError {
  constructor(message: string) {
    super(message, 'unsupported_media_type');
  }
}

type ErrorClass = abstract new (...args: never[]) => BillowError;

interface HttpMapping {
  status: number;
  title: string;
  headers?: (error: BillowError) => Record<string, string>;
}

/**
 * The one table from Billow's errors to HTTP. A class not listed here cannot reach a caller except as a 500.
 * The same lost race is `ConcurrentChangeError` wherever it happens, so it is always 409 `concurrent_change`.
 */
const HTTP_MAPPING: ReadonlyArray<readonly [ErrorClass, HttpMapping]> = [
  [ValidationError, { status: 400, title: 'Invalid request' }],
  [NotAuthenticatedError, { status: 401, title: 'Authentication required', headers: () => ({ 'www-authenticate': 'Bearer' }) }],
  [ForbiddenError, { status: 403, title: 'Forbidden' }],
  [NotFoundError, { status: 404, title: 'Not found' }],
  [MethodNotAllowedError, { status: 405, title: 'Method not allowed' }],
  [StillInProgressError, { status: 409, title: 'Conflict', headers: (e) => ({ 'retry-after': String((e as StillInProgressError).retryAfterSeconds) }) }],
  [ConflictError, { status: 409, title: 'Conflict' }],
  [ConcurrentChangeError, { status: 409, title: 'Conflict' }],
  [TooLargeError, { status: 413, title: 'Payload too large' }],
  [UnsupportedMediaTypeError, { status: 415, title: 'Unsupported media type' }],
  [RuleViolationError, { status: 422, title: 'Unprocessable request' }],
  [ThrottledError, { status: 429, title: 'Too many requests', headers: (e) => ({ 'retry-after': String((e as ThrottledError).retryAfterSeconds) }) }],
  [UpstreamError, { status: 502, title: 'Upstream failure' }],
  [UnavailableError, { status: 503, title: 'Service unavailable', headers: (e) => ({ 'retry-after': String((e as UnavailableError).retryAfterSeconds) }) }],
];

/** The status an error is answered with (500 for anything that is not a mapped Billow error). */
export function statusOf(error: unknown): number {
  return mappingOf(error)?.status ?? 500;
}

function mappingOf(error: unknown): HttpMapping | undefined {
  if (!(error instanceof BillowError)) return undefined;
  return HTTP_MAPPING.find(([cls]) => error instanceof cls)?.[1];
}

/** Turns zod issues into the contract's `errors: [{ path, message }]`. */
export function fieldErrorsFromZod(error: ZodError, prefix?: string): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'Unknown field.' }));
    }
    return [{ path: base.join('.') || '(body)', message: issue.message }];
  });
}

export function validationErrorFromZod(error: ZodError, prefix?: string): ValidationError {
  const errors = fieldErrorsFromZod(error, prefix);
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return new ValidationError(detail || 'The request is invalid.', errors);
}

/** A problem document for an outcome that is not an error (a declined card is a result of its use case). */
export function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  requestId?: string,
): HttpResponse {
  const body: Record<string, unknown> = { type: PROBLEM_BASE + code.replace(/_/g, '-'), title, status, detail, code, ...extensions };
  // A throttle is ours to look into as much as a fault is (a hot partition, a table out of capacity).
  if ((status >= 500 || status === 429) && requestId) body.requestId = requestId;
  return { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE }, body };
}

/** The one place errors become HTTP. Anything not a mapped error is a fault of ours: a 500 with the request id. */
export function problemResponse(error: unknown, requestId: string): HttpResponse {
  if (error instanceof ZodError) return problemResponse(validationErrorFromZod(error), requestId);
  const mapping = mappingOf(error);
  if (error instanceof BillowError && mapping) {
    const response = problem(
      mapping.status,
      error.code,
      mapping.title,
      error.message,
      { ...(error instanceof ValidationError ? { errors: error.errors } : {}), ...error.details },
      requestId,
    );
    response.headers = { ...response.headers, ...mapping.headers?.(error) };
    return response;
  }
  return problem(500, 'internal_error', 'Internal error', 'Something went wrong on our side. Quote the request id when reporting it.', {}, requestId);
}
