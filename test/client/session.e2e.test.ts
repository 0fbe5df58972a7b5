import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillowClient, type Problem } from '../../client/index.js';
import { type TestClock, useTestClock } from '../support/clock.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * A web client's session, written the way its developer would: only through the generated client (real fetch) and
 * only with the types it gives. Nothing here is cast or `any`: `npx tsc --noEmit -p .` checks the session against
 * the document, so a response schema that loses a field breaks this file's build, not a web client's.
 */

/** The result of a call that must succeed, with the problem document in the message when it did not. */
function expectData<T>(result: { data?: T; error?: Problem; response: Response }, status: number): T {
  if (result.data === undefined || result.response.status !== status) {
    throw new Error(`${result.response.url}: expected ${status}, got ${result.response.status}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

/** The problem document of a call that must fail. */
function expectProblem<T>(result: { data?: T; error?: Problem; response: Response }, status: number): Problem {
  const { error } = result;
  if (error === undefined || result.response.status !== status) {
    throw new Error(`${result.response.url}: expected a ${status} problem, got ${result.response.status}`);
  }
  return error;
}

const CARD_APPROVES = '4242424242424242';
const CARD_DECLINES = '4000000000000002';
const TODAY = '2026-03-10';
const CARD_EXPIRY = { expMonth: 12, expYear: 2030 };

let api: TestApi;
let clock: TestClock;

beforeAll(async () => {
  clock = useTestClock(`${TODAY}T12:00:00Z`);
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
  clock?.restore();
});

describe('a staff session and a client session through the generated client', () => {
  const username = 'ada.session';
  const password = 'client password 1';
  let clientId = '';
  let invoiceId = '';
  let invoiceNumber = 0;

  // One scenario: the client's session uses the login, client and invoice the staff session made, so the two halves
  // run in order inside one test whatever order the suite is shuffled into.
  it('staff creates a client with a contact, invoices a fractional quantity, takes a card payment applied in part and reads the summary, the invoices and the statement; then the client logs in, reads its own profile and invoices, pays what is left by card and is refused the staff-only settings', async () => {
    await staffSession();
    await clientSession();
  });

  async function staffSession(): Promise<void> {
    const billow = createBillowClient({ baseUrl: api.url, token: api.facts.staffToken });

    const client = expectData(
      await billow.POST('/v1/clients', {
        body: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', currency: 'USD', username, password },
      }),
      201,
    );
    clientId = client.id;
    expect(client.status).toBe('active');
    expect(client.hasLogin).toBe(true);

    const contact = expectData(
      await billow.POST('/v1/clients/{id}/contacts', {
        params: { path: { id: clientId } },
        body: { type: 'billing', firstName: 'Charles', lastName: 'Babbage', email: 'charles@example.com' },
      }),
      201,
    );
    expect(contact.clientId).toBe(clientId);
    expect(contact.type).toBe('billing');

    // 55 minutes at 120.00 an hour is 110.00; one and a half months of hosting at 20.00 is 30.00.
    const invoice = expectData(
      await billow.POST('/v1/clients/{id}/invoices', {
        params: { path: { id: clientId } },
        body: {
          status: 'open',
          dateBilled: TODAY,
          dateDue: '2026-03-24',
          lines: [
            { description: 'Consulting (minutes / 60)', quantity: '55/60', unitAmount: 12000, taxable: false },
            { description: 'Hosting (months)', quantity: '1.5', unitAmount: 2000, taxable: false },
          ],
        },
      }),
      201,
    );
    invoiceId = invoice.id;
    expect(invoice.status).toBe('open');
    expect(invoice.lines.map((line) => [line.quantity, line.amount])).toEqual([
      ['55/60', 11000],
      ['1.5', 3000],
    ]);
    expect(invoice.total).toBe(14000);
    expect(invoice.due).toBe(14000);
    expect(invoice.number).not.toBeNull();
    invoiceNumber = invoice.number ?? 0;

    // 60.00 by card: 50.00 on the invoice, the other 10.00 kept as credit.
    const payment = expectData(
      await billow.POST('/v1/clients/{id}/payments', {
        params: { path: { id: clientId } },
        body: {
          source: { newCard: { number: CARD_APPROVES, ...CARD_EXPIRY, cvc: '123' } },
          currency: 'USD',
          apply: [{ invoiceId, amount: 5000 }],
          otherAmount: 1000,
          sendReceipt: false,
        },
      }),
      201,
    );
    expect(payment.status).toBe('succeeded');
    expect(payment.amount).toBe(6000);
    expect(payment.applications).toEqual([{ invoiceId, amount: 5000 }]);
    expect(payment.credit).toBe(1000);

    const summary = expectData(await billow.GET('/v1/clients/{id}/summary', { params: { path: { id: clientId } } }), 200);
    expect(summary.data).toEqual([{ currency: 'USD', invoiced: 14000, paid: 5000, due: 9000, credit: 1000 }]);

    const invoices = expectData(await billow.GET('/v1/invoices', { params: { query: { clientId, status: 'open' } } }), 200);
    expect(invoices.data.map((listed) => [listed.number, listed.paid, listed.due])).toEqual([[invoiceNumber, 5000, 9000]]);
    expect(invoices.nextCursor).toBeNull();

    const statement = expectData(
      await billow.GET('/v1/clients/{id}/statement', { params: { path: { id: clientId }, query: { from: '2026-03-01', to: '2026-03-31', currency: 'USD' } } }),
      200,
    );
    // The operation can also answer with a PDF; asked for JSON, it is the statement object.
    if (typeof statement === 'string') throw new Error('asked for JSON, got a PDF');
    expect(statement.openingBalance).toBe(0);
    expect(statement.lines.map((line) => [line.type, line.amount, line.balance])).toEqual([
      ['invoice', 14000, 14000],
      ['payment', -6000, 8000],
    ]);
    expect(statement.closingBalance).toBe(8000);

    const declined = expectProblem(
      await billow.POST('/v1/clients/{id}/payments', {
        params: { path: { id: clientId } },
        body: { source: { newCard: { number: CARD_DECLINES, ...CARD_EXPIRY } }, currency: 'USD', apply: [{ invoiceId, amount: 100 }], sendReceipt: false },
      }),
      402,
    );
    expect(declined.code).toBe('payment_declined');
  }

  async function clientSession(): Promise<void> {
    const login = expectData(
      await createBillowClient({ baseUrl: api.url }).POST('/v1/auth/token', { body: { companyId: api.facts.companyId, username, password } }),
      200,
    );
    expect(login.expiresIn).toBeGreaterThan(0);
    const billow = createBillowClient({ baseUrl: api.url, token: login.token });

    const profile = expectData(await billow.GET('/v1/clients/{id}', { params: { path: { id: clientId } } }), 200);
    expect([profile.firstName, profile.lastName]).toEqual(['Ada', 'Lovelace']);
    expect(profile.summary.data[0].due).toBe(9000);
    expect(profile.stickyNotes).toBeUndefined();

    const invoices = expectData(await billow.GET('/v1/invoices'), 200);
    expect(invoices.data.map((own) => own.clientId)).toEqual([clientId]);
    const [open] = invoices.data;
    expect(open.number).toBe(invoiceNumber);
    expect(open.due).toBe(9000);

    const paid = expectData(
      await billow.POST('/v1/clients/{id}/payments', {
        params: { path: { id: clientId } },
        body: {
          source: { newCard: { number: CARD_APPROVES, ...CARD_EXPIRY } },
          currency: 'USD',
          apply: [{ invoiceId: open.id, amount: open.due }],
          sendReceipt: false,
        },
      }),
      201,
    );
    expect(paid.applications).toEqual([{ invoiceId, amount: 9000 }]);

    const invoice = expectData(await billow.GET('/v1/invoices/{id}', { params: { path: { id: invoiceId } } }), 200);
    expect([invoice.status, invoice.paid, invoice.due]).toEqual(['paid', 14000, 0]);

    const forbidden = expectProblem(await billow.GET('/v1/settings'), 403);
    expect(forbidden.status).toBe(403);
  }
});
