import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyCreditsSource } from '../../../functions/automation/tasks/apply-credits.js';
import { autoDebitSource } from '../../../functions/automation/tasks/auto-debit.js';
import { noticesSource } from '../../../functions/automation/tasks/notices.js';
import { renewSeriesSource } from '../../../functions/automation/tasks/renew-series.js';
import { voidsSource } from '../../../functions/automation/tasks/voids.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { db } from '../../../functions/store/dynamo.js';
import { CARD_APPROVES, card } from '../../support/billing.js';
import { useFreshTables } from '../../support/tables.js';
import { captureMail, openInvoice, runAll, runOn, seedClient, seedCompanyWith } from './fixtures.js';

/**
 * What the billing work sources read and write, seen at the DynamoDB client: a dry run writes nothing, and a client
 * with nothing due on the date is never read, however much it has (invoices, credit, a series, an auto-debit card) —
 * but for the loose credit it holds: applyCredits looks at the clients holding credit (not at every open invoice),
 * so it reads that one's balance and the due date of its oldest open invoice, and no more of it.
 */
const WRITES = new Set(['TransactWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand', 'BatchWriteCommand']);
const SOURCES = [renewSeriesSource, applyCreditsSource, autoDebitSource, noticesSource, voidsSource];

let company: Company;
let busy: Client;
let idle: Client;
let mail: ReturnType<typeof captureMail>;

async function everything(client: Client, dateDue: string) {
  await addPaymentAccount({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    details: { type: 'card', card: card(CARD_APPROVES) },
    autoDebit: true,
  });
  await openInvoice(company, client, 3000, dateDue, { dateBilled: dateDue });
  await createInvoice({
    companyId: company.id,
    clientId: client.id,
    dateBilled: dateDue,
    dateDue,
    lines: [{ description: 'Monthly', quantity: 1, unitAmount: 1000 }],
    recurring: { term: 1, period: 'month' },
  });
  await recordPayment({ companyId: company.id, principal: null, clientId: client.id, type: 'cash', amount: 500, currency: 'USD' });
}

/** Runs every billing source for the date, recording each DynamoDB command sent meanwhile. */
async function commandsDuring(date: string, dryRun: boolean) {
  const client = db();
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const seen: Array<{ name: string; input: string }> = [];
  const spy = vi.spyOn(client, 'send').mockImplementation(((...args: unknown[]) => {
    const command = args[0] as { constructor: { name: string }; input: unknown };
    seen.push({ name: command.constructor.name, input: JSON.stringify(command.input) });
    return send(...args);
  }) as typeof client.send);
  try {
    const runs = [];
    for (const source of SOURCES) runs.push(await runAll(source, runOn(company, date, dryRun)));
    return { seen, actions: runs.flatMap((r) => r.actions) };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({
    invoiceDaysBeforeRenewal: 7,
    autoApplyLooseCredits: true,
    enableAutoDebit: true,
    autoDebitDaysBeforeDue: 2,
    voidInvoicesDaysAfterDue: 30,
    paymentDueNotices: { enabled: true, autoDebitPendingNoticeDays: -3, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14 },
  });
  mail = captureMail();
  busy = await seedClient(company, { email: 'busy@example.com' });
  idle = await seedClient(company, { email: 'idle@example.com' });
  await everything(busy, '2027-03-01');
  await everything(idle, '2027-09-01');
});

afterAll(() => mail.restore());

describe('the billing work sources', () => {
  // One test: the real run changes what a dry run after it would plan (tests are shuffled).
  it('a dry run sends no write at all; neither it nor the real run reads a client with nothing due on the date', async () => {
    const dry = await commandsDuring('2027-04-05', true);
    expect(dry.actions.length).toBeGreaterThan(0);
    expect(dry.actions.every((a) => a.outcome === 'planned' || a.outcome === 'skipped')).toBe(true);
    expect(dry.seen.filter((c) => WRITES.has(c.name)).map((c) => c.name)).toEqual([]);
    expect(mail.sent).toHaveLength(0);

    const real = await commandsDuring('2027-04-05', false);
    expect(real.actions.filter((a) => a.outcome === 'done').length).toBeGreaterThan(0);
    for (const { seen, actions } of [dry, real]) {
      expect(actions.some((a) => a.clientId === busy.id)).toBe(true);
      expect(actions.some((a) => a.clientId === idle.id)).toBe(false);
      expect(seen.some((c) => c.input.includes(busy.id))).toBe(true);
      const creditCheck = (c: { name: string; input: string }) =>
        (c.name === 'BatchGetCommand' && c.input.includes('BAL#USD') && !c.input.includes('"SK":"CLIENT"')) ||
        (c.name === 'QueryCommand' && c.input.includes(`${idle.id}#INVS#open`));
      expect(seen.filter((c) => c.input.includes(idle.id) && !creditCheck(c))).toEqual([]);
      expect(seen.filter((c) => c.input.includes(idle.id) && creditCheck(c)).length).toBeLessThanOrEqual(2);
    }
  });
});
