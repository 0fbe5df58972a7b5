import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decodeS3Key, handleImportBatch, importMessage } from '../../functions/imports/worker.js';

/** What the worker accepts and drops without touching the table (the rest is in worker.integration.test.ts). */

const record = (messageId: string, body: string): SQSEvent['Records'][number] => ({
  messageId,
  receiptHandle: messageId,
  body,
  attributes: {} as never,
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:imports',
  awsRegion: 'us-east-1',
});

describe('decodeS3Key', () => {
  it('decodes an S3 event key: percent-escapes, and + as a space', () => {
    expect(decodeS3Key('imports/co_1/My+Clients+%28June%29.csv')).toBe('imports/co_1/My Clients (June).csv');
    expect(decodeS3Key('imports/co_1/a%2Bb.csv')).toBe('imports/co_1/a+b.csv');
    expect(decodeS3Key('imports/co_1/Ren%C3%A9e.csv')).toBe('imports/co_1/Renée.csv');
  });
});

describe('importMessage', () => {
  it('accepts S3 events, the S3 test event and chunk messages, nothing else', () => {
    const s3 = { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'imports/co_1/a.csv', size: 3 } } }] };
    expect(importMessage.safeParse(s3).success).toBe(true);
    expect(importMessage.safeParse({ Event: 's3:TestEvent' }).success).toBe(true);
    expect(importMessage.safeParse({ type: 'import-chunk', companyId: 'co_1', importId: 'imp_1', chunk: 0 }).success).toBe(true);
    for (const bad of [{}, { type: 'import-chunk', companyId: 'co_1', importId: 'imp_1', chunk: -1 }, { Records: [{ eventName: 'x' }] }, 'text']) {
      expect(importMessage.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('handleImportBatch', () => {
  it('drops what can never succeed (not JSON, not a known shape) and ignores the S3 test event, failing none of them', async () => {
    const result = await handleImportBatch({
      Records: [record('a', 'not json'), record('b', JSON.stringify({ hello: 'world' })), record('c', JSON.stringify({ Event: 's3:TestEvent' }))],
    });
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('ignores S3 events other than object-created', async () => {
    const body = { Records: [{ eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'imports/co_1/a.csv' } } }] };
    expect(await handleImportBatch({ Records: [record('d', JSON.stringify(body))] })).toEqual({ batchItemFailures: [] });
  });
});
