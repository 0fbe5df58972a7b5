import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../functions/billing/invoices/create-invoice.js';
import { createClient } from '../../functions/clients/create-client.js';
import { createCompany } from '../../functions/companies/create-company.js';
import { ConflictError } from '../../functions/domain/errors.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { companyPk, counterSk, uniquePk, uniqueSk } from '../../functions/store/keys.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';
import { useFreshTables } from '../support/tables.js';

/**
 * Client numbers taken by an atomic increment of the company's counter (store/counters.ts `writeNumbered`), through
 * the create-client use case against DynamoDB Local: creates at once cost what one alone does and never cancel
 * each other; a given number keeps the counter above it.
 */
beforeAll(async () => {
  await useFreshTables();
});

async function freshCompany(): Promise<string> {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Counters Ltd',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return company.id;
}

const create = (companyId: string, name: string, number?: number) =>
  createClient(companyId, { company: name, ...(number === undefined ? {} : { number }) }, null).then((created) => created.client);

async function counterValue(companyId: string): Promise<number | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: counterSk('client') }, ConsistentRead: true }));
  return out.Item?.value;
}

/** Runs `task(0..count-1)` with `concurrency` at once. */
async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await task(i);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function commandCounts(calls: ReadonlyArray<{ command: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.command] = (counts[c.command] ?? 0) + 1;
  return counts;
}

describe('client numbers taken at once', () => {
  it('40 creates at concurrency 10: no cancelled transaction, the requests per client of one at a time, consecutive unique numbers', async () => {
    const companyId = await freshCompany();
    const alone = recordDynamoCalls();
    await pool(10, 1, (i) => create(companyId, `Alone ${i}`));
    alone.stop();
    const perClientAlone = alone.calls.length / 10;

    const many = recordDynamoCalls();
    const clients = await pool(40, 10, (i) => create(companyId, `Burst ${i}`));
    many.stop();

    expect(many.totals().cancelled).toBe(0);
    expect(many.calls.length / 40).toBe(perClientAlone);
    // Per client: the company read (with the group, one BatchGet), the counter's increment and one transaction — none sent again.
    expect(commandCounts(many.calls)).toEqual({ BatchGetItemCommand: 40, UpdateItemCommand: 40, TransactWriteItemsCommand: 40 });
    const numbers = clients.map((c) => c.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => 11 + i));
    expect((await create(companyId, 'After')).number).toBe(51);
  });

  it('a number the counter hands out whose marker is taken (given meanwhile) is skipped: the create takes the next one', async () => {
    const companyId = await freshCompany();
    const first = await create(companyId, 'First');
    // As if another request gave the same number between this create's increment and its transaction.
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { PK: uniquePk(companyId, 'number', String(first.number + 1)), SK: uniqueSk, entity: 'unique', ownerId: 'cl_elsewhere', field: 'number' },
      }),
    );
    const calls = recordDynamoCalls();
    const next = await create(companyId, 'Next');
    calls.stop();
    expect(next.number).toBe(first.number + 2);
    expect(calls.totals().cancelled).toBe(1);
    expect(commandCounts(calls.calls)).toEqual({ BatchGetItemCommand: 1, UpdateItemCommand: 2, TransactWriteItemsCommand: 2 });
  });
});

describe('given numbers', () => {
  it('a given number above the counter moves it up: the next automatic number is above it', async () => {
    const companyId = await freshCompany();
    await create(companyId, 'One');
    expect((await create(companyId, 'Given', 5_000)).number).toBe(5_000);
    expect(await counterValue(companyId)).toBe(5_000);
    expect((await create(companyId, 'Next')).number).toBe(5_001);
    // A given number below the counter does not move it back.
    expect((await create(companyId, 'Low', 7)).number).toBe(7);
    expect((await create(companyId, 'After Low')).number).toBe(5_002);
  });

  it('a given number already used → 409 naming number, and the counter keeps its place', async () => {
    const companyId = await freshCompany();
    const used = await create(companyId, 'Used');
    await create(companyId, 'Second');
    const refused = create(companyId, 'Again', used.number);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ code: 'duplicate_number', details: { errors: [{ path: 'number' }] } });
    expect((await create(companyId, 'Third')).number).toBe(used.number + 2);
  });

  it('given numbers just above the counter, at once with automatic ones: automatic creates never fail, no number twice, the counter ends above all', async () => {
    const companyId = await freshCompany();
    const base = (await create(companyId, 'Base')).number;
    // The given numbers are exactly those the automatic creates reach for: whichever claims a number first keeps it.
    const outcomes = await pool(20, 10, (i) =>
      (i % 2 === 0 ? create(companyId, `Given ${i}`, base + 1 + i / 2) : create(companyId, `Auto ${i}`)).then(
        (client) => ({ given: i % 2 === 0, client, error: undefined as unknown }),
        (error: unknown) => ({ given: i % 2 === 0, client: undefined, error }),
      ),
    );
    for (const o of outcomes.filter((o) => o.error)) {
      expect(o.given).toBe(true);
      expect(o.error).toMatchObject({ code: 'duplicate_number', details: { errors: [{ path: 'number' }] } });
    }
    const numbers = outcomes.flatMap((o) => (o.client ? [o.client.number] : []));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(outcomes.filter((o) => !o.given && o.client)).toHaveLength(10);
    expect((await create(companyId, 'After')).number).toBeGreaterThan(Math.max(...numbers));
  });
});

describe('invoice numbers (writeWithCounter)', () => {
  const openInvoice = (companyId: string, clientId: string, numberedInSequence = true) =>
    createInvoice({ companyId, clientId, lines: [{ description: 'Work', quantity: 1, unitAmount: 100, taxable: false }], numberedInSequence }).then(
      (c) => c.invoice,
    );
  const counterReads = (calls: ReturnType<typeof recordDynamoCalls>, companyId: string) =>
    calls.calls.filter((c) => c.command === 'GetItemCommand' && c.partitions.includes(companyPk(companyId))).length;

  it('in sequence (the automation), the next invoice starts from the number this process wrote last: no read of the counter', async () => {
    const companyId = await freshCompany();
    const client = await create(companyId, 'Numbered');
    const first = await openInvoice(companyId, client.id);
    const calls = recordDynamoCalls();
    const second = await openInvoice(companyId, client.id);
    calls.stop();
    expect(second.number).toBe((first.number as number) + 1);
    expect(counterReads(calls, companyId)).toBe(0);
    expect(calls.totals().cancelled).toBe(0);
  });

  it('otherwise (a request, one of many processes) the counter is read: no guess to lose', async () => {
    const companyId = await freshCompany();
    const client = await create(companyId, 'Requested');
    const first = await openInvoice(companyId, client.id, false);
    const calls = recordDynamoCalls();
    const second = await openInvoice(companyId, client.id, false);
    calls.stop();
    expect(second.number).toBe((first.number as number) + 1);
    expect(counterReads(calls, companyId)).toBe(1);
  });

  it('a guess another writer made stale is refused by the counter condition: the counter is read and the number is the next one', async () => {
    const companyId = await freshCompany();
    const client = await create(companyId, 'Raced');
    const first = await openInvoice(companyId, client.id);
    // Another process numbers five invoices meanwhile.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: companyPk(companyId), SK: counterSk('invoice') },
        UpdateExpression: 'SET #v = #v + :five',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':five': 5 },
      }),
    );
    const calls = recordDynamoCalls();
    const next = await openInvoice(companyId, client.id);
    calls.stop();
    expect(next.number).toBe((first.number as number) + 6);
    expect(calls.totals().cancelled).toBe(1);
    expect(counterReads(calls, companyId)).toBe(1);
  });
});
