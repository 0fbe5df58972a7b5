import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import type { PaymentGateway } from '../../../functions/adapters/gateway/port.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { chargeIdempotencyKey } from '../../../functions/billing/payments/charge-attempt.js';
import { makePayment, type MakePaymentInput } from '../../../functions/billing/payments/make-payment.js';
import { REPLAY_WINDOW_MS, reconcilePayment } from '../../../functions/billing/payments/reconcile-payment.js';
import { RECONCILE_GRACE_MS, reconcileStalePayments } from '../../../functions/billing/payments/reconcile-handler.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { refundPayment } from '../../../functions/billing/payments/refund-payment.js';
import { voidPayment } from '../../../functions/billing/payments/void-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { ConflictError } from '../../../functions/domain/errors.js';
import type { Transaction } from '../../../functions/domain/invoice.js';
import type { Principal } from '../../../functions/domain/principal.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { db, tableName } from '../../../functions/store/dynamo.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { clientPk, pendingChargeSk } from '../../../functions/store/keys.js';
import { getTransaction } from '../../../functions/store/transactions.js';
import { CARD_APPROVES, CARD_DECLINES, card } from '../../support/billing.js';
import { injectDynamoFaults, type DynamoFaults } from '../../support/faults.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf, seedClient, seedCompany } from '../invoices/fixtures.js';

/**
 * A charge interrupted between the gateway's answer and the ledger write (DynamoDB refuses every write from the
 * moment the gateway answered), then settled by the reconciler; against DynamoDB Local and the simulated gateway.
 */
let company: Company;
let staff: Principal;
let gateway: LocalGateway;
let faults: DynamoFaults;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany([]);
  staff = { role: 'staff', userId: 'usr_staff', username: 'staff', companyId: company.id };
  const real = getServices().gateway;
  if (!(real instanceof LocalGateway)) throw new Error('These tests count charges at the simulated gateway.');
  gateway = real;
});

beforeEach(() => {
  faults = injectDynamoFaults();
});

afterEach(() => {
  faults.restore();
  overrideServices({ gateway });
});

/** The simulator, except that DynamoDB fails from the moment it answers a charge. */
function gatewayFollowedByOutage(): PaymentGateway {
  return {
    name: gateway.name,
    livemode: gateway.livemode,
    tokenize: (details) => gateway.tokenize(details),
    refund: (request) => gateway.refund(request),
    charge: async (request) => {
      const result = await gateway.charge(request);
      faults.failWrites(true);
      return result;
    },
  };
}

async function openInvoice(client: Client, amount: number) {
  const { invoice } = await createInvoice({
    companyId: company.id,
    clientId: client.id,
    lines: [{ description: 'Work', quantity: 1, unitAmount: amount, taxable: false }],
  });
  return invoice;
}

/** Pays through an outage after the gateway; DynamoDB is back when it returns. */
async function payThroughOutage(client: Client, fields: Partial<MakePaymentInput> & Pick<MakePaymentInput, 'source'>): Promise<Transaction> {
  overrideServices({ gateway: gatewayFollowedByOutage() });
  const result = await makePayment({ companyId: company.id, principal: staff, clientId: client.id, currency: 'USD', apply: [], sendReceipt: false, ...fields });
  faults.failWrites(false);
  overrideServices({ gateway });
  expect(faults.injected).toBeGreaterThan(0);
  expect(result.outcome).toBe('pending');
  if (result.outcome !== 'pending') throw new Error('unreachable');
  return result.attempt;
}

const afterGrace = () => new Date(Date.now() + RECONCILE_GRACE_MS + 60_000);
const pendingChargeItem = async (clientId: string, transactionId: string) =>
  (
    await db().send(
      new GetCommand({ TableName: tableName(), Key: { PK: clientPk(company.id, clientId), SK: pendingChargeSk(transactionId) }, ConsistentRead: true }),
    )
  ).Item;

describe('reconcilePayment', () => {
  it('a stored-card charge whose ledger write failed stays pending with its id, refuses refund and void, and settles once as asked', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 8000);
    const account = await addPaymentAccount({
      companyId: company.id,
      principal: staff,
      clientId: client.id,
      details: { type: 'card', card: card(CARD_APPROVES) },
    });

    const attempt = await payThroughOutage(client, {
      source: { paymentAccountId: account.id },
      apply: [{ invoiceId: invoice.id, amount: 5000 }],
      otherAmount: 1000,
    });
    const key = chargeIdempotencyKey(company.id, attempt.id);
    expect(await getTransaction(company.id, client.id, attempt.id)).toMatchObject({ status: 'pending', applications: [], credit: 0, amount: 6000 });
    expect(gateway.chargeRequestsFor(key)).toBe(1);

    for (const change of [
      () => refundPayment({ companyId: company.id, principal: staff, transactionId: attempt.id }),
      () => voidPayment({ companyId: company.id, principal: staff, transactionId: attempt.id }),
    ]) {
      const error = await change().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('transaction_pending');
    }

    // Within the grace period the attempt may still be in flight: the schedule leaves it alone.
    expect(await reconcileStalePayments(new Date())).toEqual({ settled: 0, skipped: 0, failed: 0 });
    expect((await getTransaction(company.id, client.id, attempt.id))?.status).toBe('pending');

    expect(await reconcileStalePayments(afterGrace())).toEqual({ settled: 1, skipped: 0, failed: 0 });
    const settled = await getTransaction(company.id, client.id, attempt.id);
    expect(settled).toMatchObject({
      status: 'succeeded',
      amount: 6000,
      applications: [{ invoiceId: invoice.id, amount: 5000 }],
      credit: 1000,
      paymentAccountId: account.id,
    });
    expect((await requireInvoice(company.id, invoice.id)).paid).toBe(5000);
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(1000);
    // The replay used the same key: the gateway answered it without charging again.
    expect(gateway.chargeRequestsFor(key)).toBe(2);
    expect(gateway.succeededCharges().filter((c) => c.idempotencyKey === key)).toEqual([
      { idempotencyKey: key, gatewayReference: settled?.gatewayReference, amount: 6000 },
    ]);
    expect(await pendingChargeItem(client.id, attempt.id)).toBeUndefined();

    const again = await reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id });
    expect(again.outcome).toBe('already_settled');
    expect(await reconcileStalePayments(afterGrace())).toEqual({ settled: 0, skipped: 0, failed: 0 });
    expect(await getTransaction(company.id, client.id, attempt.id)).toEqual(settled);
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(1000);
    expect(gateway.chargeRequestsFor(key)).toBe(2);
  });

  it('new card details: the token is kept sealed (never the number) while pending and removed with the recorded decline', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 3000);

    const attempt = await payThroughOutage(client, { source: { newCard: card(CARD_DECLINES) }, apply: [{ invoiceId: invoice.id, amount: 3000 }] });
    const kept = await pendingChargeItem(client.id, attempt.id);
    expect(typeof kept?.sealedToken).toBe('string');
    expect(JSON.stringify(kept)).not.toContain(CARD_DECLINES);
    expect(JSON.stringify(kept)).not.toContain('tok_sim_');

    const result = await reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id });
    expect(result.outcome).toBe('declined');
    expect(await getTransaction(company.id, client.id, attempt.id)).toMatchObject({ status: 'declined', declineCode: 'generic_decline', applications: [] });
    expect((await requireInvoice(company.id, invoice.id)).paid).toBe(0);
    expect(gateway.chargeRequestsFor(chargeIdempotencyKey(company.id, attempt.id))).toBe(2);
    expect(await pendingChargeItem(client.id, attempt.id)).toBeUndefined();
  });

  it('two reconciles of one attempt at once settle it once: one records the outcome, the other finds it settled', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 2500);
    const attempt = await payThroughOutage(client, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: invoice.id, amount: 2500 }] });

    const results = await Promise.all([1, 2].map(() => reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id })));
    expect(results.map((r) => r.outcome).sort()).toEqual(['already_settled', 'approved']);
    expect(await getTransaction(company.id, client.id, attempt.id)).toMatchObject({
      status: 'succeeded',
      applications: [{ invoiceId: invoice.id, amount: 2500 }],
      credit: 0,
    });
    expect(await requireInvoice(company.id, invoice.id)).toMatchObject({ status: 'paid', paid: 2500 });
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(0);
    const key = chargeIdempotencyKey(company.id, attempt.id);
    expect(gateway.succeededCharges().filter((c) => c.idempotencyKey === key)).toHaveLength(1);
  });

  it('an attempt older than the gateway keeps its key is not replayed (409 not_reconcilable, skipped by the schedule)', async () => {
    const client = await seedClient(company);
    const attempt = await payThroughOutage(client, { source: { newCard: card(CARD_APPROVES) }, otherAmount: 1500 });
    const key = chargeIdempotencyKey(company.id, attempt.id);
    const late = new Date(Date.parse(attempt.createdAt) + REPLAY_WINDOW_MS + 60_000);

    const error = await reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id, now: late }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('not_reconcilable');
    expect(await reconcileStalePayments(late)).toEqual({ settled: 0, skipped: 1, failed: 0 });
    expect((await getTransaction(company.id, client.id, attempt.id))?.status).toBe('pending');
    expect(gateway.chargeRequestsFor(key)).toBe(1);

    // Within the window it settles (and leaves nothing pending for the other tests of this file).
    expect((await reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id })).outcome).toBe('approved');
  });

  it('an approved charge whose invoice was paid meanwhile is kept whole as credit', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 4000);
    const attempt = await payThroughOutage(client, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: invoice.id, amount: 4000 }] });
    await recordPayment({
      companyId: company.id,
      principal: staff,
      clientId: client.id,
      type: 'cash',
      amount: 4000,
      currency: 'USD',
      apply: [{ invoiceId: invoice.id, amount: 4000 }],
    });

    const result = await reconcilePayment({ companyId: company.id, principal: staff, transactionId: attempt.id });
    expect(result.outcome).toBe('kept_as_credit');
    expect(await getTransaction(company.id, client.id, attempt.id)).toMatchObject({ status: 'succeeded', applications: [], credit: 4000 });
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(4000);
  });
});
