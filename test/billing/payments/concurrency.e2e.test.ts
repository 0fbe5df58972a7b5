import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { ledgerViolations } from '../../../functions/domain/ledger.js';
import { getServices } from '../../../functions/services.js';
import { db } from '../../../functions/store/dynamo.js';
import { loadLedger } from '../../../functions/store/ledger.js';
import type { ApiResponse, TestApi } from '../../support/stack.js';
import {
  type BillingApi,
  card,
  CARD_APPROVES,
  creditsOf,
  expectedSummary,
  expectStatus,
  getInvoice,
  getTransaction,
  listAll,
  newClient,
  newInvoice,
  startBillingApi,
  summaryOf,
  transactionsOf,
} from '../../support/billing.js';

/**
 * Many payments at once on the same few invoices, through the API (API.md: "Concurrent payments on the same
 * invoice never over-apply: one of them gets 409"). Afterwards the books must balance exactly, every accepted
 * payment must be recorded once, and every refused one must have recorded nothing — or, for a charge approved by
 * the gateway that then lost the race, a transaction whose whole amount is credit (functions/billing/payments/make-payment.ts).
 */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

interface Attempt {
  index: number;
  kind: 'charge' | 'offline';
  invoiceId: string;
  apply: number;
  extra: number;
  res?: ApiResponse;
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

describe('concurrent payments on the same invoices', () => {
  it('never over-apply, record each accepted payment once, and keep the books balanced', async () => {
    const client = await newClient(api);
    const invoices = [await newInvoice(api, client.id, 10000), await newInvoice(api, client.id, 10000), await newInvoice(api, client.id, 5000)];
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);
    const gateway = getServices().gateway as LocalGateway;
    const chargesBefore = new Set(gateway.succeededCharges().map((c) => c.idempotencyKey));

    const applyAmounts = [3000, 2500, 1000, 4000];
    const attempts: Attempt[] = Array.from({ length: 24 }, (_, index) => ({
      index,
      kind: index % 2 === 0 ? 'offline' : 'charge',
      invoiceId: invoices[index % 3].id,
      apply: applyAmounts[index % 4],
      extra: index % 5 === 0 ? 700 : 0,
    }));
    // Every payment applies more than a third of some invoice, so some must be refused.
    await Promise.all(
      attempts.map(async (a) => {
        const apply = [{ invoiceId: a.invoiceId, amount: a.apply }];
        a.res =
          a.kind === 'offline'
            ? await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
                type: 'check',
                reference: `race-${a.index}`,
                amount: a.apply + a.extra,
                currency: 'USD',
                apply,
              })
            : await api.staff('POST', `/v1/clients/${client.id}/payments`, {
                source: { paymentAccountId: account.body.id },
                currency: 'USD',
                apply,
                otherAmount: a.extra,
                sendReceipt: a.index % 3 === 0,
              });
      }),
    );

    for (const a of attempts) expect([201, 409], `attempt ${a.index}: ${a.res!.status} ${a.res!.text}`).toContain(a.res!.status);
    const accepted = attempts.filter((a) => a.res!.status === 201);
    const refused = attempts.filter((a) => a.res!.status === 409);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);

    const transactions = await transactionsOf(api, client.id);
    const byId = new Map(transactions.map((t) => [t.id, t]));
    expect(byId.size).toBe(transactions.length);

    // Each 201 is recorded exactly once, as answered, with its applications made in full.
    for (const a of accepted) {
      const t = byId.get(a.res!.body.id);
      expect(t, `attempt ${a.index} recorded`).toBeDefined();
      expect(t).toEqual(a.res!.body);
      expect(t).toMatchObject({
        status: 'succeeded',
        amount: a.apply + a.extra,
        credit: a.extra,
        applications: [{ invoiceId: a.invoiceId, amount: a.apply }],
        kind: a.kind,
      });
    }
    // Each 409 recorded nothing, or (a charge approved that lost the race) a transaction that is all credit.
    const creditOnly = new Set<string>();
    for (const a of refused) {
      const lost = a.res!.body.transactionId as string | undefined;
      if (a.kind === 'offline') {
        expect(lost).toBeUndefined();
        expect(
          transactions.some((t) => t.reference === `race-${a.index}`),
          `refused offline ${a.index} recorded nothing`,
        ).toBe(false);
      } else if (lost) {
        expect(a.res!.body.code).toBe('applied_as_credit');
        expect(byId.get(lost)).toMatchObject({ status: 'succeeded', amount: a.apply + a.extra, credit: a.apply + a.extra, applications: [] });
        creditOnly.add(lost);
      }
    }
    // Nothing else was recorded: the transactions are exactly the 201s and the credit-only charges.
    const expectedIds = new Set([...accepted.map((a) => a.res!.body.id as string), ...creditOnly]);
    expect(new Set(transactions.map((t) => t.id))).toEqual(expectedIds);
    expect(transactions.every((t) => t.status === 'succeeded')).toBe(true);

    // Every approved charge at the gateway is a recorded succeeded charge, and vice versa: no money lost or invented.
    const gatewayCharges = gateway.succeededCharges().filter((c) => !chargesBefore.has(c.idempotencyKey));
    const recordedCharges = transactions.filter((t) => t.kind === 'charge');
    expect(gatewayCharges.map((c) => c.idempotencyKey).sort()).toEqual(recordedCharges.map((t) => `billow:${api.facts.companyId}:${t.id}`).sort());
    for (const t of recordedCharges) expect(gatewayCharges.find((c) => c.idempotencyKey.endsWith(t.id))!.amount).toBe(t.amount);

    // The books balance: payments = applied + credit + refunded, and credit is what /credits says.
    const applied = sum(transactions.flatMap((t) => t.applications.map((x: any) => x.amount)));
    const credit = sum(transactions.map((t) => t.credit));
    const refunded = sum(transactions.map((t) => t.refunded));
    expect(sum(transactions.map((t) => t.amount))).toBe(applied + credit + refunded);
    expect((await creditsOf(api, client.id)).USD ?? 0).toBe(credit);

    // No invoice over-applied; each is paid exactly by what is applied to it.
    for (const inv of invoices) {
      const now = await getInvoice(api, inv.id);
      const appliedToIt = sum(transactions.flatMap((t) => t.applications.filter((x: any) => x.invoiceId === inv.id).map((x: any) => x.amount)));
      expect(now.due).toBeGreaterThanOrEqual(0);
      expect(now.due).toBeLessThanOrEqual(now.total);
      expect(now.paid + now.due).toBe(now.total);
      expect(now.paid).toBe(appliedToIt);
      expect(now.status).toBe(now.due === 0 ? 'paid' : 'open');
    }
    expect(applied).toBe(sum((await listAll(api, `/v1/invoices?clientId=${client.id}`)).map((i) => i.paid)));
    expect(await summaryOf(api, client.id)).toEqual(await expectedSummary(api, client.id));
    expect(ledgerViolations((await loadLedger(api.facts.companyId, client.id)).state)).toEqual([]);
  });

  it('a burst of 40 payments with room for all: every one is accepted and recorded, none left pending', async () => {
    const client = await newClient(api);
    const invoices = [await newInvoice(api, client.id, 100000), await newInvoice(api, client.id, 100000)];
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);
    const gateway = getServices().gateway as LocalGateway;
    const chargesBefore = new Set(gateway.succeededCharges().map((c) => c.idempotencyKey));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const apply = [{ invoiceId: invoices[i % 2].id, amount: 100 + i }];
        return i % 2 === 0
          ? api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 100 + i, currency: 'USD', apply })
          : api.staff('POST', `/v1/clients/${client.id}/payments`, {
              source: { paymentAccountId: account.body.id },
              currency: 'USD',
              apply,
              sendReceipt: false,
            });
      }),
    );
    for (const res of results) expectStatus(res, 201);
    const transactions = await transactionsOf(api, client.id);
    expect(transactions.map((t) => t.status)).toEqual(Array(40).fill('succeeded'));
    expect(new Set(transactions.map((t) => t.id))).toEqual(new Set(results.map((r) => r.body.id)));
    const gatewayCharges = gateway.succeededCharges().filter((c) => !chargesBefore.has(c.idempotencyKey));
    expect(gatewayCharges).toHaveLength(20);
    for (const inv of invoices) {
      const now = await getInvoice(api, inv.id);
      expect(now.paid).toBe(sum(transactions.flatMap((t) => t.applications.filter((x: any) => x.invoiceId === inv.id).map((x: any) => x.amount))));
      expect(now.paid + now.due).toBe(now.total);
    }
    expect(ledgerViolations((await loadLedger(api.facts.companyId, client.id)).state)).toEqual([]);
  });

  it('DynamoDB cancelling a transaction for a conflict (TransactionConflict) is retried, not a 500', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const draft = await newInvoice(api, client.id, 700, { status: 'draft' });
    const client$ = db();
    const send = client$.send.bind(client$);
    // Once for each distinct ledger write (every one moves a balance item), as DynamoDB does when two meet.
    const seen = new Set<string>();
    let injected = 0;
    const spy = vi.spyOn(client$, 'send').mockImplementation(((command: unknown, ...rest: unknown[]) => {
      const items = command instanceof TransactWriteCommand ? (command.input.TransactItems ?? []) : [];
      const keys = items.map((t) => String((t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key)?.SK));
      const signature = keys.join(' ');
      if (keys.some((k) => k.startsWith('BAL#')) && !seen.has(signature)) {
        seen.add(signature);
        injected++;
        return Promise.reject(
          new TransactionCanceledException({
            message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
            $metadata: {},
            CancellationReasons: items.map((_, i) => ({ Code: i === items.length - 1 ? 'TransactionConflict' : 'None' })),
          }),
        );
      }
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof client$.send);
    try {
      const recorded = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
        type: 'cash',
        amount: 1000,
        currency: 'USD',
        apply: [{ invoiceId: inv.id, amount: 1000 }],
      });
      expectStatus(recorded, 201);
      const charged = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        source: { newCard: card(CARD_APPROVES) },
        currency: 'USD',
        apply: [{ invoiceId: inv.id, amount: 1000 }],
        sendReceipt: false,
      });
      expectStatus(charged, 201);
      const opened = await api.staff('PATCH', `/v1/invoices/${draft.id}`, { status: 'open' });
      expectStatus(opened, 200);
      // The offline payment, the charge and the opening (its counter, invoice and balance).
      expect(injected).toBe(3);
    } finally {
      spy.mockRestore();
    }
    expect(await getInvoice(api, inv.id)).toMatchObject({ paid: 2000, due: 3000 });
    expect((await transactionsOf(api, client.id)).map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(ledgerViolations((await loadLedger(api.facts.companyId, client.id)).state)).toEqual([]);
  });

  it('concurrent partial refunds of one charge: each refunded once at the gateway and on the ledger, never a 5xx', async () => {
    const client = await newClient(api);
    const a = await newInvoice(api, client.id, 6000);
    const b = await newInvoice(api, client.id, 3000);
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'USD',
      apply: [
        { invoiceId: a.id, amount: 6000 },
        { invoiceId: b.id, amount: 3000 },
      ],
      otherAmount: 1000,
      sendReceipt: false,
    });
    expectStatus(charge, 201);
    const gateway = getServices().gateway as LocalGateway;
    const reference = gateway.succeededCharges().find((c) => c.idempotencyKey.endsWith(charge.body.id))!.gatewayReference;

    // 1000 + 500 + 700 + 1000 + 300 + 2500 + 4000 = 10000: everything, if every one gets through.
    const amounts = [1000, 500, 700, 1000, 300, 2500, 4000];
    const results = await Promise.all(amounts.map((amount) => api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, { amount })));
    for (const res of results) expect([200, 409], `${res.status} ${res.text}`).toContain(res.status);
    const refundedOk = sum(amounts.filter((_, i) => results[i].status === 200));
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);

    const after = await getTransaction(api, charge.body.id);
    expect(after.refunded).toBe(refundedOk);
    expect(gateway.refundedTotal(reference)).toBe(refundedOk);
    expect(after.status).toBe(refundedOk === 10000 ? 'refunded' : 'partially_refunded');
    expect(sum(after.applications.map((x: any) => x.amount)) + after.credit + after.refunded).toBe(10000);
    // The rest can still be refunded, once.
    const rest = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, {});
    if (refundedOk < 10000) expectStatus(rest, 200);
    else expectStatus(rest, 422);
    expect((await getTransaction(api, charge.body.id)).refunded).toBe(10000);
    expect(gateway.refundedTotal(reference)).toBe(10000);
    expect(await getInvoice(api, a.id)).toMatchObject({ status: 'open', due: 6000 });
    expect(await getInvoice(api, b.id)).toMatchObject({ status: 'open', due: 3000 });
    expect(ledgerViolations((await loadLedger(api.facts.companyId, client.id)).state)).toEqual([]);
  });

  it('concurrent credit applications, refunds and voids keep the books balanced', async () => {
    const client = await newClient(api);
    const invoices = [await newInvoice(api, client.id, 3000), await newInvoice(api, client.id, 4000), await newInvoice(api, client.id, 2000)];
    const offline = [];
    for (let i = 0; i < 4; i++)
      offline.push((await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 1500, currency: 'USD' })).body);
    const charges = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        source: { newCard: card(CARD_APPROVES) },
        currency: 'USD',
        apply: [{ invoiceId: invoices[i].id, amount: 1000 }],
        otherAmount: 500,
        sendReceipt: false,
      });
      expectStatus(res, 201);
      charges.push(res.body);
    }
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => api.staff('POST', `/v1/clients/${client.id}/credits/apply`, { currency: 'USD' })),
      ...charges.map((c) => api.staff('POST', `/v1/transactions/${c.id}/refund`, { amount: 700 })),
      api.staff('POST', `/v1/transactions/${offline[0].id}/void`),
      api.staff('POST', `/v1/transactions/${offline[0].id}/void`),
      api.staff('POST', `/v1/invoices/${invoices[2].id}/void`),
      ...Array.from({ length: 3 }, (_, i) =>
        api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
          type: 'wire',
          amount: 800,
          currency: 'USD',
          apply: [{ invoiceId: invoices[1].id, amount: 800 }],
          reference: `w${i}`,
        }),
      ),
    ]);
    for (const res of results) expect([200, 201, 409, 422], `${res.status} ${res.text}`).toContain(res.status);
    // Of the two voids of one payment, exactly one succeeded.
    expect(
      results
        .slice(7, 9)
        .map((r) => r.status)
        .sort(),
    ).toEqual([200, 409]);
    for (const res of results.slice(4, 7)) expectStatus(res, 200);

    const transactions = await transactionsOf(api, client.id);
    const live = transactions.filter((t) => ['succeeded', 'partially_refunded', 'refunded'].includes(t.status));
    for (const t of live) expect(sum(t.applications.map((x: any) => x.amount)) + t.credit + t.refunded).toBe(t.amount);
    for (const t of transactions.filter((x) => x.status === 'voided')) expect(t).toMatchObject({ applications: [], credit: 0 });
    expect((await creditsOf(api, client.id)).USD ?? 0).toBe(sum(live.map((t) => t.credit)));
    for (const inv of invoices) {
      const now = await getInvoice(api, inv.id);
      if (now.status === 'void') {
        expect(now).toMatchObject({ paid: 0, due: 0 });
        continue;
      }
      expect(now.paid + now.due).toBe(now.total);
      expect(now.due).toBeGreaterThanOrEqual(0);
      expect(now.paid).toBe(sum(live.flatMap((t) => t.applications.filter((x: any) => x.invoiceId === inv.id).map((x: any) => x.amount))));
    }
    expect(await summaryOf(api, client.id)).toEqual(await expectedSummary(api, client.id));
    expect(ledgerViolations((await loadLedger(api.facts.companyId, client.id)).state)).toEqual([]);
  });
});
