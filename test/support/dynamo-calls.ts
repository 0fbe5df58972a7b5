import { db } from '../../functions/store/dynamo.js';

/**
 * Records every DynamoDB command the store sends through `db()` while a recorder is open: which command, which
 * partition(s) and index it touched, how many items DynamoDB read to answer it (a Query's `ScannedCount`, not what
 * the filter kept) and the capacity it consumed. Tests and benchmarks assert on these instead of on key prefixes.
 */
export interface DynamoCall {
  command: string;
  index?: string;
  /** The partition key value(s) named by the command (a Query's `:pk`, a Get's key, every key of a batch or transaction). */
  partitions: string[];
  /** Items DynamoDB read: a Query's ScannedCount, 1 for a Get that found its item, a BatchGet's responses. */
  itemsRead: number;
  /** Items written or condition-checked (a transaction's items, a batch write's requests, 1 for a Put/Update/Delete). */
  itemsWritten: number;
  readCapacity: number;
  writeCapacity: number;
  /** A transaction DynamoDB cancelled (condition failure or conflict). */
  cancelled: boolean;
}

export interface CallRecorder {
  readonly calls: DynamoCall[];
  /** Totals of what was recorded so far. */
  totals(): { calls: number; itemsRead: number; itemsWritten: number; readCapacity: number; writeCapacity: number; cancelled: number };
  reset(): void;
  stop(): void;
}

const NAME = 'billowCallRecorder';
let open: DynamoCall[][] = [];
let installed = false;

type Input = Record<string, unknown>;
type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

function partitionsOf(input: Input): string[] {
  const keys: string[] = [];
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  if (input.KeyConditionExpression && values) {
    const name = /(\w+)\s*=\s*(:\w+)/.exec(String(input.KeyConditionExpression));
    if (name && typeof values[name[2]] === 'string') keys.push(values[name[2]] as string);
  }
  const key = (input.Key ?? input.Item) as Input | undefined;
  if (key && typeof key.PK === 'string') keys.push(key.PK);
  for (const table of Object.values((input.RequestItems ?? {}) as Record<string, unknown>)) {
    const requests = Array.isArray(table) ? table : ((table as { Keys?: Input[] }).Keys ?? []);
    for (const r of requests as Input[]) {
      const k = ((r.PutRequest as Input | undefined)?.Item ?? (r.DeleteRequest as Input | undefined)?.Key ?? r) as Input;
      if (typeof k.PK === 'string') keys.push(k.PK);
    }
  }
  for (const t of (input.TransactItems ?? []) as Input[]) {
    const op = Object.values(t)[0] as Input;
    const k = (op.Key ?? op.Item) as Input | undefined;
    if (k && typeof k.PK === 'string') keys.push(k.PK);
  }
  return keys;
}

function capacityOf(output: Input): { read: number; write: number } {
  const raw = output.ConsumedCapacity as Capacity | Capacity[] | undefined;
  let read = 0;
  let write = 0;
  for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    // DynamoDB Local reports only CapacityUnits; a read command's units are reads, a write command's writes.
    read += c.ReadCapacityUnits ?? 0;
    write += c.WriteCapacityUnits ?? 0;
    if (c.ReadCapacityUnits === undefined && c.WriteCapacityUnits === undefined) read += c.CapacityUnits ?? 0;
  }
  return { read, write };
}

/** Command names are DynamoDB's own (`GetItemCommand`, `TransactWriteItemsCommand`), whichever client sent them. */
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

function install(): void {
  if (installed) return;
  installed = true;
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (open.length === 0) return next(args);
      const input = args.input as Input;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const command = String((context as { commandName?: string }).commandName ?? 'unknown');
      const call: DynamoCall = {
        command,
        index: input.IndexName as string | undefined,
        partitions: partitionsOf(input),
        itemsRead: 0,
        itemsWritten: 0,
        readCapacity: 0,
        writeCapacity: 0,
        cancelled: false,
      };
      for (const calls of open) calls.push(call);
      try {
        const out = await next(args);
        const output = out.output as Input;
        const capacity = capacityOf(output);
        if (WRITES.has(command)) {
          call.writeCapacity = capacity.write + capacity.read;
          call.itemsWritten =
            command === 'TransactWriteItemsCommand'
              ? ((input.TransactItems as unknown[]) ?? []).length
              : command === 'BatchWriteItemCommand'
                ? Object.values(input.RequestItems as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0)
                : 1;
        } else {
          call.readCapacity = capacity.read + capacity.write;
          if (typeof output.ScannedCount === 'number') call.itemsRead = output.ScannedCount;
          else if (output.Item) call.itemsRead = 1;
          else if (output.Responses && !Array.isArray(output.Responses)) {
            call.itemsRead = Object.values(output.Responses as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0);
          } else if (Array.isArray(output.Responses)) call.itemsRead = (output.Responses as Array<{ Item?: unknown }>).filter((r) => r.Item).length;
        }
        return out;
      } catch (error) {
        if ((error as Error).name === 'TransactionCanceledException') call.cancelled = true;
        throw error;
      }
    },
    { step: 'initialize', name: NAME },
  );
}

/** Starts recording (several recorders may be open at once; each sees every call from its start). */
export function recordDynamoCalls(): CallRecorder {
  install();
  const calls: DynamoCall[] = [];
  open.push(calls);
  return {
    calls,
    totals: () => ({
      calls: calls.length,
      itemsRead: calls.reduce((n, c) => n + c.itemsRead, 0),
      itemsWritten: calls.reduce((n, c) => n + c.itemsWritten, 0),
      readCapacity: calls.reduce((n, c) => n + c.readCapacity, 0),
      writeCapacity: calls.reduce((n, c) => n + c.writeCapacity, 0),
      cancelled: calls.filter((c) => c.cancelled).length,
    }),
    reset: () => {
      calls.length = 0;
    },
    stop: () => {
      open = open.filter((c) => c !== calls);
    },
  };
}
