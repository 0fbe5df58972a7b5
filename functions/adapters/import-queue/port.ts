/**
 * The imports queue (`BILLOW_IMPORTS_QUEUE_URL`): the bucket's object-created events and the chunk messages the
 * first worker sends, both read by `functions/imports/worker.ts`. SQS in AWS (`sqs.ts`); locally an in-process queue
 * the local stack registers (`local.ts`), which invokes the same handler with the same message shape.
 */
export interface ImportQueue {
  /** Sends one message (its body is the JSON of `body`). */
  send(body: object): Promise<void>;
}
