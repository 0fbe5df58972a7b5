import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../functions/observability/metrics.js';
import type { TestApi } from '../support/stack.js';
import { type BillingApi, card, CARD_APPROVES, CARD_DECLINES, CARD_FAILS, expectStatus, newClient, startBillingApi } from '../support/billing.js';

/** The business metrics ops alarm on are emitted where the outcomes happen. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

const names = (spy: { mock: { calls: unknown[][] } }): string[] => spy.mock.calls.map((call) => String(call[0]));

describe('payment and mail metrics', () => {
  it('counts approvals, declines and gateway failures separately, and the mail sent', async () => {
    const client = await newClient(api, { email: 'metrics@client.test' });
    const spy = vi.spyOn(metrics, 'addMetric');
    const pay = (number: string) =>
      api.staff('POST', `/v1/clients/${client.id}/payments`, { currency: 'USD', source: { newCard: card(number) }, otherAmount: 100 });
    expectStatus(await pay(CARD_APPROVES), 201);
    expectStatus(await pay(CARD_DECLINES), 402);
    expectStatus(await pay(CARD_FAILS), 502);
    const seen = names(spy);
    expect(seen.filter((n) => n === 'PaymentsApproved')).toHaveLength(1);
    expect(seen.filter((n) => n === 'PaymentsDeclined')).toHaveLength(1);
    expect(seen.filter((n) => n === 'GatewayFailures')).toHaveLength(1);
    // A receipt and a decline notice went out.
    expect(seen.filter((n) => n === 'MailSent')).toHaveLength(2);
    spy.mockRestore();
  });
});
