import { ZodError } from 'zod';
import { BillowError, ValidationError, type FieldError } from './errors.js';
import type { HttpResponse } from './route.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://billow.dev/problems/';

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

/** The one place errors become HTTP. Anything not a BillowError is a fault of ours: a 500 with the request id. */
export function problemResponse(error: unknown, requestId: string): HttpResponse {
  if (error instanceof ZodError) return problemResponse(validationErrorFromZod(error), requestId);
  if (error instanceof BillowError) {
    const body: Record<string, unknown> = {
      type: PROBLEM_BASE + error.code.replace(/_/g, '-'),
      title: error.title,
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(error instanceof ValidationError ? { errors: error.errors } : {}),
      ...error.extensions,
    };
    if (error.status >= 500) body.requestId = requestId;
    return { status: error.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...error.headers }, body };
  }
  return {
    status: 500,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
    body: {
      type: PROBLEM_BASE + 'internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'Something went wrong on our side. Quote the request id when reporting it.',
      code: 'internal_error',
      requestId,
    },
  };
}
