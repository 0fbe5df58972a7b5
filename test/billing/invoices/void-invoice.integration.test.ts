import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { voidInvoice } from '../../../functions/billing/invoices/void-invoice.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import type { Company } from '../../../functions/domain/company.js';
import { db, tableName } from '../../../functions/store/dynamo.js';
import { clientPk, invoiceSk } from '../../../functions/store/keys.js';
import { refKey } from '../../../functions/store/refs.js';
import { getTransaction } from '../../../functions/store/transactions.js';
import { recordDynamoCalls } from '../../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads } from '../../support/dynamo-keys.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf, invoiceItem, seedClient, seedCompany, work } from './fixtures.js';

/** voidInvoice against DynamoDB Local: what it reads, and that every payment applied to the invoice gets its money back. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

/** An invoice of 1000 paid by two payments (600 + 400), among other invoices and payments of the client. */
async function paidTwice() {
  const client = await seedClient(company);
  const others = await Promise.all([1, 2, 3].map(() => createInvoice({ companyId: company.id, clientId: client.id, lines: work(500) })));
  const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(1000) });
  const pay = (amount: number, invoiceId: string) =>
    recordPayment({ companyId: company.id, principal: null, clientId: client.id, type: 'cash', amount, currency: 'USD', apply: [{ invoiceId, amount }] });
  const first = await pay(600, invoice.id);
  for (const other of others) await pay(500, other.invoice.id);
  const second = await pay(400, invoice.id);
  return { client, invoice, payments: [first, second] };
}

describe('voidInvoice', () => {
  it('reads the invoice and the payments applied to it (its paidBy), and gives each its amount back as credit', async () => {
    const { client, invoice, payments } = await paidTwice();
    const stored = await invoiceItem(company.id, client.id, invoice.id);
    expect([...((stored?.paidBy ?? []) as string[])].sort()).toEqual(payments.map((p) => p.id).sort());
    const recorder = recordDynamoCalls();
    const keys = recordDynamoKeys();
    const voided = await voidInvoice({ companyId: company.id, invoiceId: invoice.id });
    recorder.stop();
    keys.stop();
    // The answer is what was written, without reading it again: each item is read once, and one transaction writes.
    expect(voided).toEqual(await requireInvoice(company.id, invoice.id));
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(recorder.calls.filter((c) => c.itemsWritten > 0).map((c) => c.command)).toEqual(['TransactWriteItemsCommand']);
    // The invoice's pointer (its client and currency) with the company; the invoice with that currency's balance; its
    // two payments; the commit. Three reads, each a BatchGet by key: no query of the client's partition at all.
    expect(recorder.calls.map((c) => [c.command, c.itemsRead])).toEqual([
      ['BatchGetItemCommand', 2],
      ['BatchGetItemCommand', 2],
      ['BatchGetItemCommand', 2],
      ['TransactWriteItemsCommand', 0],
    ]);
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ credit: 1000 });
    expect((await getTransaction(company.id, client.id, payments[0].id))?.credit).toBe(600);
    expect((await getTransaction(company.id, client.id, payments[1].id))?.credit).toBe(400);
    expect((await invoiceItem(company.id, client.id, invoice.id))?.paidBy).toEqual([]);
  });

  it('an invoice whose pointer names another currency (a draft revised to a new one) reads the balance of its own', async () => {
    const client = await seedClient(company);
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(700) });
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: refKey(company.id, invoice.id),
        UpdateExpression: 'SET currency = :c',
        ExpressionAttributeValues: { ':c': 'EUR' },
      }),
    );
    const recorder = recordDynamoCalls();
    await voidInvoice({ companyId: company.id, invoiceId: invoice.id });
    recorder.stop();
    // The pointer with the company; the invoice with the EUR balance; the USD balance it is in; the commit.
    expect(recorder.calls.map((c) => c.command)).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand', 'BatchGetItemCommand', 'TransactWriteItemsCommand']);
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ due: 0, invoiced: 0 });
  });

  it('an invoice paid before paidBy was kept is voided from the whole ledger, just as right', async () => {
    const { client, invoice, payments } = await paidTwice();
    await db().send(
      new UpdateCommand({ TableName: tableName(), Key: { PK: clientPk(company.id, client.id), SK: invoiceSk(invoice.id) }, UpdateExpression: 'REMOVE paidBy' }),
    );
    await voidInvoice({ companyId: company.id, invoiceId: invoice.id });
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ credit: 1000, due: 0 });
    expect((await getTransaction(company.id, client.id, payments[0].id))?.applications).toEqual([]);
    expect((await getTransaction(company.id, client.id, payments[1].id))?.credit).toBe(400);
  });
});
