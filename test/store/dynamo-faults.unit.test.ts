import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ThrottledError, UnavailableError, ValidationError } from '../../functions/domain/errors.js';
import { problemResponse } from '../../functions/http/problem.js';
import {
  THROTTLED_RETRY_AFTER_SECONDS,
  translateDynamoDbFault,
  translateFaultsOf,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from '../../functions/store/dynamo-faults.js';
import { isTransactionConflict } from '../../functions/store/dynamo.js';

const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const nodeError = (message: string, code: string) => Object.assign(new Error(message), { code });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', ...metadata(400), CancellationReasons: codes.map((Code) => ({ Code })) });

describe('translateDynamoDbFault', () => {
  it.each([
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'Rate exceeded', ...metadata(400) })],
    ['ThrottlingException', new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput', ...metadata(400) })],
    ['RequestLimitExceeded', new RequestLimitExceeded({ message: 'Throughput exceeds the account limit', ...metadata(400) })],
    ['a transaction cancelled only by throttled items', cancelled('None', 'ThrottlingError', 'None')],
    ['a transaction cancelled by items over their provisioned throughput', cancelled('ProvisionedThroughputExceeded', 'None')],
  ])('turns %s into a ThrottledError that keeps the SDK error as its cause', (_name, error) => {
    const translated = translateDynamoDbFault(error);
    expect(translated).toBeInstanceOf(ThrottledError);
    expect((translated as ThrottledError).retryAfterSeconds).toBe(THROTTLED_RETRY_AFTER_SECONDS);
    expect((translated as ThrottledError).cause).toBe(error);
  });

  it.each([
    ['InternalServerError', new InternalServerError({ message: 'Internal server error', ...metadata(500) })],
    ['ServiceUnavailable', Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', ...metadata(503) })],
    ['an unnamed HTTP 502 from the service', Object.assign(new Error('Bad gateway'), { name: 'Unknown', ...metadata(502) })],
    ['TimeoutError', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' })],
    ['ECONNREFUSED', nodeError('connect ECONNREFUSED 127.0.0.1:8000', 'ECONNREFUSED')],
    ['ECONNRESET', nodeError('read ECONNRESET', 'ECONNRESET')],
    ['EPIPE', nodeError('write EPIPE', 'EPIPE')],
    ['socket hang up', nodeError('socket hang up', 'ECONNRESET')],
    ['a socket hang up carried as the cause', Object.assign(new Error('request failed'), { cause: new Error('socket hang up') })],
  ])('turns %s into an UnavailableError', (_name, error) => {
    const translated = translateDynamoDbFault(error);
    expect(translated).toBeInstanceOf(UnavailableError);
    expect((translated as UnavailableError).retryAfterSeconds).toBe(UNAVAILABLE_RETRY_AFTER_SECONDS);
    expect((translated as UnavailableError).cause).toBe(error);
  });

  it.each([
    ['a failed condition', new ConditionalCheckFailedException({ message: 'The conditional request failed', ...metadata(400) })],
    ['a transaction cancelled by a failed condition', cancelled('None', 'ConditionalCheckFailed')],
    ['a transaction cancelled by a conflict and a throttle', cancelled('TransactionConflict', 'ThrottlingError')],
    ['a transaction cancelled by a failed condition and a throttle', cancelled('ConditionalCheckFailed', 'ThrottlingError')],
    ['a transaction cancelled without reasons', cancelled()],
    ['a validation error', Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException', ...metadata(400) })],
    ['a missing table', Object.assign(new Error('Cannot do operations on a non-existent table'), { name: 'ResourceNotFoundException', ...metadata(400) })],
    ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'PK')")],
    ['a Billow error', ValidationError.field('name', 'Required.')],
  ])('leaves %s as it is', (_name, error) => {
    expect(translateDynamoDbFault(error)).toBe(error);
  });

  it('leaves a collision for isTransactionConflict to recognise', () => {
    const collision = cancelled('None', 'TransactionConflict');
    expect(isTransactionConflict(translateDynamoDbFault(collision))).toBe(true);
  });

  it('maps to 429 and 503 problems with Retry-After and the request id', () => {
    const throttled = problemResponse(translateDynamoDbFault(cancelled('ThrottlingError')), 'req-429');
    expect(throttled).toMatchObject({ status: 429, headers: { 'retry-after': String(THROTTLED_RETRY_AFTER_SECONDS) } });
    expect(throttled.body).toMatchObject({ status: 429, code: 'throttled', requestId: 'req-429' });
    const unavailable = problemResponse(translateDynamoDbFault(nodeError('connect ECONNREFUSED 127.0.0.1:8000', 'ECONNREFUSED')), 'req-503');
    expect(unavailable).toMatchObject({ status: 503, headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } });
    expect(unavailable.body).toMatchObject({ status: 503, code: 'service_unavailable', requestId: 'req-503' });
  });
});

/**
 * A document client over a request handler that answers from `respond` and counts the requests it was sent,
 * as `db()` builds it (the translation on the base client, whose middleware stack the document client shares).
 */
function clientAnswering(respond: () => Promise<{ statusCode: number; errorType: string }>) {
  const sent = { count: 0 };
  const base = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://dynamodb.test',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 2,
    requestHandler: {
      handle: async () => {
        sent.count++;
        const { statusCode, errorType } = await respond();
        const body = new TextEncoder().encode(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${errorType}`, message: errorType }));
        return { response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
      },
    },
  });
  return { documents: DynamoDBDocumentClient.from(translateFaultsOf(base)), sent };
}

const get = new GetCommand({ TableName: 'billow', Key: { PK: 'CO#1', SK: 'CO' } });

describe('translateFaultsOf', () => {
  it('translates a throttle after the SDK has spent its retries on it', async () => {
    const { documents, sent } = clientAnswering(async () => ({ statusCode: 400, errorType: 'ProvisionedThroughputExceededException' }));
    const error = await documents.send(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect(((error as ThrottledError).cause as Error).name).toBe('ProvisionedThroughputExceededException');
    expect(sent.count).toBe(2);
  });

  it('translates a refused connection after the retries into an UnavailableError', async () => {
    const { documents, sent } = clientAnswering(async () => {
      throw nodeError('connect ECONNREFUSED 127.0.0.1:8000', 'ECONNREFUSED');
    });
    await expect(documents.send(get)).rejects.toBeInstanceOf(UnavailableError);
    expect(sent.count).toBe(2);
  });

  it('translates an HTTP 500 from the service into an UnavailableError', async () => {
    const { documents } = clientAnswering(async () => ({ statusCode: 500, errorType: 'InternalServerError' }));
    await expect(documents.send(get)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('passes a failed condition through untouched and unretried', async () => {
    const { documents, sent } = clientAnswering(async () => ({ statusCode: 400, errorType: 'ConditionalCheckFailedException' }));
    await expect(documents.send(get)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(sent.count).toBe(1);
  });
});
