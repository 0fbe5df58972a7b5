import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/http/route-table.js';
import { routeKey, type AnyRoute } from '../../functions/http/route.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
import { errorPaths, rawRequest } from '../support/platform.js';

/**
 * Cursor tampering on every list of the route table (a GET whose query takes `cursor`): a cursor with its payload or
 * signature altered, a cursor of another list, of the same list of another client, and of the same list in another
 * company must each be refused with a 400 naming `cursor`; the genuine cursor (the control) must be taken. A new list
 * joins automatically; one the fixtures below cannot give two pages must be named in NO_SECOND_PAGE with a reason.
 */

/** Lists whose fixtures cannot fill two pages here: they still get the foreign cursors, not the altered ones. */
const NO_SECOND_PAGE: Record<string, string> = {
  'GET /v1/automation/runs/{id}/actions': 'a dry run of a fresh company takes no actions',
  'GET /v1/imports/{id}/errors': 'needs an import with failed rows (its own suite, test/imports)',
};

const lists = allRoutes.filter(
  (r) => r.method === 'GET' && r.query && 'shape' in r.query && 'cursor' in (r.query as unknown as { shape: Record<string, unknown> }).shape,
);

let api: TestApi;

interface Company {
  token: string;
  /** Path collection → the id its lists are read under. */
  ids: Record<string, string>;
  /** Another client of the company, for the per-client lists. */
  otherClient: string;
  /** routeKey → a genuine cursor of that list (first page of one item). */
  cursors: Record<string, string>;
}

let a: Company;
let b: Company;

async function build(token: string): Promise<Omit<Company, 'cursors'>> {
  const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });
  const id = (res: ApiResponse, what: string) => {
    if (res.status !== 201 && res.status !== 202) throw new Error(`fixture ${what}: ${res.status} ${res.text}`);
    return res.body.id as string;
  };
  const currency = (await call('GET', '/v1/settings')).body.defaultCurrency as string;
  for (let i = 0; i < 2; i++) id(await call('POST', '/v1/client-groups', { name: `Cursor group ${randomBytes(3).toString('hex')}` }), 'group');
  const client = id(await call('POST', '/v1/clients', { firstName: 'Cursor', lastName: 'Client', email: 'cursor@example.com' }), 'client');
  const otherClient = id(await call('POST', '/v1/clients', { company: 'Cursor Other' }), 'other client');
  const lines = [{ description: 'Hosting', quantity: 1, unitAmount: 1500 }];
  const pkg = await call('POST', '/v1/packages', { name: 'Cursor package', pricing: [{ term: 1, period: 'month', price: 900, currency }] });
  id(await call('POST', '/v1/packages', { name: 'Cursor package 2', pricing: [{ term: 1, period: 'month', price: 900, currency }] }), 'package');
  for (let i = 0; i < 2; i++) {
    id(await call('POST', `/v1/clients/${client}/contacts`, { type: 'billing', firstName: 'C', lastName: `${i}`, email: `c${i}@example.com` }), 'contact');
    id(await call('POST', `/v1/clients/${client}/notes`, { summary: `Note ${i}` }), 'note');
    const invoice = id(await call('POST', `/v1/clients/${client}/invoices`, { status: 'open', lines, recurring: { term: 1, period: 'month' } }), 'invoice');
    id(
      await call('POST', `/v1/clients/${client}/payment-accounts`, { type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 } }),
      'payment account',
    );
    id(
      await call('POST', `/v1/clients/${client}/payments/record`, { type: 'cash', amount: 100, currency, apply: [{ invoiceId: invoice, amount: 100 }] }),
      'payment',
    );
    id(await call('POST', `/v1/clients/${client}/emails`, { subject: `Mail ${i}`, html: '<p>x</p>' }), 'email');
    id(await call('POST', `/v1/clients/${client}/services`, { packageId: pkg.body.id, pricingId: pkg.body.pricing[0].id }), 'service');
    id(await call('POST', '/v1/imports', { filename: `cursor-${i}.csv` }), 'import');
  }
  let run = '';
  for (let i = 0; i < 2; i++) {
    run = id(await call('POST', '/v1/automation/runs', { dryRun: true }), 'run');
    for (let n = 0; n < 200 && !(await call('GET', `/v1/automation/runs/${run}`)).body.finishedAt; n++) await new Promise((r) => setTimeout(r, 50));
  }
  const imported = (await call('GET', '/v1/imports?limit=1')).body.data[0].id as string;
  return { token, ids: { clients: client, runs: run, imports: imported }, otherClient };
}

function pathOf(route: AnyRoute, ids: Record<string, string>): string {
  const segments = route.path.split('/');
  return segments.map((s, i) => (/^\{\w+\}$/.test(s) ? ids[segments[i - 1]] : s)).join('/');
}

/** The token that may read a list: the operator's for the company list, the company's staff for the others. */
const tokenFor = (route: AnyRoute, company: Company) =>
  route.access !== 'public' && route.access.includes('operator') ? api.facts.operatorToken : company.token;

async function page(route: AnyRoute, company: Company, cursor?: string, ids = company.ids): Promise<ApiResponse> {
  const query = `limit=1${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
  return rawRequest(api.url, 'GET', `${pathOf(route, ids)}?${query}`, { headers: { authorization: `Bearer ${tokenFor(route, company)}` } });
}

async function cursorsOf(company: Omit<Company, 'cursors'>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const route of lists) {
    const res = await page(route, { ...company, cursors: {} });
    if (res.status !== 200) throw new Error(`${routeKey(route)}: ${res.status} ${res.text}`);
    if (typeof res.body.nextCursor === 'string') out[routeKey(route)] = res.body.nextCursor;
  }
  return out;
}

beforeAll(async () => {
  api = await startTestApi();
  const builtA = await build(api.facts.staffToken);
  const other = await createCompany(api, 'Cursor Other Co');
  const builtB = await build(other.staffToken);
  a = { ...builtA, cursors: await cursorsOf(builtA) };
  b = { ...builtB, cursors: await cursorsOf(builtB) };
}, 120_000);
afterAll(async () => {
  await api.stack.stop();
});

function refused(res: ApiResponse, label: string): string[] {
  if (res.status === 400 && /^application\/problem\+json/.test(res.headers.get('content-type') ?? '') && errorPaths(res).includes('cursor')) return [];
  return [`${label} → ${res.status} ${res.text.slice(0, 200)}`];
}

const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

describe('cursor tampering on every list', () => {
  it('finds the lists in the route table, and two pages of every list not named in NO_SECOND_PAGE', () => {
    expect(lists.length).toBeGreaterThan(15);
    const missing = lists.map(routeKey).filter((k) => !a.cursors[k] && !(k in NO_SECOND_PAGE));
    expect(missing, 'lists the fixtures give no second page: add fixtures, or name them in NO_SECOND_PAGE').toEqual([]);
    const stale = Object.keys(NO_SECOND_PAGE).filter((k) => a.cursors[k]);
    expect(stale, 'lists in NO_SECOND_PAGE that now have a second page').toEqual([]);
  });

  it.each(lists.map((r) => [routeKey(r), r] as const))('%s', async (key, route) => {
    const failures: string[] = [];
    const own = a.cursors[key];
    if (own) {
      const control = await page(route, a, own);
      if (control.status !== 200) failures.push(`the genuine cursor → ${control.status} ${control.text.slice(0, 200)}`);
      const [payload, signature] = own.split('.');
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const rewritten = Buffer.from(
        JSON.stringify(Object.fromEntries(Object.entries(decoded).map(([k, v]) => [k, typeof v === 'string' ? `${v}0` : v]))),
      ).toString('base64url');
      for (const [label, altered] of [
        ['payload altered', `${flip(payload, 2)}.${signature}`],
        ['payload rewritten', `${rewritten}.${signature}`],
        ['signature altered', `${payload}.${flip(signature, 4)}`],
        ['signature removed', payload],
        ['a third part', `${own}.x`],
      ] as const) {
        failures.push(...refused(await page(route, a, altered), label));
      }
    }
    const another = Object.entries(a.cursors).find(([k]) => k !== key);
    if (another) failures.push(...refused(await page(route, a, another[1]), `the cursor of ${another[0]}`));
    const theirs = b.cursors[key];
    if (theirs && route.access !== 'public' && !route.access.includes('operator'))
      failures.push(...refused(await page(route, a, theirs), "another company's cursor of this list"));
    if (own && route.path.startsWith('/v1/clients/{id}/')) {
      failures.push(...refused(await page(route, a, own, { ...a.ids, clients: a.otherClient }), "another client's cursor of this list"));
    }
    expect(own || another, `${key}: no cursor to try`).toBeTruthy();
    expect(failures, `${key}:\n${failures.join('\n')}`).toEqual([]);
  });
});
