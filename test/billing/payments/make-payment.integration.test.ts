import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentGateway } from '../../../functions/adapters/gateway/port.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { makePayment, type MakePaymentInput, type MakePaymentResult } from '../../../functions/billing/payments/make-payment.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { ConflictError, NotFoundError } from '../../../functions/domain/errors.js';
import { ledgerViolations } from '../../../functions/domain/ledger.js';
import type { Principal } from '../../../functions/domain/principal.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { loadLedger } from '../../../functions/store/ledger.js';
import { listPaymentAccounts } from '../../../functions/store/payment-accounts.js';
import { getTransaction, listTransactions } from '../../../functions/store/transactions.js';
import { useFreshTables } from '../../support/tables.js';
import { CARD_APPROVES, CARD_DECLINES, CARD_FAILS } from '../../support/billing.js';
import { balanceOf, seedClient, seedCompany } from '../invoices/fixtures.js';

/** make-payment called directly (no HTTP) against DynamoDB Local and the simulated gateway. */
let company: Company;
let staff: Principal;
let realGateway: PaymentGateway;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany([]);
  staff = { role: 'staff', userId: 'usr_staff', username: 'staff', companyId: company.id };
  realGateway = getServices().gateway;
});

afterEach(() => {
  overrideServices({ gateway: realGateway });
});

const card = (number: string) => ({ number, expMonth: 12, expYear: 2099 });

async function openInvoice(client: Client, amount: number) {
  const { invoice } = await createInvoice({
    companyId: company.id,
    clientId: client.id,
    lines: [{ description: 'Work', quantity: 1, unitAmount: amount, taxable: false }],
  });
  return invoice;
}

const pay = (client: Client, fields: Partial<MakePaymentInput> & Pick<MakePaymentInput, 'source'>) =>
  makePayment({ companyId: company.id, principal: staff, clientId: client.id, currency: 'USD', apply: [], sendReceipt: false, ...fields });

function expectOutcome<O extends MakePaymentResult['outcome']>(result: MakePaymentResult, outcome: O): Extract<MakePaymentResult, { outcome: O }> {
  expect(result.outcome).toBe(outcome);
  return result as Extract<MakePaymentResult, { outcome: O }>;
}

describe('makePayment', () => {
  it('approved: applies to the invoices as asked, keeps otherAmount as credit, stores the charge succeeded', async () => {
    const client = await seedClient(company);
    const first = await openInvoice(client, 10000);
    const second = await openInvoice(client, 5000);

    const result = await pay(client, {
      source: { newCard: card(CARD_APPROVES) },
      apply: [
        { invoiceId: first.id, amount: 10000 },
        { invoiceId: second.id, amount: 2000 },
      ],
      otherAmount: 500,
    });

    const { transaction } = expectOutcome(result, 'approved');
    expect(transaction).toMatchObject({
      clientId: client.id,
      kind: 'charge',
      method: 'card',
      status: 'succeeded',
      amount: 12500,
      applications: [
        { invoiceId: first.id, amount: 10000 },
        { invoiceId: second.id, amount: 2000 },
      ],
      credit: 500,
      refunded: 0,
      paymentAccountId: null,
      declineCode: null,
    });
    expect(transaction.gatewayReference).toEqual(expect.any(String));
    expect(await getTransaction(company.id, client.id, transaction.id)).toEqual(transaction);
    expect(await requireInvoice(company.id, first.id)).toMatchObject({ status: 'paid', paid: 10000, due: 0 });
    expect(await requireInvoice(company.id, second.id)).toMatchObject({ status: 'open', paid: 2000, due: 3000 });
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 15000, paid: 12000, due: 3000, credit: 500 });
    expect(ledgerViolations((await loadLedger(company.id, client.id)).state)).toEqual([]);
  });

  it('approved from a stored account: the transaction names it; new details with save are kept as an account only once approved', async () => {
    const client = await seedClient(company);
    const account = await addPaymentAccount({
      companyId: company.id,
      principal: staff,
      clientId: client.id,
      details: { type: 'card', card: card(CARD_APPROVES) },
    });
    const stored = expectOutcome(await pay(client, { source: { paymentAccountId: account.id }, otherAmount: 300 }), 'approved');
    expect(stored.transaction).toMatchObject({ paymentAccountId: account.id, credit: 300 });

    const saved = expectOutcome(await pay(client, { source: { newCard: card(CARD_APPROVES), save: true }, otherAmount: 200 }), 'approved');
    const accounts = (await listPaymentAccounts(company.id, client.id, 10)).items;
    expect(accounts.map((a) => a.id).sort()).toEqual([account.id, saved.transaction.paymentAccountId].sort());
  });

  it('declined (4000000000000002): a result with the attempt stored declined, nothing applied, no account kept', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 2000);

    const result = await pay(client, { source: { newCard: card(CARD_DECLINES), save: true }, apply: [{ invoiceId: invoice.id, amount: 2000 }] });

    const { attempt, declineCode } = expectOutcome(result, 'declined');
    expect(declineCode).toEqual(expect.any(String));
    expect(attempt).toMatchObject({ clientId: client.id, status: 'declined', amount: 2000, applications: [], credit: 0, declineCode });
    expect(await getTransaction(company.id, client.id, attempt.id)).toEqual(attempt);
    expect(await requireInvoice(company.id, invoice.id)).toMatchObject({ status: 'open', paid: 0, due: 2000 });
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 2000, paid: 0, due: 2000, credit: 0 });
    expect((await listPaymentAccounts(company.id, client.id, 10)).items).toEqual([]);
  });

  it('failed (4000000000000119): a result with the attempt stored failed, nothing applied', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 2000);

    const result = await pay(client, { source: { newCard: card(CARD_FAILS) }, apply: [{ invoiceId: invoice.id, amount: 1500 }] });

    const { attempt } = expectOutcome(result, 'failed');
    expect(attempt).toMatchObject({ status: 'failed', applications: [], credit: 0, declineCode: null });
    expect(attempt.failureMessage).toEqual(expect.any(String));
    expect(await getTransaction(company.id, client.id, attempt.id)).toEqual(attempt);
    expect(await requireInvoice(company.id, invoice.id)).toMatchObject({ paid: 0, due: 2000 });
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 2000, paid: 0, due: 2000, credit: 0 });
  });

  it('refuses before charging anything a payment the ledger refuses, and a draft paid with a client token', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 1000);
    await expect(pay(client, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: invoice.id, amount: 1001 }] })).rejects.toBeInstanceOf(
      ConflictError,
    );
    const { invoice: draft } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      status: 'draft',
      lines: [{ description: 'Draft', quantity: 1, unitAmount: 700, taxable: false }],
    });
    const asClient: Principal = { role: 'client', userId: 'usr_client', username: 'client', companyId: company.id, clientId: client.id };
    await expect(
      makePayment({
        companyId: company.id,
        principal: asClient,
        clientId: client.id,
        currency: 'USD',
        source: { newCard: card(CARD_APPROVES) },
        apply: [{ invoiceId: draft.id, amount: 700 }],
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await listTransactions(company.id, client.id, 10)).items).toEqual([]);
  });

  it('kept as credit: when the invoice is paid between the check and the approval, the money is recorded whole as credit', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 3000);
    // While the gateway is charging, an offline payment pays the invoice in full.
    overrideServices({
      gateway: Object.assign(Object.create(realGateway) as PaymentGateway, {
        charge: async (request: Parameters<PaymentGateway['charge']>[0]) => {
          await recordPayment({
            companyId: company.id,
            principal: staff,
            clientId: client.id,
            type: 'check',
            amount: 3000,
            currency: 'USD',
            apply: [{ invoiceId: invoice.id, amount: 3000 }],
          });
          return realGateway.charge(request);
        },
      }),
    });

    const result = await pay(client, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: invoice.id, amount: 3000 }] });

    const { transaction, reason } = expectOutcome(result, 'kept_as_credit');
    expect(reason).toEqual(expect.any(String));
    expect(transaction).toMatchObject({ status: 'succeeded', amount: 3000, applications: [], credit: 3000 });
    expect(await requireInvoice(company.id, invoice.id)).toMatchObject({ status: 'paid', paid: 3000, due: 0 });
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 3000, paid: 3000, due: 0, credit: 3000 });
    expect(ledgerViolations((await loadLedger(company.id, client.id)).state)).toEqual([]);
  });

  it('concurrent payments on one invoice never over-apply: what is applied is exactly what the invoice shows paid', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 1000);
    const account = await addPaymentAccount({
      companyId: company.id,
      principal: staff,
      clientId: client.id,
      details: { type: 'card', card: card(CARD_APPROVES) },
    });

    // Six charges of 400 on an invoice of 1000: at most two fit.
    const settled = await Promise.allSettled(
      Array.from({ length: 6 }, () => pay(client, { source: { paymentAccountId: account.id }, apply: [{ invoiceId: invoice.id, amount: 400 }] })),
    );

    const approved: number[] = [];
    for (const s of settled) {
      if (s.status === 'rejected') {
        // Refused before the charge: the invoice no longer had 400 due.
        expect(s.reason).toBeInstanceOf(ConflictError);
        continue;
      }
      if (s.value.outcome === 'approved') approved.push(s.value.transaction.applications[0].amount);
      else expect(expectOutcome(s.value, 'kept_as_credit').transaction).toMatchObject({ applications: [], credit: 400 });
    }
    expect(approved.length).toBeGreaterThanOrEqual(1);
    expect(approved.length).toBeLessThanOrEqual(2);
    const after = await requireInvoice(company.id, invoice.id);
    expect(after.paid).toBe(approved.reduce((s, a) => s + a, 0));
    expect(after.paid + after.due).toBe(1000);
    expect(ledgerViolations((await loadLedger(company.id, client.id)).state)).toEqual([]);
  });
});
