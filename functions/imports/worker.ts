import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import { tracedHandler } from '../observability/tracer.js';
import { processChunk } from './process-chunk.js';
import { onObjectCreated } from './start-import.js';

/**
 * The import worker: the Lambda behind the imports queue (lib/imports.ts), and what the local stack's in-process
 * queue invokes. A message is either an S3 event notification (the bucket's object-created events; S3's test event
 * is ignored) or a chunk message the first worker sent. A message that fails is reported in `batchItemFailures`, so
 * only it is delivered again (the queue's redrive policy moves it to the DLQ after its attempts); a message that is
 * not one of those shapes can never succeed and is logged and dropped rather than retried.
 */

const s3Record = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string().min(1), size: z.number().int().min(0).optional(), eTag: z.string().optional(), sequencer: z.string().optional() }),
  }),
});

export const importMessage = z.union([
  z.object({ type: z.literal('import-chunk'), companyId: z.string().min(1).max(100), importId: z.string().min(1).max(100), chunk: z.number().int().min(0) }),
  z.object({ Records: z.array(s3Record) }),
  z.object({ Event: z.literal('s3:TestEvent') }),
]);
export type ImportMessage = z.infer<typeof importMessage>;

/** An S3 event's key is URL-encoded, a space as `+`. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export async function handleImportMessage(message: ImportMessage): Promise<void> {
  if ('Event' in message) return;
  if ('type' in message) return processChunk(message);
  for (const record of message.Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const { object } = record.s3;
    await onObjectCreated({ key: decodeS3Key(object.key), size: object.size, sequencer: object.sequencer, eTag: object.eTag });
  }
}

function parseBody(record: SQSRecord): ImportMessage | undefined {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return undefined;
  }
  const parsed = importMessage.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

export async function handleImportBatch(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const message = parseBody(record);
    if (!message) {
      logger.error('Dropped an import message that is neither an S3 event nor a chunk message', {
        messageId: record.messageId,
        body: record.body.slice(0, 500),
      });
      continue;
    }
    try {
      await handleImportMessage(message);
    } catch (error) {
      logger.error('Import message failed; it will be delivered again', { messageId: record.messageId, error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

export const handler = tracedHandler(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  try {
    return await handleImportBatch(event);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
});
