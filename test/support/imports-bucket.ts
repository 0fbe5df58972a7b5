import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { startLocalBlobs, type LocalBlobs } from '../../functions/adapters/blobs/local.js';
import { useLocalImportQueue } from '../../functions/adapters/import-queue/local.js';
import { useFreshTables } from './tables.js';

/**
 * For a test file of the import worker: fresh tables, the imports bucket on s3rver, and the local imports queue
 * replaced by one that only collects what is sent into `sent` (the test delivers the messages itself).
 */
export function useImportsBucket<T>(bucket: string, sent: T[]): void {
  let blobs: LocalBlobs | undefined;
  beforeAll(async () => {
    await useFreshTables();
    blobs = await startLocalBlobs({ directory: mkdtempSync(join(tmpdir(), 'billow-imports-')), bucket });
    process.env.BILLOW_IMPORTS_BUCKET = bucket;
    useLocalImportQueue({
      send: async (body) => {
        sent.push(body as T);
      },
    });
  });
  afterAll(async () => {
    useLocalImportQueue(undefined);
    await blobs?.stop();
  });
}

let messageNo = 0;
/** One message of the imports queue as SQS hands it to the import worker. */
export function importQueueEvent(body: object): SQSEvent {
  messageNo++;
  return {
    Records: [
      {
        messageId: `m${messageNo}`,
        receiptHandle: `r${messageNo}`,
        body: JSON.stringify(body),
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:imports',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** An S3 object-created notification as S3 sends it to SQS: the key URL-encoded, a space as `+`. */
export function objectCreatedEvent(bucket: string, key: string, size: number, sequencer: string): object {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size, eTag: 'etag', sequencer },
        },
      },
    ],
  };
}
