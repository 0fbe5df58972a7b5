import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { WorkerReply, WorkerRequest } from './import-worker.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The import worker in a process of its own (bench/support/import-worker.ts), one per import. */
export interface WorkerProcess {
  /** What the local queue's invocation of the worker does: hands the event over and waits for the worker's answer. */
  invoke(event: SQSEvent): Promise<SQSBatchResponse>;
  /** Waits for the worker's chunk queue to empty: its peak RSS, its RSS once loaded, what it holds after a full GC, its DynamoDB work. */
  report(): Promise<Extract<WorkerReply, { type: 'report' }>>;
  /** Rejects when the worker gave up on a chunk message: the import can then never complete. */
  readonly gaveUp: Promise<never>;
  stop(): void;
}

/**
 * Starts the worker process with this process's environment (tables, endpoints, bucket), running chunk messages
 * `chunksAtOnce` at once; resolves once its modules are loaded. `log` is told of invocations that failed.
 */
export async function startWorkerProcess(chunksAtOnce: number, log: (line: string) => void = () => undefined): Promise<WorkerProcess> {
  // TypeScript through tsx, from the repository's root, whatever runs this (tsx, vitest).
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'import-worker.ts'), String(chunksAtOnce)], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const invocations = new Map<number, { resolve: (failed: boolean) => void; reject: (error: Error) => void }>();
  let reporting: { resolve: (reply: Extract<WorkerReply, { type: 'report' }>) => void; reject: (error: Error) => void } | undefined;
  let ended: Error | undefined;
  let giveUp: (error: Error) => void = () => undefined;
  const gaveUp = new Promise<never>((_resolve, reject) => {
    giveUp = reject;
  });
  // Only a measurement that waits on it sees it.
  gaveUp.catch(() => undefined);
  const started = new Promise<void>((resolve, reject) => {
    child.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') resolve();
      else if (reply.type === 'invoked') {
        if (reply.error) log(`  (import worker: an invocation failed: ${reply.error})`);
        invocations.get(reply.id)?.resolve(reply.failed);
        invocations.delete(reply.id);
      } else if (reply.type === 'dropped') giveUp(new Error(`the import worker gave up on a chunk message (${reply.error}): ${reply.body}`));
      else reporting?.resolve(reply);
    });
    // A worker process that dies fails whatever waits on it, rather than leaving the benchmark waiting.
    child.once('exit', (code, signal) => {
      ended = new Error(`the import worker process ended (${signal ?? `exit code ${code}`})`);
      reject(ended);
      for (const waiting of invocations.values()) waiting.reject(ended);
      invocations.clear();
      reporting?.reject(ended);
    });
  });
  await started;
  let nextId = 0;
  return {
    gaveUp,
    invoke: (event) =>
      new Promise((resolve, reject) => {
        if (ended) return reject(ended);
        const id = nextId++;
        invocations.set(id, {
          resolve: (failed) => resolve({ batchItemFailures: failed ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [] }),
          reject,
        });
        child.send({ type: 'invoke', id, event } satisfies WorkerRequest);
      }),
    report: () =>
      new Promise((resolve, reject) => {
        if (ended) return reject(ended);
        reporting = { resolve, reject };
        child.send({ type: 'report' } satisfies WorkerRequest);
      }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}
