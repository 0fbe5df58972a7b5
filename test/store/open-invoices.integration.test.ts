import { beforeAll, describe, expect, it, vi } from 'vitest';
import { voidInvoice } from '../../functions/billing/invoices/void-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import type { Client } from '../../functions/domain/client.js';
import type { Company } from '../../functions/domain/company.js';
import { db } from '../../functions/store/dynamo.js';
import { openInvoicesOfClient } from '../../functions/store/invoices.js';
import { readProfileView } from '../../functions/store/clients.js';
import { openInvoice, seedClient, seedCompanyWith } from '../automation/tasks/fixtures.js';
import { useFreshTables } from '../support/tables.js';

/**
 * A client's open invoices come from the sparse LSI1 entries open invoices carry (`3#OPEN#<currency>#<due>#<id>`):
 * what the read examines is what is open in that currency, however long the client's paid and void history is; and
 * the profile view, on the same index, still reads only the client, its balances and its sticky notes.
 */
let company: Company;
let client: Client;
const open: string[] = [];

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith();
  client = await seedClient(company);
  for (let i = 0; i < 12; i++) {
    const paid = await openInvoice(company, client, 1000, `2026-0${1 + (i % 9)}-1${i % 10}`);
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'cash',
      amount: 1000,
      currency: 'USD',
      apply: [{ invoiceId: paid.id, amount: 1000 }],
    });
  }
  const voided = await openInvoice(company, client, 700, '2026-12-01');
  await voidInvoice({ companyId: company.id, invoiceId: voided.id });
  open.push((await openInvoice(company, client, 300, '2027-02-01')).id, (await openInvoice(company, client, 200, '2027-01-15')).id);
  await openInvoice(company, client, 900, '2027-01-10', { currency: 'EUR' });
});

/** The items DynamoDB examined for each Query sent while `run` ran. */
async function scannedDuring(run: () => Promise<unknown>): Promise<number[]> {
  const c = db();
  const send = c.send.bind(c) as (...args: unknown[]) => Promise<{ ScannedCount?: number }>;
  const scanned: number[] = [];
  const spy = vi.spyOn(c, 'send').mockImplementation((async (...args: unknown[]) => {
    const out = await send(...args);
    if ((args[0] as { constructor: { name: string } }).constructor.name === 'QueryCommand') scanned.push(out.ScannedCount ?? -1);
    return out;
  }) as typeof c.send);
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return scanned;
}

describe('open invoices of a client', () => {
  it('are read by currency and due date, examining only the open ones', async () => {
    let found: Awaited<ReturnType<typeof openInvoicesOfClient>> = [];
    const scanned = await scannedDuring(async () => {
      found = await openInvoicesOfClient(company.id, client.id, 'USD');
    });
    expect(found.map((i) => i.id)).toEqual([open[1], open[0]]);
    expect(found.every((i) => i.status === 'open' && i.currency === 'USD')).toBe(true);
    expect(scanned).toEqual([2]);
    // Every currency at once (the unsuspension check): the three open ones.
    const all = await scannedDuring(() => openInvoicesOfClient(company.id, client.id));
    expect(all).toEqual([3]);
  });

  it('leave when paid, and the profile view does not read them', async () => {
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'cash',
      amount: 300,
      currency: 'USD',
      apply: [{ invoiceId: open[0], amount: 300 }],
    });
    expect((await openInvoicesOfClient(company.id, client.id, 'USD')).map((i) => i.id)).toEqual([open[1]]);
    let view: Awaited<ReturnType<typeof readProfileView>>;
    const scanned = await scannedDuring(async () => {
      view = await readProfileView(company.id, client.id);
    });
    expect(view!.client.id).toBe(client.id);
    // The client item and its two balances (USD, EUR); no sticky notes, no invoice.
    expect(scanned).toEqual([3]);
  });
});
