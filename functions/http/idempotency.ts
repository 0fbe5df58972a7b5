import { createHmac } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { getServices } from '../services.js';
import { claimIdempotencyRecord, completeIdempotencyRecord, releaseIdempotencyRecord } from '../store/idempotency.js';
import { RuleViolationError, StillInProgressError, ValidationError } from '../domain/errors.js';
import { logger } from '../observability/logger.js';
import { API_FUNCTION_TIMEOUT_MS, type HttpResponse } from './route.js';

/**
 * A held key is most often a first request still running (a card payment takes a second or two); its lock outlasts it
 * only when that request died, so a short wait and another try is the right advice either way.
 */
const IN_PROGRESS_RETRY_AFTER_SECONDS = 1;

/** Large responses (an invoice of 200 long lines) are stored gzipped, so the record stays under the 400 KB item limit. */
function packResponse(response: HttpResponse): string {
  const text = JSON.stringify(response);
  return text.length > 32_000 ? `gz:${gzipSync(text).toString('base64')}` : text;
}

function unpackResponse(stored: string): HttpResponse {
  const text = stored.startsWith('gz:') ? gunzipSync(Buffer.from(stored.slice(3), 'base64')).toString('utf8') : stored;
  return JSON.parse(text) as HttpResponse;
}

export type IdempotencyClaim =
  | { kind: 'acquired'; complete: (response: HttpResponse) => Promise<void>; release: () => Promise<void> }
  | { kind: 'replay'; response: HttpResponse };

/** Canonical JSON: the same body with keys in another order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Keyed with the server secret: a body may hold a card number, and a plain hash of one is guessable
 * (PCI DSS treats unkeyed hashes of card numbers as card data).
 */
export async function requestFingerprint(method: string, path: string, body: unknown): Promise<string> {
  const secret = await getServices().secrets.signingSecret();
  return createHmac('sha256', secret)
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('hex');
}

/**
 * Claims an `Idempotency-Key` for a request, scoped to the company (or one client of it, or `operator`).
 * - first use: acquired; the caller stores the response with `complete`, or `release`s on a 5xx so a retry acts again;
 * - same key, same request, finished: the stored response is replayed;
 * - same key, other method/path/body: 422; same key still in flight: 409.
 * The key stays locked for `remainingTimeMs`, what is left of the invocation (Lambda's `getRemainingTimeInMillis()`):
 * once the invocation has timed out, a retry may take the key over. A claim made outside an invocation holds it for
 * the longest an API function runs.
 */
export async function claimIdempotencyKey(
  scope: string,
  key: string,
  fingerprint: string,
  remainingTimeMs = API_FUNCTION_TIMEOUT_MS,
): Promise<IdempotencyClaim> {
  if (key.length < 1 || key.length > 255) throw ValidationError.field('Idempotency-Key', 'Must be 1–255 characters.');
  const outcome = await claimIdempotencyRecord(scope, key, { fingerprint, nowMs: Date.now(), remainingTimeMs });
  switch (outcome.kind) {
    case 'acquired':
      return {
        kind: 'acquired',
        complete: async (response) => {
          if (!(await completeIdempotencyRecord(scope, key, outcome.claimId, packResponse(storableResponse(response))))) {
            logger.warn('idempotency key taken over before the response was stored', { scope });
          }
        },
        release: async () => {
          if (!(await releaseIdempotencyRecord(scope, key, outcome.claimId))) {
            logger.warn('idempotency key taken over before it was released', { scope });
          }
        },
      };
    case 'completed': {
      const response = unpackResponse(outcome.response);
      return { kind: 'replay', response: { ...response, headers: { ...response.headers, 'idempotent-replayed': 'true' } } };
    }
    case 'different_request':
      throw new RuleViolationError('This Idempotency-Key was used with a different request (method, path or body).', { code: 'idempotency_key_reused' });
    case 'in_progress':
      throw new StillInProgressError(
        'A request with this Idempotency-Key is still being processed; send it again after the time in Retry-After to get its response.',
        IN_PROGRESS_RETRY_AFTER_SECONDS,
        'idempotency_in_progress',
      );
  }
}

function storableResponse(response: HttpResponse): HttpResponse {
  const { notStored, ...storable } = response;
  if (notStored?.length && storable.body && typeof storable.body === 'object') {
    storable.body = Object.fromEntries(Object.entries(storable.body as Record<string, unknown>).filter(([k]) => !notStored.includes(k)));
  }
  return storable;
}
