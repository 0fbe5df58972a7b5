import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailer, OutgoingEmail } from '../../../functions/adapters/mailer/port.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { deliverInvoice } from '../../../functions/billing/invoices/deliver-invoice.js';
import type { Company } from '../../../functions/domain/company.js';
import { ValidationError } from '../../../functions/domain/errors.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { getMailEntry } from '../../../functions/store/mail.js';
import { useFreshTables } from '../../support/tables.js';
import { seedClient, seedCompany } from './fixtures.js';

/** deliver-invoice called directly (no HTTP) against DynamoDB Local, with a mailer that keeps what it is given. */
let company: Company;
let realMailer: Mailer;
const sent: OutgoingEmail[] = [];

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
  realMailer = getServices().mailer;
  overrideServices({
    mailer: {
      send: async (message) => {
        sent.push(message);
        return { messageId: `msg-${sent.length}` };
      },
    },
  });
});

afterAll(() => {
  overrideServices({ mailer: realMailer });
});

const staff = { type: 'staff' as const, id: 'usr_staff' };
const work = [{ description: 'Work', quantity: 1, unitAmount: 1500, taxable: false }];

describe('deliverInvoice', () => {
  it('mails the invoice PDF to the client and records it in the mail log as sent by the actor', async () => {
    const client = await seedClient(company, { email: 'ada@example.com' });
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work });
    const before = sent.length;
    const { mailId } = await deliverInvoice({ companyId: company.id, invoiceId: invoice.id, actor: staff });
    expect(sent.length).toBe(before + 1);
    const message = sent[sent.length - 1];
    expect(message.to).toEqual(['ada@example.com']);
    expect(message.attachments?.map((a) => a.filename)).toEqual([`invoice-${invoice.number}.pdf`]);
    expect(message.attachments?.[0].content.subarray(0, 4).toString()).toBe('%PDF');
    const entry = await getMailEntry(company.id, client.id, mailId!);
    expect(entry).toMatchObject({ template: 'invoice_delivery', status: 'sent', automatic: false, createdBy: staff, to: ['ada@example.com'] });
  });

  it('refuses a draft naming the id, and sends nothing', async () => {
    const client = await seedClient(company, { email: 'draft@example.com' });
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, status: 'draft', lines: work });
    const before = sent.length;
    const refused = await deliverInvoice({ companyId: company.id, invoiceId: invoice.id, actor: staff }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).errors.map((e) => e.path)).toEqual(['id']);
    expect(sent.length).toBe(before);
  });

  it('as automatic mail, skips an inactive client: no mail and no log entry', async () => {
    const client = await seedClient(company, { email: 'gone@example.com', status: 'inactive' });
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work });
    const before = sent.length;
    expect(await deliverInvoice({ companyId: company.id, invoiceId: invoice.id, actor: { type: 'system', id: 'billow' }, automatic: true })).toEqual({
      mailId: null,
    });
    expect(sent.length).toBe(before);
    // Asked for by staff, the same invoice is sent.
    expect((await deliverInvoice({ companyId: company.id, invoiceId: invoice.id, actor: staff })).mailId).toEqual(expect.any(String));
    expect(sent.length).toBe(before + 1);
  });
});
