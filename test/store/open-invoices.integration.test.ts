import { beforeAll, describe, expect, it } from 'vitest';
import { voidInvoice } from '../../functions/billing/invoices/void-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import type { Company } from '../../functions/domain/company.js';
import { openInvoicesOfClient } from '../../functions/store/invoices.js';
import { openInvoice, seedClient, seedCompanyWith } from '../automation/tasks/fixtures.js';
import { useFreshTables } from '../support/tables.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk, invoiceSk } from '../../functions/store/keys.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';

/** A client's open invoices as auto-debit and unsuspension read them: open only, by currency or all, oldest due first. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith();
});

async function clientWithHistory() {
  const client = await seedClient(company);
  const paid = await openInvoice(company, client, 1000, '2026-06-10');
  await recordPayment({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    type: 'cash',
    amount: 1000,
    currency: 'USD',
    apply: [{ invoiceId: paid.id, amount: 1000 }],
  });
  const voided = await openInvoice(company, client, 700, '2026-12-01');
  await voidInvoice({ companyId: company.id, invoiceId: voided.id });
  const later = await openInvoice(company, client, 300, '2027-02-01');
  const earlier = await openInvoice(company, client, 200, '2027-01-15');
  const euro = await openInvoice(company, client, 900, '2027-01-10', { currency: 'EUR' });
  return { client, later, earlier, euro };
}

describe('open invoices of a client', () => {
  it('in one currency: only the open ones, oldest due first', async () => {
    const { client, later, earlier } = await clientWithHistory();
    expect((await openInvoicesOfClient(company.id, client.id, 'USD')).map((i) => i.id)).toEqual([earlier.id, later.id]);
  });

  it('in every currency, and a paid one leaves', async () => {
    const { client, later, earlier, euro } = await clientWithHistory();
    expect((await openInvoicesOfClient(company.id, client.id)).map((i) => i.id)).toEqual([euro.id, earlier.id, later.id]);
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'cash',
      amount: 300,
      currency: 'USD',
      apply: [{ invoiceId: later.id, amount: 300 }],
    });
    expect((await openInvoicesOfClient(company.id, client.id)).map((i) => i.id)).toEqual([euro.id, earlier.id]);
  });

  it('an open invoice the index does not list yet (GSI3 lags, or an item stored before it) is still found, from the partition', async () => {
    const { client, later, earlier } = await clientWithHistory();
    await forgetIndexKeys(client.id, earlier.id);
    const recorder = recordDynamoCalls();
    const found = await openInvoicesOfClient(company.id, client.id, 'USD');
    recorder.stop();
    expect(found.map((i) => i.id)).toEqual([earlier.id, later.id]);
    // Its due did not add up to the balance's: the index was asked again, then the partition read.
    expect(recorder.calls.filter((c) => c.index === 'GSI3')).toHaveLength(2);
    expect(recorder.calls.some((c) => c.command === 'QueryCommand' && !c.index && c.itemsRead >= 5)).toBe(true);
  });

  it('found through the index alone when it is up to date', async () => {
    const { client } = await clientWithHistory();
    const recorder = recordDynamoCalls();
    await openInvoicesOfClient(company.id, client.id, 'USD');
    recorder.stop();
    // The index (the open invoices of every currency: 3), then the two in USD by key and the two balances; not the
    // paid and void ones.
    expect(recorder.calls.map((c) => c.command).sort()).toEqual(['BatchGetItemCommand', 'QueryCommand', 'QueryCommand']);
    expect(recorder.totals().itemsRead).toBe(3 + 2 + 2);
  });
});

/** Removes an invoice's status-index keys, as if GSI3 had not caught up with it yet (or it was stored before them). */
async function forgetIndexKeys(clientId: string, invoiceId: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: clientPk(company.id, clientId), SK: invoiceSk(invoiceId) },
      UpdateExpression: 'REMOVE GSI3PK, GSI3SK',
    }),
  );
}
