import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ThrottledError, UnavailableError } from '../domain/errors.js';

/** Seconds a caller is asked to wait: DynamoDB's throttling clears within a second or two (adaptive capacity). */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;
/** A failed node or a restarting DynamoDB Local takes a few seconds to answer again. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const THROTTLING_NAMES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
const THROTTLING_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);
const UNAVAILABLE_NAMES = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
/** Node's codes for a connection that could not be made or broke off (`socket hang up` is an ECONNRESET). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: Array<{ Code?: string }>;
  cause?: unknown;
}

/**
 * A transaction cancelled only because DynamoDB throttled some of its items (the others say `None`). One that also
 * names a failed condition or a conflict is left as it is: those are answers about the data, which `transact` and
 * `isTransactionConflict` read.
 */
function throttledTransaction(error: SdkErrorShape): boolean {
  if (error.name !== 'TransactionCanceledException') return false;
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
  return codes.some((code) => THROTTLING_REASONS.has(code)) && codes.every((code) => code === 'None' || THROTTLING_REASONS.has(code));
}

function connectionFailed(error: SdkErrorShape): boolean {
  for (let current: SdkErrorShape | undefined = error, depth = 0; current && depth < 3; current = current.cause as SdkErrorShape | undefined, depth++) {
    if (current.code && CONNECTION_CODES.has(current.code)) return true;
    if (current.message && /socket hang up/i.test(current.message)) return true;
  }
  return false;
}

/**
 * What an error out of the DynamoDB client means to Billow, once the SDK has spent its own retries: throttling
 * becomes `ThrottledError`, a database that failed or could not be reached becomes `UnavailableError`, and
 * everything else (failed conditions, cancelled transactions, validation errors, our own bugs) is returned as it
 * was, so the store still reads them.
 */
export function translateDynamoDbFault(error: unknown): unknown {
  if (!error || typeof error !== 'object') return error;
  const shape = error as SdkErrorShape;
  let translated: ThrottledError | UnavailableError | undefined;
  if ((shape.name && THROTTLING_NAMES.has(shape.name)) || throttledTransaction(shape)) {
    translated = new ThrottledError('The database is throttling requests at the moment; retry after the time in Retry-After.', THROTTLED_RETRY_AFTER_SECONDS);
  } else if ((shape.name && UNAVAILABLE_NAMES.has(shape.name)) || (shape.$metadata?.httpStatusCode ?? 0) >= 500 || connectionFailed(shape)) {
    translated = new UnavailableError(
      'The database could not be reached; retry after the time in Retry-After, and quote the request id if it goes on.',
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
  if (!translated) return error;
  // The SDK's error stays attached for the log line of the failed request.
  translated.cause = error;
  return translated;
}

export const FAULT_MIDDLEWARE_NAME = 'billowDynamoDbFaults';

/**
 * Adds the translation to a client's middleware stack at its outermost step, so it sees each command's final
 * error, after the SDK's retries (which run further in). The document client shares this stack.
 */
export function translateFaultsOf(client: DynamoDBClient): DynamoDBClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw translateDynamoDbFault(error);
      }
    },
    { step: 'initialize', priority: 'high', name: FAULT_MIDDLEWARE_NAME },
  );
  return client;
}
