import { db } from '../../functions/store/dynamo.js';
import { recordDynamoCalls, type CallRecorder } from './dynamo-calls.js';

/**
 * Records the keys each DynamoDB command names while a recorder is open, next to `recordDynamoCalls` (which records
 * partitions and capacity): a Get's key, a BatchGet's keys, a Query's partition and sort-key condition, each item of
 * a transaction or batch write. `repeatedReads` finds an item read twice (by Get or BatchGet) in what was recorded:
 * a request should read each item once and pass it down.
 */
export interface KeyedCall {
  command: string;
  /** `PK|SK` of each item named; for a Query, `PK|<sort-key condition>` (its values substituted). */
  keys: string[];
}

export interface KeyRecorder {
  readonly calls: KeyedCall[];
  /** `command PK|SK …` per call, for a readable call list in a test's failure or a report. */
  lines(): string[];
  reset(): void;
  stop(): void;
}

type Input = Record<string, unknown>;
type Key = { PK?: unknown; SK?: unknown };

const NAME = 'billowKeyRecorder';
let open: KeyedCall[][] = [];
let installed = false;

const keyOf = (k: Key | undefined) => `${String(k?.PK)}|${String(k?.SK)}`;

function queryKey(input: Input): string {
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const condition = String(input.KeyConditionExpression ?? '');
  const substituted = condition.replace(/:\w+/g, (name) => JSON.stringify(values[name]));
  return `${input.IndexName ? `${String(input.IndexName)} ` : ''}${substituted}`;
}

function keysOf(input: Input): string[] {
  if (input.KeyConditionExpression) return [queryKey(input)];
  const single = (input.Key ?? input.Item) as Key | undefined;
  if (single) return [keyOf(single)];
  const keys: string[] = [];
  for (const table of Object.values((input.RequestItems ?? {}) as Record<string, unknown>)) {
    const requests = Array.isArray(table) ? table : ((table as { Keys?: Key[] }).Keys ?? []);
    for (const r of requests as Input[]) {
      keys.push(keyOf(((r.PutRequest as Input | undefined)?.Item ?? (r.DeleteRequest as Input | undefined)?.Key ?? r) as Key));
    }
  }
  for (const t of (input.TransactItems ?? []) as Input[]) {
    const [kind, op] = Object.entries(t)[0] as [string, Input];
    keys.push(`${kind}:${keyOf((op.Key ?? op.Item) as Key)}`);
  }
  return keys;
}

function install(): void {
  if (installed) return;
  installed = true;
  db().middlewareStack.add(
    (next, context) => async (args) => {
      if (open.length > 0) {
        const call = { command: String((context as { commandName?: string }).commandName ?? 'unknown'), keys: keysOf(args.input as Input) };
        for (const calls of open) calls.push(call);
      }
      return next(args);
    },
    { step: 'initialize', name: NAME },
  );
}

/** Starts recording (several recorders may be open at once). */
export function recordDynamoKeys(): KeyRecorder {
  install();
  const calls: KeyedCall[] = [];
  open.push(calls);
  return {
    calls,
    lines: () => calls.map((c) => `${c.command.replace(/Command$/, '')} ${c.keys.join(' ')}`),
    reset: () => {
      calls.length = 0;
    },
    stop: () => {
      open = open.filter((c) => c !== calls);
    },
  };
}

const POINT_READS = new Set(['GetItemCommand', 'BatchGetItemCommand']);

/** The `PK|SK` keys read more than once by Get or BatchGet among `calls` (empty when every item was read once). */
export function repeatedReads(calls: readonly KeyedCall[]): string[] {
  const seen = new Map<string, number>();
  for (const call of calls) if (POINT_READS.has(call.command)) for (const key of call.keys) seen.set(key, (seen.get(key) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);

/** Runs `run` with a call recorder and a key recorder open, and gives both back. */
export async function recordCallsAndKeys(run: () => Promise<void>): Promise<{ calls: CallRecorder; keys: KeyRecorder }> {
  const calls = recordDynamoCalls();
  const keys = recordDynamoKeys();
  try {
    await run();
  } finally {
    calls.stop();
    keys.stop();
  }
  return { calls, keys };
}

/** Reads of the billing table (the local identity provider's own table, Cognito's work in AWS, left out). */
export const tableReads = (keys: KeyRecorder) => keys.calls.filter((c) => READS.has(c.command) && !c.keys.every((k) => k.startsWith('USER#')));

/** Each read as `<command> <sort keys, ids cut>`, e.g. `BatchGetItem CLIENT COMPANY`, `GetItem GROUP#`. */
export const readShapes = (keys: KeyRecorder) =>
  tableReads(keys).map(
    (c) =>
      `${c.command.replace(/Command$/, '')} ${c.keys
        .map((k) => (k.includes('|') ? k.split('|')[1].replace(/#.*/, '#') : k.split(' ')[0]))
        .sort()
        .join(' ')}`,
  );
