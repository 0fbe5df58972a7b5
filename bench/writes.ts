/**
 * Budget 2 of issue 13: what each write costs DynamoDB. For every write route — through the local API in this
 * process, so what is counted is what the deployed function sends — the calls, transactions and reads of one
 * request, and:
 * - at most 2 reads and 1 transaction per write (a stored-card payment records its attempt before the charge, by
 *   design: its own line, with a budget of 2 transactions);
 * - no item fetched by key twice in one request (Get, BatchGet, TransactGet keys);
 * - merge and delete of a client with ~25 and ~100 items: the calls the 75 more items cost, per 25 items, ≤ 1.5
 *   (batched, not one call per item; the fixed part — the client, the target, the claim — is paid once at any size);
 * - a city-only PATCH rewrites no index entry (only the client item, and what records the change).
 * Each write's calls, capacity and median time also go to the cost model (OperationCost).
 *
 *   npx tsx bench/writes.ts
 */
import '../bin/local/preamble.js';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../functions/store/dynamo.js';
import { clientPk } from '../functions/store/keys.js';
import { runStandalone } from './support/dynamo.js';
import { measure, median, type Measured, type TransactWrite } from './support/measure.js';
import type { BenchOutcome, BudgetResult, OperationCost } from './support/report.js';
import { startBenchStack, type BenchCompany, type BenchStack } from './support/stack.js';

/** Each write is measured this many times (on fresh objects) for the median time; calls are those of the last. */
const REPEAT = 3;
const CARD = { number: '4242424242424242', expMonth: 12, expYear: new Date().getUTCFullYear() + 3 };
const line = (amount: number) => ({ description: 'Work', quantity: 1, unitAmount: amount, taxable: false });

interface Write {
  name: string;
  /** Makes what one request needs (not measured) and returns the request. */
  prepare: (ctx: Context) => Promise<() => Promise<unknown>>;
  /** Transactions the write may use (1 unless the design says otherwise, and why). */
  transactions?: { limit: number; why: string };
  /** For a PATCH: the index entries (list, search, group and unique entries: items outside the client's partition) it wrote. */
  indexEntriesOf?: (companyId: string, m: Measured) => TransactWrite[];
}

interface Context {
  stack: BenchStack;
  company: BenchCompany;
  call: (method: string, path: string, body?: unknown) => Promise<any>;
  n: () => number;
}

async function newClient(ctx: Context, extra: Record<string, unknown> = {}): Promise<string> {
  const i = ctx.n();
  return (
    await ctx.call('POST', '/v1/clients', {
      firstName: 'Writ',
      lastName: `Er${i}`,
      email: `writer${i}@example.com`,
      address1: '1 Main St',
      city: 'Springfield',
      country: 'US',
      ...extra,
    })
  ).id;
}

const newInvoice = async (ctx: Context, clientId: string, amount = 1000): Promise<string> =>
  (await ctx.call('POST', `/v1/clients/${clientId}/invoices`, { lines: [line(amount)] })).id;

/** The client the last PATCH was prepared for. */
let patched = '';

const WRITES: Write[] = [
  {
    name: 'client create',
    prepare: async (ctx) => {
      const i = ctx.n();
      return () =>
        ctx.call('POST', '/v1/clients', { firstName: 'New', lastName: `Client${i}`, email: `new${i}@example.com`, city: 'Springfield', country: 'US' });
    },
  },
  {
    name: 'client PATCH city only',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      patched = id;
      return () => ctx.call('PATCH', `/v1/clients/${id}`, { city: `Shelbyville ${ctx.n()}` });
    },
    indexEntriesOf: (companyId, m) => m.transactWrites.filter((w) => w.pk !== clientPk(companyId, patched)),
  },
  {
    name: 'contact add',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      return () =>
        ctx.call('POST', `/v1/clients/${id}/contacts`, { type: 'billing', firstName: 'Con', lastName: 'Tact', email: `contact${ctx.n()}@example.com` });
    },
  },
  {
    name: 'note add',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      return () => ctx.call('POST', `/v1/clients/${id}/notes`, { summary: 'Called about the invoice', sticky: true });
    },
  },
  {
    name: 'invoice create',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      return () => ctx.call('POST', `/v1/clients/${id}/invoices`, { lines: [line(1000), line(250)] });
    },
  },
  {
    name: 'offline payment record',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      const invoiceId = await newInvoice(ctx, id);
      return () =>
        ctx.call('POST', `/v1/clients/${id}/payments/record`, { type: 'check', amount: 1000, currency: 'USD', apply: [{ invoiceId, amount: 1000 }] });
    },
  },
  {
    name: 'stored-card payment, 3 invoices, receipt',
    transactions: { limit: 2, why: 'the attempt is recorded before the gateway is called, so a charge is never lost' },
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      const account = (await ctx.call('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: CARD })).id;
      const invoices = [await newInvoice(ctx, id), await newInvoice(ctx, id), await newInvoice(ctx, id)];
      return () =>
        ctx.call('POST', `/v1/clients/${id}/payments`, {
          source: { paymentAccountId: account },
          currency: 'USD',
          apply: invoices.map((invoiceId) => ({ invoiceId, amount: 1000 })),
          sendReceipt: true,
        });
    },
  },
  {
    name: 'refund',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      const account = (await ctx.call('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: CARD })).id;
      const invoiceId = await newInvoice(ctx, id);
      const charge = await ctx.call('POST', `/v1/clients/${id}/payments`, {
        source: { paymentAccountId: account },
        currency: 'USD',
        apply: [{ invoiceId, amount: 1000 }],
        sendReceipt: false,
      });
      return () => ctx.call('POST', `/v1/transactions/${charge.id}/refund`, {});
    },
  },
  {
    name: 'invoice void (paid)',
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      const invoiceId = await newInvoice(ctx, id);
      await ctx.call('POST', `/v1/clients/${id}/payments/record`, { type: 'check', amount: 1000, currency: 'USD', apply: [{ invoiceId, amount: 1000 }] });
      return () => ctx.call('POST', `/v1/invoices/${invoiceId}/void`, {});
    },
  },
  {
    name: 'email send',
    transactions: { limit: 2, why: 'the mail-log entry is written queued before the provider is called, then marked sent' },
    prepare: async (ctx) => {
      const id = await newClient(ctx);
      return () => ctx.call('POST', `/v1/clients/${id}/emails`, { subject: 'Hello', html: '<p>Hello there</p>' });
    },
  },
];

/** Items in a client's own partition (what a merge moves and a delete removes, besides its index entries). */
async function itemsOf(companyId: string, clientId: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId) },
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
      }),
    );
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** A client with about `items` items in its partition: notes (each a note and its activity entry) and invoices. */
async function clientWithItems(ctx: Context, items: number): Promise<{ id: string; items: number }> {
  const id = await newClient(ctx);
  const invoices = Math.round(items / 10);
  for (let i = 0; i < invoices; i++) await newInvoice(ctx, id, 100);
  let count = await itemsOf(ctx.company.companyId, id);
  while (count < items) {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(10, Math.floor((items - count) / 2))) }, () =>
        ctx.call('POST', `/v1/clients/${id}/notes`, { summary: 'A note' }),
      ),
    );
    count = await itemsOf(ctx.company.companyId, id);
  }
  return { id, items: count };
}

const cost = (operation: string, m: Measured, ms: number): OperationCost => ({
  operation,
  calls: m.calls,
  readCapacity: m.readCapacity,
  writeCapacity: m.writeCapacity,
  ms,
});

export async function run(): Promise<BenchOutcome> {
  const stack = await startBenchStack();
  try {
    const company = await stack.createCompany('Bench writes');
    let counter = 0;
    const ctx: Context = {
      stack,
      company,
      call: async (method, path, body) => (await stack.call(method, path, { token: company.staffToken, body })).body,
      n: () => ++counter,
    };
    const results: BudgetResult[] = [];
    const operations: OperationCost[] = [];
    const notes: string[] = [];

    for (const write of WRITES) {
      const runs: Measured[] = [];
      for (let r = 0; r < REPEAT; r++) runs.push(await measure(await write.prepare(ctx)));
      const m = runs[runs.length - 1];
      const ms = median(runs.map((x) => x.ms));
      const transactions = write.transactions ?? { limit: 1, why: '' };
      results.push(
        { budget: 2, name: `${write.name}: reads`, measured: m.reads, limit: 2, kind: 'max', detail: readsDetail(m) },
        {
          budget: 2,
          name: `${write.name}: transactions`,
          measured: m.transactions,
          limit: transactions.limit,
          kind: 'max',
          detail: `${m.transactions} TransactWriteItems of ${m.calls} calls${transactions.why ? ` (${transactions.why})` : ''}`,
        },
        {
          budget: 2,
          name: `${write.name}: items read twice`,
          measured: m.fetchedTwice.length,
          limit: 0,
          kind: 'max',
          detail: m.fetchedTwice.length ? `fetched again: ${[...new Set(m.fetchedTwice)].join(', ')}` : 'every item fetched by key at most once',
        },
      );
      if (write.indexEntriesOf) {
        const outside = write.indexEntriesOf(company.companyId, m);
        results.push({
          budget: 2,
          name: `${write.name}: index entries rewritten`,
          measured: outside.length,
          limit: 0,
          kind: 'max',
          detail: outside.length
            ? `written outside the client's partition: ${outside.map((w) => `${w.type} ${w.pk.replace(company.companyId, '…')}`).join('; ')}`
            : `only the client's own partition written (${m.transactWrites.length} items)`,
        });
      }
      operations.push(cost(write.name, m, ms));
      console.log(
        `  ${write.name.padEnd(42)} calls ${String(m.calls).padStart(3)}  reads ${String(m.reads).padStart(2)}  transactions ${m.transactions}  RCU ${m.readCapacity.toFixed(1).padStart(5)}  WCU ${m.writeCapacity.toFixed(1).padStart(5)}  ${ms.toFixed(0)} ms`,
      );
    }

    for (const kind of ['merge', 'delete'] as const) {
      const sizes: Array<{ items: number; m: Measured }> = [];
      for (const size of [25, 100]) {
        const source = await clientWithItems(ctx, size);
        const target = kind === 'merge' ? await newClient(ctx) : '';
        const m = await measure(() =>
          kind === 'merge' ? ctx.call('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target }) : ctx.call('DELETE', `/v1/clients/${source.id}`),
        );
        sizes.push({ items: source.items, m });
        results.push({
          budget: 2,
          name: `${kind} of a client with ${source.items} items: items read twice`,
          measured: m.fetchedTwice.length,
          limit: 0,
          kind: 'max',
          detail: m.fetchedTwice.length ? `fetched again: ${[...new Set(m.fetchedTwice)].join(', ')}` : 'every item fetched by key at most once',
        });
        operations.push(cost(`${kind} (${source.items} items)`, m, m.ms));
        console.log(
          `  ${`${kind} of ${source.items} items`.padEnd(42)} calls ${String(m.calls).padStart(3)}  reads ${String(m.reads).padStart(2)}  transactions ${m.transactions}  ${m.ms.toFixed(0)} ms`,
        );
      }
      // What grows with the items: a fixed part (the client, the target, the claim) is paid once whatever the size.
      const [few, many] = sizes;
      const perBatch = (many.m.calls - few.m.calls) / ((many.items - few.items) / 25);
      results.push({
        budget: 2,
        name: `${kind}: calls per 25 more items`,
        measured: perBatch,
        limit: 1.5,
        kind: 'max',
        detail: `(${many.m.calls} − ${few.m.calls} calls) ÷ ((${many.items} − ${few.items} items) ÷ 25); ${few.m.transactions} → ${many.m.transactions} transactions`,
      });
    }
    notes.push('Writes: one request each through the local API; identity-provider calls (Cognito in AWS) are not counted.');
    return { results, operations, notes };
  } finally {
    await stack.stop();
  }
}

function readsDetail(m: Measured): string {
  const byCommand = new Map<string, number>();
  for (const c of m.recorded) byCommand.set(c.command.replace(/Command$/, ''), (byCommand.get(c.command.replace(/Command$/, '')) ?? 0) + 1);
  return `${m.reads} reads of ${m.calls} calls (${[...byCommand].map(([k, v]) => `${v} ${k}`).join(', ')}); RCU ${m.readCapacity.toFixed(1)}`;
}

await runStandalone(import.meta.url, run);
