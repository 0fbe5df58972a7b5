import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { blankClient } from '../../test/support/blank-client.js';
import type { Client } from '../../functions/domain/client.js';
import { db, tableName, type TransactItem } from '../../functions/store/dynamo.js';
import { insertClient } from '../../functions/store/clients.js';
import { inParallel } from './measure.js';

type Input = Record<string, unknown>;
type Draft = Omit<Client, 'number'> & { number: number };

/**
 * While `collecting` is set, a transaction sent through `db()` is not sent: its Puts are kept to be written in
 * batches, its condition checks dropped (the fixture is fresh: the group exists, nothing is taken) and of its
 * Updates only the last state is kept (for a counter, the highest value it is set to).
 */
let collecting: { puts: Input[]; updates: Map<string, Input> } | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  db().middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Input;
      if (!collecting || !Array.isArray(input.TransactItems)) return next(args);
      for (const item of input.TransactItems as TransactItem[]) {
        if (item.Put) collecting.puts.push(item.Put.Item as Input);
        else if (item.Update) {
          const key = JSON.stringify(item.Update.Key);
          const value = (u: Input | undefined) => Number((u?.ExpressionAttributeValues as Input | undefined)?.[':next'] ?? 0);
          if (!collecting.updates.has(key) || value(item.Update as Input) >= value(collecting.updates.get(key)))
            collecting.updates.set(key, item.Update as Input);
        } else if (item.Delete) throw new Error('The bench seeder writes new items only.');
      }
      return { output: { $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'billowBenchSeeder', priority: 'high' },
  );
}

/** The attribute names and values an expression uses (an Update loses its condition, and what only it used). */
function used(expression: string, names: Input | undefined, values: Input | undefined) {
  const pick = <T>(from: Record<string, T> | undefined) =>
    from ? Object.fromEntries(Object.entries(from).filter(([k]) => expression.includes(k))) : undefined;
  return { ExpressionAttributeNames: pick(names as Record<string, string> | undefined), ExpressionAttributeValues: pick(values) };
}

/**
 * Writes clients exactly as `insertClient` builds them (the client, its index entries, unique markers, group
 * membership and the company's number counter) but in batches of 25 items, not one transaction per client: 5,000
 * clients in a company would otherwise take minutes, each create waiting its turn on the number counter. Numbers
 * are given (1…), so the counter ends at the highest.
 */
export async function seedClients(companyId: string, drafts: Draft[], concurrency = 8): Promise<Client[]> {
  install();
  const clients: Client[] = [];
  for (let from = 0; from < drafts.length; from += 500) {
    collecting = { puts: [], updates: new Map() };
    const slice = drafts.slice(from, from + 500);
    try {
      // Within the SDK's 50 sockets: more would only queue (and warn).
      const built: Client[] = new Array(slice.length);
      await inParallel(slice.length, 32, async (i) => {
        built[i] = await insertClient(companyId, slice[i]);
      });
      clients.push(...built);
    } finally {
      const { puts, updates } = collecting;
      collecting = undefined;
      await writeBatches(puts, concurrency);
      for (const u of updates.values()) {
        await db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: u.Key as Input,
            UpdateExpression: u.UpdateExpression as string,
            ...used(u.UpdateExpression as string, u.ExpressionAttributeNames as Input, u.ExpressionAttributeValues as Input),
          }),
        );
      }
    }
  }
  return clients;
}

async function writeBatches(items: Input[], concurrency: number): Promise<void> {
  const batches: Input[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        let requests = batches[next++].map((Item) => ({ PutRequest: { Item } }));
        while (requests.length) {
          const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: requests } }));
          requests = (out.UnprocessedItems?.[tableName()] ?? []) as typeof requests;
        }
      }
    }),
  );
}

const FIRST = ['Ada', 'Bo', 'Cyd', 'Dee', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jo'];

/** Client `i` of a generated company: `Family<i>`, numbered i + 1, created a second apart. */
export function clientDraft(i: number, groupId: string, status: Client['status'] = 'active'): Draft {
  return {
    ...blankClient({
      status,
      groupId,
      firstName: FIRST[i % FIRST.length],
      lastName: `Family${i}`,
      company: `Company ${i} Ltd`,
      address1: `${i} Main Street`,
      city: 'Springfield',
      country: 'US',
      email: `c${i}@example.com`,
      createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    }),
    number: i + 1,
  };
}
