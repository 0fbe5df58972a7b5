/**
 * The errors Billow's use cases, store and adapters raise. They say what went wrong in business terms and carry
 * no transport: the HTTP layer maps each class to a status and problem `type` in one table
 * (`functions/http/problem.ts`); a Step Functions task or a queue worker maps them its own way.
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class BillowError extends Error {
  /** Stable machine code (`snake_case`), e.g. `stale_version`. */
  readonly code: string;
  /** Extra facts a caller may show (e.g. `transactionId`). */
  readonly details: Record<string, unknown>;

  constructor(message: string, code: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** Input that is malformed or invalid; `errors` names each offending field. */
export class ValidationError extends BillowError {
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message, 'validation_error');
  }
  static field(path: string, message: string): ValidationError {
    return new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
}

/** The caller could not be identified (no, bad or expired credentials, or a login that is no longer valid). */
export class NotAuthenticatedError extends BillowError {
  constructor(message = 'A valid bearer token is required.') {
    super(message, 'unauthenticated');
  }
}

/** The caller is known but its role may not do this. */
export class ForbiddenError extends BillowError {
  constructor(message = 'This token may not use this route.') {
    super(message, 'forbidden');
  }
}

/** No such object (or not one the caller may see: existence is never revealed). */
export class NotFoundError extends BillowError {
  constructor(message: string) {
    super(message, 'not_found');
  }
}

/**
 * The request conflicts with the object's current state or with another object: a duplicate unique field, a stale
 * version, an invoice that is not open. Retrying the same request will not help.
 */
export class ConflictError extends BillowError {
  constructor(message: string, options: { code?: string; field?: string; details?: Record<string, unknown> } = {}) {
    super(message, options.code ?? 'conflict', { ...(options.field ? { errors: [{ path: options.field, message }] } : {}), ...options.details });
  }
}

/**
 * The same request is still being worked on (its `Idempotency-Key` is held): not a conflict of data, so the caller is
 * told when to ask again rather than to change anything.
 */
export class StillInProgressError extends ConflictError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    code: string,
  ) {
    super(message, { code });
  }
}

/**
 * An effect of the daily automation guarded by a once-marker (store/once.ts) was already done — by an earlier run of
 * the same date, a run at the same time, or a retried page. Nothing was written; the caller counts it as skipped.
 */
export class AlreadyDoneError extends ConflictError {
  constructor(message = 'This was already done.') {
    super(message, { code: 'already_done' });
  }
}

/** Another request changed the same objects at the same moment and nothing was written: safe to retry after re-reading. */
export class ConcurrentChangeError extends BillowError {
  constructor(message = 'Another request was changing the same objects at that moment; nothing was written. Retry.', details: Record<string, unknown> = {}) {
    super(message, 'concurrent_change', details);
  }
}

/** A well-formed request that a business rule refuses (an amount over what may be refunded, a disabled account…). */
export class RuleViolationError extends BillowError {
  constructor(message: string, options: { code?: string; details?: Record<string, unknown> } = {}) {
    super(message, options.code ?? 'business_rule', options.details);
  }
}

/** What was sent is larger than Billow accepts. */
export class TooLargeError extends BillowError {
  constructor(message: string) {
    super(message, 'payload_too_large');
  }
}

/** Too many attempts in a short time; try again after `retryAfterSeconds`. */
export class ThrottledError extends BillowError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 'throttled');
  }
}

/** A service Billow depends on (payment gateway, identity provider, mail) failed; nothing was done. */
export class UpstreamError extends BillowError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, 'upstream_failure', details);
  }
}

/**
 * A service Billow keeps its own data in (the database) could not be reached or failed, after the client's own
 * retries; the request may be repeated after `retryAfterSeconds`. Unlike `UpstreamError`, the fault is on Billow's
 * side of the line, and a write that timed out may or may not have happened.
 */
export class UnavailableError extends BillowError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 'service_unavailable');
  }
}
