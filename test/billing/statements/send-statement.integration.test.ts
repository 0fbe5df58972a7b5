import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailer, OutgoingEmail } from '../../../functions/adapters/mailer/port.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { sendStatement } from '../../../functions/billing/statements/send-statement.js';
import type { Company } from '../../../functions/domain/company.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { getMailEntry } from '../../../functions/store/mail.js';
import { useFreshTables } from '../../support/tables.js';
import { seedClient, seedCompany } from '../invoices/fixtures.js';

/** send-statement called directly (no HTTP) against DynamoDB Local, with a mailer that keeps what it is given. */
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

describe('sendStatement', () => {
  it('mails the statement of the period with its PDF and records it in the mail log', async () => {
    const client = await seedClient(company, { email: 'ada@example.com' });
    await createInvoice({
      companyId: company.id,
      clientId: client.id,
      dateBilled: '2030-01-15',
      lines: [{ description: 'Work', quantity: 1, unitAmount: 700, taxable: false }],
    });
    const actor = { type: 'staff' as const, id: 'usr_staff' };
    const { mailId } = await sendStatement({ companyId: company.id, clientId: client.id, from: '2030-01-01', to: '2030-01-31', actor });
    expect(sent).toHaveLength(1);
    expect(sent[0].to).toEqual(['ada@example.com']);
    expect(sent[0].attachments?.map((a) => a.filename)).toEqual(['statement-2030-01-31.pdf']);
    expect(sent[0].attachments?.[0].content.subarray(0, 4).toString()).toBe('%PDF');
    expect(await getMailEntry(company.id, client.id, mailId!)).toMatchObject({ template: 'statement', status: 'sent', automatic: false, createdBy: actor });
  });
});
