import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { faultReport, startFaults, stopFaults } from '../../../functions/faults/faults.js';
import { getServices } from '../../../functions/services.js';
import { CARD_APPROVES, card, expectProblem, expectStatus, newClient, startBillingApi, type BillingApi } from '../../support/billing.js';

/**
 * A refund the gateway made whose answer never came: a 502 problem saying to ask again (was a 500), and the same
 * refund asked again is made once, under the same gateway key (found by the fault workload's lost answers).
 */
let stack: BillingApi;
beforeAll(async () => {
  stack = await startBillingApi();
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  stopFaults();
});

describe('a refund whose gateway answer is lost', () => {
  it('answers 502, and the refund asked again is made and recorded once', async () => {
    const { api } = stack;
    const client = await newClient(api);
    const paid = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'USD',
      apply: [],
      otherAmount: 3000,
    });
    expectStatus(paid, 201);
    const key = randomUUID();
    startFaults({ rate: 1, seed: 29, kinds: ['lost'], targets: ['gateway'], operations: ['refund'], limit: 1 });
    const lost = await api.staff('POST', `/v1/transactions/${paid.body.id}/refund`, { amount: 1000 }, { 'idempotency-key': key });
    expect(faultReport()?.injected.gateway.lost).toBe(1);
    stopFaults();
    expectProblem(lost, 502);
    const again = await api.staff('POST', `/v1/transactions/${paid.body.id}/refund`, { amount: 1000 }, { 'idempotency-key': key });
    expectStatus(again, 200);
    expect(again.body).toMatchObject({ refunded: 1000, status: 'partially_refunded' });
    const gateway = getServices().gateway as LocalGateway;
    const reference = `ch_sim_${createHash('sha256').update(`billow:${api.facts.companyId}:${paid.body.id}`).digest('hex').slice(0, 24)}`;
    expect(gateway.refundedTotal(reference)).toBe(1000);
  });
});
