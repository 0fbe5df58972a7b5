/**
 * The error hierarchy every handler throws. Each maps to one HTTP status and one problem `type`;
 * the mapping lives in `problem.ts` so no handler builds a response for an error itself.
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class BillowError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  abstract readonly title: string;
  /** Extra members merged into the problem document (e.g. `transactionId`). */
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(detail: string, options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = new.target.name;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends BillowError {
  readonly status = 400;
  readonly code = 'validation_error';
  readonly title = 'Invalid request';
  constructor(
    detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
  static field(path: string, message: string): ValidationError {
    return new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
}

export class AuthenticationError extends BillowError {
  readonly status = 401;
  readonly code = 'unauthenticated';
  readonly title = 'Authentication required';
  constructor(detail = 'A valid bearer token is required.') {
    super(detail, { headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class PaymentRequiredError extends BillowError {
  readonly status = 402;
  readonly code = 'payment_declined';
  readonly title = 'Payment declined';
}

export class ForbiddenError extends BillowError {
  readonly status = 403;
  readonly code = 'forbidden';
  readonly title = 'Forbidden';
  constructor(detail = 'This token may not use this route.') {
    super(detail);
  }
}

export class NotFoundError extends BillowError {
  readonly status = 404;
  readonly code = 'not_found';
  readonly title = 'Not found';
}

export class MethodNotAllowedError extends BillowError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
  readonly title = 'Method not allowed';
}

/** A duplicate unique field, a stale `If-Match`, or a request racing another. */
export class ConflictError extends BillowError {
  readonly status = 409;
  readonly code: string;
  readonly title = 'Conflict';
  constructor(detail: string, options: { code?: string; field?: string; extensions?: Record<string, unknown> } = {}) {
    super(detail, { extensions: { ...(options.field ? { errors: [{ path: options.field, message: detail }] } : {}), ...options.extensions } });
    this.code = options.code ?? 'conflict';
  }
}

export class PayloadTooLargeError extends BillowError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  readonly title = 'Payload too large';
}

/** A well-formed request that breaks a business rule. */
export class BusinessRuleError extends BillowError {
  readonly status = 422;
  readonly code: string;
  readonly title = 'Unprocessable request';
  constructor(detail: string, options: { code?: string; extensions?: Record<string, unknown> } = {}) {
    super(detail, { extensions: options.extensions });
    this.code = options.code ?? 'business_rule';
  }
}

export class ThrottledError extends BillowError {
  readonly status = 429;
  readonly code = 'throttled';
  readonly title = 'Too many requests';
  constructor(detail: string, retryAfterSeconds: number) {
    super(detail, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

export class UpstreamError extends BillowError {
  readonly status = 502;
  readonly code = 'upstream_failure';
  readonly title = 'Upstream failure';
}
