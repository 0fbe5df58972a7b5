import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { startLocalSes, type LocalSes } from '../../functions/adapters/mailer/local.js';
import { startTestApi, type ApiResponse, type TestApi } from './stack.js';

/** The simulator's documented test numbers (API.md, Payment accounts). */
export const CARD_APPROVES = '4242424242424242';
export const CARD_DECLINES = '4000000000000002';
export const CARD_FAILS = '4000000000000119';
export const ACH_APPROVES = '000123456789';
export const ACH_DECLINES = '000111111116';
export const ROUTING = '110000000';
/** Other valid cards: any valid card the simulator does not list approves. */
export const MASTERCARD = '5555555555554444';
export const AMEX = '378282246310005';

export const EXP = { expMonth: 12, expYear: new Date().getUTCFullYear() + 3 };
export const card = (number: string, extra: Record<string, unknown> = {}) => ({ number, ...EXP, ...extra });
export const ach = (accountNumber: string) => ({ accountNumber, routingNumber: ROUTING, accountType: 'checking' });

export interface BillingApi {
  api: TestApi;
  ses: LocalSes;
  stop(): Promise<void>;
}

/**
 * One stack for a test file, with the local SES stand-in running so receipts and declined notices are really
 * sent (notify.ts records a provider failure rather than throwing, but a test should not depend on that).
 */
export async function startBillingApi(): Promise<BillingApi> {
  const ses = await startLocalSes();
  process.env.BILLOW_LOCAL_SES_ENDPOINT = ses.endpoint;
  const api = await startTestApi();
  return {
    api,
    ses,
    stop: async () => {
      await api.stack.stop();
      await ses.stop();
    },
  };
}

export function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 1000)}`);
}

export const errorPaths = (res: ApiResponse): string[] => ((res.body?.errors ?? []) as Array<{ path: string }>).map((e) => e.path);

export function expectProblem(res: ApiResponse, status: number): void {
  expectStatus(res, status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

export const uniq = (stem: string) => `${stem}${randomBytes(4).toString('hex')}`;

export async function newClient(api: TestApi, body: Record<string, unknown> = {}): Promise<any> {
  const res = await api.staff('POST', '/v1/clients', { firstName: 'Bill', lastName: 'Payer', email: `${uniq('payer')}@example.com`, ...body });
  expectStatus(res, 201);
  return res.body;
}

/** A client with a login; returns the profile and a client token. */
export async function newClientWithLogin(api: TestApi, body: Record<string, unknown> = {}): Promise<{ client: any; token: string }> {
  const username = uniq('login');
  const password = 'client password 1';
  const client = await newClient(api, { username, password, ...body });
  const login = await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username, password } });
  expectStatus(login, 200);
  return { client, token: login.body.token };
}

/** Creates an invoice (open unless told) of one line `amount` × 1, untaxed unless the lines are given. */
export async function newInvoice(api: TestApi, clientId: string, amount: number, body: Record<string, unknown> = {}): Promise<any> {
  const res = await api.staff('POST', `/v1/clients/${clientId}/invoices`, {
    lines: [{ description: 'Work', quantity: 1, unitAmount: amount, taxable: false }],
    ...body,
  });
  expectStatus(res, 201);
  return res.body;
}

export async function getInvoice(api: TestApi, id: string): Promise<any> {
  const res = await api.staff('GET', `/v1/invoices/${id}`);
  expectStatus(res, 200);
  return res.body;
}

export async function getTransaction(api: TestApi, id: string): Promise<any> {
  const res = await api.staff('GET', `/v1/transactions/${id}`);
  expectStatus(res, 200);
  return res.body;
}

/** Every item of a paginated list route. */
export async function listAll(api: TestApi, path: string, token = api.facts.staffToken): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api.call('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expectStatus(res, 200);
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

export const transactionsOf = (api: TestApi, clientId: string) => listAll(api, `/v1/clients/${clientId}/transactions`);

export async function creditsOf(api: TestApi, clientId: string): Promise<Record<string, number>> {
  const res = await api.staff('GET', `/v1/clients/${clientId}/credits`);
  expectStatus(res, 200);
  return Object.fromEntries((res.body.data as Array<{ currency: string; amount: number }>).map((c) => [c.currency, c.amount]));
}

export async function summaryOf(api: TestApi, clientId: string): Promise<Record<string, { invoiced: number; paid: number; due: number; credit: number }>> {
  const res = await api.staff('GET', `/v1/clients/${clientId}/summary`);
  expectStatus(res, 200);
  return Object.fromEntries(
    (res.body.data as Array<{ currency: string; invoiced: number; paid: number; due: number; credit: number }>).map(({ currency, ...rest }) => [
      currency,
      rest,
    ]),
  );
}

/** What the summary should be, computed from the client's invoices and credits as the contract defines it. */
export async function expectedSummary(
  api: TestApi,
  clientId: string,
): Promise<Record<string, { invoiced: number; paid: number; due: number; credit: number }>> {
  const invoices = await listAll(api, `/v1/invoices?clientId=${clientId}`);
  const credits = await creditsOf(api, clientId);
  const rows: Record<string, { invoiced: number; paid: number; due: number; credit: number }> = {};
  const row = (c: string) => (rows[c] ??= { invoiced: 0, paid: 0, due: 0, credit: 0 });
  for (const inv of invoices) {
    if (inv.status !== 'open' && inv.status !== 'paid') continue;
    const r = row(inv.currency);
    r.invoiced += inv.total;
    r.paid += inv.paid;
    if (inv.status === 'open') r.due += inv.due;
  }
  for (const [c, amount] of Object.entries(credits)) row(c).credit = amount;
  return rows;
}

/** The summary with all-zero rows dropped (the route always lists the client's own currency). */
export const nonZero = (s: Record<string, { invoiced: number; paid: number; due: number; credit: number }>) =>
  Object.fromEntries(Object.entries(s).filter(([, r]) => r.invoiced || r.paid || r.due || r.credit));
