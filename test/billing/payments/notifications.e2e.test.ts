import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalMailbox, type CapturedEmail } from '../../../functions/adapters/mailer/local.js';
import { card, CARD_DECLINES, expectStatus, newClient, newInvoice, startBillingApi, type BillingApi } from '../../support/billing.js';

/** The declined notice as the client receives it, through the SES stand-in. */
let billing: BillingApi;
beforeAll(async () => {
  billing = await startBillingApi();
});
afterAll(async () => {
  await billing?.stop();
});

async function declinedNoticeTo(email: string): Promise<CapturedEmail> {
  const mails = (await readLocalMailbox(billing.ses.endpoint)).filter((m) => m.to.includes(email) && /declined/.test(m.subject));
  expect(mails).toHaveLength(1);
  return mails[0];
}

const declinedPayment = (clientId: string, body: Record<string, unknown>) =>
  billing.api.staff('POST', `/v1/clients/${clientId}/payments`, { currency: 'USD', source: { newCard: card(CARD_DECLINES) }, ...body });

describe('the declined-payment notice', () => {
  it('names the invoice the payment was for, with its amount due and due date', async () => {
    const client = await newClient(billing.api);
    const invoice = await newInvoice(billing.api, client.id, 2000, { dateDue: '2031-03-15' });
    expectStatus(await declinedPayment(client.id, { apply: [{ invoiceId: invoice.id, amount: 1500 }] }), 402);
    const mail = await declinedNoticeTo(client.email);
    for (const part of [mail.text ?? '', mail.html ?? '']) {
      expect(part).toContain(`invoice #${invoice.number} on`);
      expect(part).toContain(`Invoice: #${invoice.number}`);
      expect(part).toContain('Amount due: $20.00');
      expect(part).toContain('Due date: 2031-03-15');
    }
  });

  it('a payment for no invoice says nothing of one: no blank invoice lines', async () => {
    const client = await newClient(billing.api);
    expectStatus(await declinedPayment(client.id, { otherAmount: 700 }), 402);
    const mail = await declinedNoticeTo(client.email);
    for (const part of [mail.text ?? '', mail.html ?? '']) {
      expect(part).toContain('$7.00');
      expect(part).not.toMatch(/invoice #|Invoice: #|Amount due:|Due date:/i);
    }
  });
});
