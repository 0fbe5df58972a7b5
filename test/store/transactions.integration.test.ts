import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCredits } from '../../functions/billing/credits/apply-credits.js';
import { createInvoice } from '../../functions/billing/invoices/create-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import { voidPayment } from '../../functions/billing/payments/void-payment.js';
import type { Company } from '../../functions/domain/company.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { requireInvoice } from '../../functions/store/invoices.js';
import { refKey } from '../../functions/store/refs.js';
import { creditHoldersPage, getTransaction } from '../../functions/store/transactions.js';
import { balanceOf, seedClient, seedCompany, work } from '../billing/invoices/fixtures.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads } from '../support/dynamo-keys.js';
import { useFreshTables } from '../support/tables.js';

/**
 * A transaction's pointer item carries what a refund or void of it reads next (store/transactions.ts
 * `transactionRefItem`): its currency and every invoice it was ever applied to, kept by the commits that apply it.
 * So a void reads the company with the pointer, then the transaction, its invoices and the balance in one batch. A
 * pointer that does not say it (written before it did) or is behind is still read right, at one more read. Payments
 * holding credit are also in the company's credit index (GSI2) while they hold some.
 */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

const pointerOf = async (id: string) => (await db().send(new GetCommand({ TableName: tableName(), Key: refKey(company.id, id), ConsistentRead: true }))).Item;

/** A payment of 1000 applied to an invoice of 400, then (its 600 of credit applied) to a second invoice of 600. */
async function paymentOverTwoInvoices() {
  const client = await seedClient(company);
  const first = (await createInvoice({ companyId: company.id, clientId: client.id, lines: work(400) })).invoice;
  const payment = await recordPayment({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    type: 'cash',
    amount: 1000,
    currency: 'USD',
    apply: [{ invoiceId: first.id, amount: 400 }],
  });
  const second = (await createInvoice({ companyId: company.id, clientId: client.id, lines: work(600) })).invoice;
  return { client, first, second, payment };
}

async function creditHolders(): Promise<string[]> {
  const ids: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await creditHoldersPage(company.id, 100, startKey);
    ids.push(...page.items.map((t) => t.id));
    startKey = page.lastKey;
  } while (startKey);
  return ids;
}

describe("a transaction's pointer", () => {
  it('names its currency and every invoice it is applied to, and a void reads it all in two reads, each item once', async () => {
    const { client, first, second, payment } = await paymentOverTwoInvoices();
    expect(await pointerOf(payment.id)).toMatchObject({ clientId: client.id, currency: 'USD', invoiceIds: new Set([first.id]) });
    // Holding 600 of credit, it is in the company's credit index; once applied, it is not.
    expect(await creditHolders()).toContain(payment.id);
    await applyCredits({ companyId: company.id, principal: null, clientId: client.id });
    expect(await pointerOf(payment.id)).toMatchObject({ invoiceIds: new Set([first.id, second.id]) });
    expect(await creditHolders()).not.toContain(payment.id);

    const calls = recordDynamoCalls();
    const keys = recordDynamoKeys();
    const voided = await voidPayment({ companyId: company.id, principal: null, transactionId: payment.id });
    calls.stop();
    keys.stop();
    expect(calls.calls.map((c) => [c.command, c.itemsRead])).toEqual([
      ['BatchGetItemCommand', 2],
      ['BatchGetItemCommand', 4],
      ['TransactWriteItemsCommand', 0],
    ]);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(voided).toEqual(await getTransaction(company.id, client.id, payment.id));
    expect((await requireInvoice(company.id, first.id)).due).toBe(400);
    expect((await requireInvoice(company.id, second.id)).due).toBe(600);
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ due: 1000, credit: 0 });
  });

  it('written before it said more than the client: the void reads the transaction, then its ledger (three reads), just as right', async () => {
    const { client, first, second, payment } = await paymentOverTwoInvoices();
    await applyCredits({ companyId: company.id, principal: null, clientId: client.id });
    await db().send(new UpdateCommand({ TableName: tableName(), Key: refKey(company.id, payment.id), UpdateExpression: 'REMOVE currency, invoiceIds' }));
    const calls = recordDynamoCalls();
    await voidPayment({ companyId: company.id, principal: null, transactionId: payment.id });
    calls.stop();
    expect(calls.calls.map((c) => c.command)).toEqual(['BatchGetItemCommand', 'GetItemCommand', 'BatchGetItemCommand', 'TransactWriteItemsCommand']);
    expect((await requireInvoice(company.id, first.id)).due).toBe(400);
    expect((await requireInvoice(company.id, second.id)).due).toBe(600);
  });

  it('behind the transaction (an invoice it does not list): the void reads that invoice too, just as right', async () => {
    const { client, first, second, payment } = await paymentOverTwoInvoices();
    await applyCredits({ companyId: company.id, principal: null, clientId: client.id });
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: refKey(company.id, payment.id),
        UpdateExpression: 'SET invoiceIds = :ids',
        ExpressionAttributeValues: { ':ids': new Set([first.id]) },
      }),
    );
    const calls = recordDynamoCalls();
    await voidPayment({ companyId: company.id, principal: null, transactionId: payment.id });
    calls.stop();
    expect(calls.calls.map((c) => [c.command, c.itemsRead])).toEqual([
      ['BatchGetItemCommand', 2],
      ['BatchGetItemCommand', 3],
      ['BatchGetItemCommand', 1],
      ['TransactWriteItemsCommand', 0],
    ]);
    expect((await requireInvoice(company.id, second.id)).due).toBe(600);
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ due: 1000, credit: 0 });
  });
});
