import { createHash, randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { IMPORT_MAX_CONCURRENCY, IMPORT_MAX_RECEIVE_COUNT, IMPORT_WORKER_TIMEOUT } from '../../lib/imports.js';
import { IMPORT_UPLOAD_PREFIX } from '../../lib/function.js';

/** The import worker's handler (`functions/imports/worker.ts`), as Lambda's SQS event source calls it. */
export type ImportWorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/** The bucket the local stack keeps import files and error reports in (on the blob store's s3rver). */
export const LOCAL_IMPORTS_BUCKET = 'billow-imports';
/**
 * The imports bucket's CORS configuration on s3rver, as lib/imports.ts gives the deployed bucket (IMPORT_UPLOAD_CORS):
 * a web app on any origin may PUT a file to its presigned URL.
 */
export const LOCAL_IMPORTS_CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

/** The queue's ARN in the records the worker gets (a local account and region, as the other local ARNs). */
export const LOCAL_IMPORTS_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:billow-imports';

export interface LocalImportQueueOptions {
  /** The worker the queue delivers to, one message per invocation (the deployed event source's batch size). */
  handler: ImportWorkerHandler;
  /** Invocations at once. @default IMPORT_MAX_CONCURRENCY (the deployed event source's maximum concurrency) */
  concurrency?: number;
  /** Deliveries of a message before it is dead-lettered. @default IMPORT_MAX_RECEIVE_COUNT */
  maxReceiveCount?: number;
  /**
   * How long a failed message stays hidden before it is delivered again, in milliseconds: the local stand-in for the
   * queue's visibility timeout (30 minutes in AWS; short here so a local retry is seen). @default 2000
   */
  redeliveryDelayMs?: number;
  /** Told of a message that failed `maxReceiveCount` times. @default a console.error line */
  onDeadLetter?: (message: DeadLetter) => void;
}

/** A message the local queue gave up on, as it would sit in the dead-letter queue. */
export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  /** Why the last delivery failed: the handler's error, or that it reported the message as failed. */
  reason: string;
}

interface Message {
  messageId: string;
  body: string;
  sentAt: number;
  firstReceivedAt?: number;
  receiveCount: number;
}

/**
 * The imports queue on this machine, standing in for SQS and Lambda's event source: messages are delivered in the
 * order sent (a redelivered one goes to the back), one per invocation, at most `concurrency` at once, to the worker
 * handler with the same `SQSEvent` shape Lambda builds. A message the handler reports in `batchItemFailures`, or
 * whose invocation throws, is delivered again after `redeliveryDelayMs`, up to `maxReceiveCount` deliveries, then
 * dead-lettered (a log line). Like SQS it delivers at least once; nothing is kept across restarts (an import whose
 * messages were pending when `npm start` stopped stays `queued` or `running`).
 */
export class LocalImportQueue {
  private readonly waiting: Message[] = [];
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly active = new Set<Promise<void>>();
  private readonly concurrency: number;
  private readonly maxReceiveCount: number;
  private readonly redeliveryDelayMs: number;
  private readonly onDeadLetter: (message: DeadLetter) => void;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: LocalImportQueueOptions) {
    this.concurrency = options.concurrency ?? IMPORT_MAX_CONCURRENCY;
    this.maxReceiveCount = options.maxReceiveCount ?? IMPORT_MAX_RECEIVE_COUNT;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 2000;
    this.onDeadLetter =
      options.onDeadLetter ??
      ((m) =>
        console.error(`Import queue: message ${m.messageId} failed ${m.receiveCount} times and was dead-lettered (${m.reason}): ${m.body.slice(0, 500)}`));
  }

  /** Sends a message (an object is sent as its JSON, as the SQS adapter does). */
  async send(body: object | string): Promise<void> {
    if (this.stopped) throw new Error('The local import queue is stopped.');
    this.waiting.push({ messageId: randomUUID(), body: typeof body === 'string' ? body : JSON.stringify(body), sentAt: Date.now(), receiveCount: 0 });
    this.pump();
  }

  /** Resolves when no message is waiting, hidden for redelivery or being handled (tests, the benchmark). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops delivering; messages not yet delivered are dropped, invocations under way are awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    this.waiting.length = 0;
    await Promise.all([...this.active]);
    this.settle();
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.delayed.size === 0 && this.active.size === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.concurrency && this.waiting.length) {
      const message = this.waiting.shift();
      if (!message) break;
      const delivery: Promise<void> = this.deliver(message).finally(() => {
        this.active.delete(delivery);
        this.pump();
        this.settle();
      });
      this.active.add(delivery);
    }
  }

  private async deliver(message: Message): Promise<void> {
    message.receiveCount += 1;
    message.firstReceivedAt ??= Date.now();
    let failure: string | undefined;
    try {
      const result = await this.options.handler({ Records: [sqsRecord(message)] }, workerContext());
      if (result?.batchItemFailures?.some((f) => f.itemIdentifier === message.messageId)) failure = 'the worker reported it as failed';
    } catch (error) {
      failure = (error as Error)?.message ?? String(error);
    }
    if (failure === undefined || this.stopped) return;
    if (message.receiveCount >= this.maxReceiveCount) {
      this.onDeadLetter({ messageId: message.messageId, body: message.body, receiveCount: message.receiveCount, reason: failure });
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (this.stopped) return this.settle();
      this.waiting.push(message);
      this.pump();
    }, this.redeliveryDelayMs);
    this.delayed.add(timer);
  }
}

/** The record Lambda's SQS event source hands the function for one message. */
function sqsRecord(message: Message): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: `local-${message.messageId}-${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'LOCAL',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: LOCAL_IMPORTS_QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** Built as the invocation starts, so its remaining time runs down as the deployed worker's does. */
function workerContext(): Context {
  const deadline = Date.now() + IMPORT_WORKER_TIMEOUT.toMilliseconds();
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'billow-imports-worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:billow-imports-worker',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/billow-imports-worker',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * An S3 object key as S3 writes it in event notifications: each character but letters, digits and `-_.*` percent-
 * encoded, a space as `+` (form encoding), `/` kept. s3rver puts the raw key in its events; a worker that decodes
 * the key as it must for real S3 (`decodeURIComponent(key.replace(/\+/g, ' '))`) would otherwise read another key.
 */
export function s3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

interface S3rverRecord {
  eventName?: string;
  eventTime?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
  [field: string]: unknown;
}

/** A record of an object created under `imports/` in the imports bucket: its bucket and key are known. */
type CreatedImportRecord = S3rverRecord & { s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } } };

let sequence = 0;

/**
 * Turns s3rver's event for an object created under `imports/` of the imports bucket into the notification S3 sends to
 * the imports queue (`undefined` for anything else: other buckets, other prefixes, deletes). What differs from
 * s3rver's is what the deployed path would see: the key URL-encoded, the bucket's ARN without s3rver's spaces, a
 * sequencer that grows with every event (s3rver's is the millisecond, the same for two events in one), and the
 * notification's configuration id.
 */
export function importNotification(event: unknown, bucket: string): { Records: S3rverRecord[] } | undefined {
  const records = ((event as { Records?: S3rverRecord[] })?.Records ?? []).filter((r): r is CreatedImportRecord =>
    Boolean(r.eventName?.startsWith('ObjectCreated:') && r.s3?.bucket?.name === bucket && r.s3.object?.key?.startsWith(IMPORT_UPLOAD_PREFIX)),
  );
  if (!records.length) return undefined;
  return {
    Records: records.map((record) => {
      sequence += 1;
      const object = record.s3.object;
      return {
        ...record,
        s3: {
          ...record.s3,
          s3SchemaVersion: '1.0',
          configurationId: 'ImportsObjectCreated',
          bucket: { ...record.s3.bucket, name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: {
            ...object,
            key: s3EventKey(object.key),
            sequencer: `${Date.now().toString(16).toUpperCase()}${sequence.toString(16).toUpperCase().padStart(8, '0')}`,
          },
        },
      };
    }),
  };
}

export interface LocalImports {
  queue: LocalImportQueue;
  bucket: string;
  stop(): Promise<void>;
}

/**
 * The imports path on this machine: the imports bucket's object-created events (from the s3rver that emits them)
 * become S3 notifications sent to the local imports queue, which runs the worker handler. The worker's chunk messages
 * reach the same queue through the local import-queue adapter (registered by the caller).
 */
export function startLocalImports(options: { s3Events: EventEmitter; bucket?: string } & LocalImportQueueOptions): LocalImports {
  const bucket = options.bucket ?? LOCAL_IMPORTS_BUCKET;
  const queue = new LocalImportQueue(options);
  const onEvent = (event: unknown) => {
    const notification = importNotification(event, bucket);
    if (notification) queue.send(notification).catch(() => undefined);
  };
  options.s3Events.on('event', onEvent);
  return {
    queue,
    bucket,
    stop: async () => {
      options.s3Events.off('event', onEvent);
      await queue.stop();
    },
  };
}
