/**
 * The import worker in a process of its own, for bench/imports.ts: what its peak RSS measures is the worker's path
 * (the file read from S3, csv-parse, the split into chunks and the duplicate scan, row checks, the write batches to
 * DynamoDB), not the benchmark's local stack (API, S3 stand-in, the CDK library the local automation loads) nor what
 * the benchmark itself keeps. One process per import, so each peak is that import's alone.
 *
 * The parent's local queue hands it the bucket's S3 notification over IPC (`{ type: 'invoke', id, event }`, answered
 * `{ type: 'invoked', id, result | error }`); the chunk messages the first worker sends go to a queue in this process,
 * which runs them `concurrency` at once as the deployed event source does (each chunk is one invocation of the same
 * handler). `{ type: 'report' }` waits for that queue to empty and answers with the process's peak RSS (the kernel's
 * figure, `getrusage`'s ru_maxrss), what it still holds after a full collection, and the DynamoDB work the worker did (calls and capacity, totals only: a list of
 * every call would itself grow with the rows).
 *
 *   node --expose-gc --import tsx bench/support/import-worker.ts <chunks at once>     (spawned by bench/imports.ts, with IPC)
 */
import '../../bin/local/preamble.js';
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { useLocalImportQueue } from '../../functions/adapters/import-queue/local.js';
import { handler } from '../../functions/imports/worker.js';
import { db } from '../../functions/store/dynamo.js';

export type WorkerRequest = { type: 'invoke'; id: number; event: SQSEvent } | { type: 'report' };
export type WorkerReply =
  | { type: 'ready'; rss: number }
  | { type: 'invoked'; id: number; failed: boolean; error?: string }
  | { type: 'dropped'; body: string; error: string }
  | { type: 'report'; peakRss: number; baselineRss: number; liveAfterGc: number; dynamo: DynamoTotals; redelivered: number };

export interface DynamoTotals {
  calls: number;
  readCapacity: number;
  writeCapacity: number;
  cancelled: number;
}

/**
 * Deliveries of a chunk message before the benchmark gives up on it. More than the deployed queue's redrive policy
 * allows: on a loaded machine a chunk can outlast the worker's 5-minute timeout (middy stops the invocation), and it
 * resumes from its checkpoint when delivered again, as in AWS; the benchmark measures rather than dead-letters.
 */
const MAX_DELIVERIES = 30;
const REDELIVERY_DELAY_MS = 2000;

const concurrency = Number(process.argv[2]);
if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error(`chunks at once: ${process.argv[2]}`);

const context = (): Context => ({ functionName: 'billow-imports-worker', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 5 * 60_000 }) as Context;

const sqsEvent = (body: string, receiveCount: number): SQSEvent => ({
  Records: [
    {
      messageId: randomUUID(),
      receiptHandle: 'bench',
      body,
      attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()), SenderId: 'BENCH', ApproximateFirstReceiveTimestamp: '' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:billow-imports',
      awsRegion: 'us-east-1',
    },
  ],
});

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
const totals: DynamoTotals = { calls: 0, readCapacity: 0, writeCapacity: 0, cancelled: 0 };
db().middlewareStack.add(
  (next, handlerContext) => async (args) => {
    const input = args.input as Record<string, unknown>;
    const command = String((handlerContext as { commandName?: string }).commandName);
    input.ReturnConsumedCapacity ??= 'TOTAL';
    totals.calls++;
    try {
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const c of (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Array<{
        CapacityUnits?: number;
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
      }>) {
        // DynamoDB Local reports CapacityUnits only: a write command's are writes, any other's reads.
        const units = c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
        if (WRITES.has(command)) totals.writeCapacity += units;
        else totals.readCapacity += units;
      }
      return out;
    } catch (error) {
      if ((error as Error).name === 'TransactionCanceledException') totals.cancelled++;
      throw error;
    }
  },
  { step: 'initialize', name: 'billowBenchWorkerTotals' },
);

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

/** The chunk messages: waiting, and under way. */
const waiting: Array<{ body: string; receiveCount: number }> = [];
let active = 0;
let delayed = 0;
let redelivered = 0;
let idleWaiters: Array<() => void> = [];

function settle(): void {
  if (waiting.length || active || delayed) return;
  const waiters = idleWaiters;
  idleWaiters = [];
  for (const resolve of waiters) resolve();
}

function pump(): void {
  while (active < concurrency && waiting.length) {
    const message = waiting.shift() as { body: string; receiveCount: number };
    message.receiveCount++;
    active++;
    void deliver(message).finally(() => {
      active--;
      pump();
      settle();
    });
  }
}

async function deliver(message: { body: string; receiveCount: number }): Promise<void> {
  let failure: string | undefined;
  try {
    const result = await handler(sqsEvent(message.body, message.receiveCount), context());
    if (result.batchItemFailures.length) failure = 'the worker reported it failed (its log says why)';
  } catch (error) {
    failure = (error as Error)?.message ?? String(error);
  }
  if (failure === undefined) return;
  console.error(`import worker (bench): delivery ${message.receiveCount} of a chunk message failed: ${failure}`);
  if (message.receiveCount >= MAX_DELIVERIES) {
    send({ type: 'dropped', body: message.body, error: failure });
    return;
  }
  redelivered++;
  delayed++;
  setTimeout(() => {
    delayed--;
    waiting.push(message);
    pump();
  }, REDELIVERY_DELAY_MS);
}

useLocalImportQueue({
  send: async (body) => {
    waiting.push({ body: typeof body === 'string' ? body : JSON.stringify(body), receiveCount: 0 });
    pump();
  },
});

const baselineRss = process.memoryUsage.rss();

process.on('message', (request: WorkerRequest) => {
  if (request.type === 'invoke') {
    handler(request.event, context()).then(
      (result) => send({ type: 'invoked', id: request.id, failed: result.batchItemFailures.length > 0 }),
      (error: Error) => send({ type: 'invoked', id: request.id, failed: true, error: error.message }),
    );
    return;
  }
  new Promise<void>((resolve) => {
    idleWaiters.push(resolve);
    settle();
  }).then(() => {
    const peakRss = process.resourceUsage().maxRSS * 1024;
    // What the worker still holds once its garbage is collected (the parent starts it with --expose-gc): the peak
    // above is mostly garbage V8 had not collected yet, this is what was kept.
    globalThis.gc?.();
    const { heapUsed, external } = process.memoryUsage();
    send({ type: 'report', peakRss, baselineRss, liveAfterGc: heapUsed + external, dynamo: { ...totals }, redelivered });
  });
});
// The benchmark ends the process by closing the channel.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', rss: baselineRss });
