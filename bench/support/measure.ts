import { db } from '../../functions/store/dynamo.js';
import { recordDynamoCalls, type DynamoCall } from '../../test/support/dynamo-calls.js';

type Input = Record<string, unknown>;
type Key = { PK?: unknown; SK?: unknown };

/** An item a request wrote in a transaction (a condition check writes nothing and is not listed). */
export interface TransactWrite {
  type: 'Put' | 'Update' | 'Delete';
  pk: string;
  sk: string;
}

/**
 * What the call recorder does not keep: the whole key of each item fetched by key (Get, BatchGet, TransactGet), so
 * an item fetched twice in one request shows, and the items each transaction wrote.
 */
interface KeyLog {
  fetched: string[];
  written: TransactWrite[];
}
let keyLogs: KeyLog[] = [];
let keyLogInstalled = false;

const keyOf = (k: Key) => `${String(k.PK)} ${String(k.SK)}`;

function installKeyLog(): void {
  if (keyLogInstalled) return;
  keyLogInstalled = true;
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (keyLogs.length) {
        const input = args.input as Input;
        const command = String((context as { commandName?: string }).commandName ?? '');
        const fetched: string[] = [];
        const written: TransactWrite[] = [];
        if (command === 'GetItemCommand' || command === 'GetCommand') fetched.push(keyOf(input.Key as Key));
        for (const table of Object.values((command.startsWith('BatchGet') ? input.RequestItems : undefined) ?? {}) as Array<{ Keys?: Key[] }>) {
          for (const k of table.Keys ?? []) fetched.push(keyOf(k));
        }
        const transactItems = (input.TransactItems ?? []) as Input[];
        if (command.startsWith('TransactGet')) for (const t of transactItems) fetched.push(keyOf((t as { Get: { Key: Key } }).Get.Key));
        for (const t of command.startsWith('TransactWrite') ? transactItems : []) {
          const [type, op] = Object.entries(t)[0] as [string, Input];
          if (type === 'ConditionCheck') continue;
          const key = (op.Key ?? op.Item) as Key;
          written.push({ type: type as TransactWrite['type'], pk: String(key.PK), sk: String(key.SK) });
        }
        for (const log of keyLogs) {
          log.fetched.push(...fetched.filter((k) => !k.startsWith('USER#')));
          log.written.push(...written.filter((w) => !w.pk.startsWith('USER#')));
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'billowBenchKeyLog' },
  );
}

/** What one request cost DynamoDB, from every command its handler sent (test/support/dynamo-calls.ts). */
export interface Measured {
  calls: number;
  /** Read and write capacity as DynamoDB reported it (DynamoDB Local reports both). */
  readCapacity: number;
  writeCapacity: number;
  itemsRead: number;
  /** TransactWriteItems sent (cancelled ones included). */
  transactions: number;
  cancelled: number;
  /** The commands themselves, for checks such as "no item read twice". */
  recorded: DynamoCall[];
  /** Read commands (Get, Query, BatchGet, …): everything but writes. */
  reads: number;
  /** Items fetched by key more than once in the request (each repeat counted). */
  fetchedTwice: string[];
  /** The items the request's transactions wrote. */
  transactWrites: TransactWrite[];
  /** Calls to the local identity provider's own table (Cognito's work in AWS), left out of the figures above. */
  identityCalls: number;
  ms: number;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/** The local stand-in for Cognito keeps its users in a table of its own, under `USER#` keys (adapters/identity/local.ts). */
const isIdentityCall = (c: DynamoCall) => c.partitions.length > 0 && c.partitions.every((p) => p.startsWith('USER#'));

/** Runs `request` once with a recorder open: its DynamoDB calls, capacity and wall time. */
export async function measure(request: () => Promise<unknown>): Promise<Measured> {
  installKeyLog();
  const recorder = recordDynamoCalls();
  const log: KeyLog = { fetched: [], written: [] };
  keyLogs.push(log);
  const started = process.hrtime.bigint();
  try {
    await request();
  } finally {
    recorder.stop();
    keyLogs = keyLogs.filter((l) => l !== log);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const calls = recorder.calls.filter((c) => !isIdentityCall(c));
  const sum = (f: (c: DynamoCall) => number) => calls.reduce((n, c) => n + f(c), 0);
  return {
    calls: calls.length,
    readCapacity: sum((c) => c.readCapacity),
    writeCapacity: sum((c) => c.writeCapacity),
    itemsRead: sum((c) => c.itemsRead),
    transactions: calls.filter((c) => c.command === 'TransactWriteItemsCommand').length,
    cancelled: calls.filter((c) => c.cancelled).length,
    recorded: calls,
    reads: calls.filter((c) => !WRITES.has(c.command)).length,
    fetchedTwice: log.fetched.filter((k, i) => log.fetched.indexOf(k) !== i),
    transactWrites: log.written,
    identityCalls: recorder.calls.length - calls.length,
    ms,
  };
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** `large / small`, where 0 / 0 is 1 (nothing read in either is no growth) and x / 0 is infinite growth. */
export const ratio = (large: number, small: number): number => (small === 0 ? (large === 0 ? 1 : Number.POSITIVE_INFINITY) : large / small);

/** Runs `count` tasks, `concurrency` at a time, in order of their index. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
