import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/http/route-table.js';
import { routeKey, type AnyRoute } from '../../functions/http/route.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
import { createClientWithLogin } from '../support/platform.js';

/**
 * The tenant-isolation matrix, generated from the route table: every route with path parameters is called by
 * another company's staff, and (for client routes) by another client of the same company, with ids of objects
 * they must not see. New routes join automatically; a route whose path names a collection with no fixture below
 * fails until one is added.
 */

/** One object of every kind a path id can name, all belonging to one owner. */
type World = Record<string, string>;

/**
 * How a path parameter is filled: by the collection segment just before it (`/v1/clients/{id}` → `clients`).
 * Add an entry here when a route introduces a new collection, creating the object in `buildWorld`.
 */
const FIXTURES: Record<string, { id: (w: World) => string } | { notAnObjectId: string; value: string }> = {
  'client-groups': { id: (w) => w.group },
  clients: { id: (w) => w.client },
  contacts: { id: (w) => w.contact },
  notes: { id: (w) => w.note },
  invoices: { id: (w) => w.invoice },
  'recurring-invoices': { id: (w) => w.recurring },
  'payment-accounts': { id: (w) => w.paymentAccount },
  transactions: { id: (w) => w.transaction },
  emails: { id: (w) => w.email },
  packages: { id: (w) => w.package },
  services: { id: (w) => w.service },
  runs: { id: (w) => w.run },
  imports: { id: (w) => w.import },
  // Every company has each template under the same name; isolation is checked separately below.
  'email-templates': { notAnObjectId: 'template names are the same in every company', value: 'invoice_delivery' },
};

const LINES = [{ description: 'Hosting', quantity: 1, unitAmount: 1500 }];

/** Valid bodies, so a route gets past validation and its lookup is what answers. Others get an empty body. */
const SAMPLE_BODIES: Record<string, (attacker: World) => unknown> = {
  'PATCH /v1/client-groups/{id}': () => ({ name: 'Hijacked' }),
  'PATCH /v1/clients/{id}': () => ({ title: 'Hijacked' }),
  'POST /v1/clients/{id}/status': () => ({ status: 'inactive' }),
  'POST /v1/clients/{id}/merge': (attacker) => ({ intoClientId: attacker.client }),
  'POST /v1/clients/{id}/contacts': () => ({ type: 'billing', firstName: 'Hi', lastName: 'Jack', email: 'hijack@example.com' }),
  'PATCH /v1/clients/{id}/contacts/{contactId}': () => ({ title: 'Hijacked' }),
  'POST /v1/clients/{id}/notes': () => ({ summary: 'Hijacked' }),
  'PATCH /v1/clients/{id}/notes/{noteId}': () => ({ summary: 'Hijacked' }),
  'POST /v1/clients/{id}/invoices': () => ({ lines: LINES }),
  'PATCH /v1/invoices/{id}': () => ({ dateDue: '2031-01-01' }),
  'PATCH /v1/recurring-invoices/{id}': () => ({ term: 2 }),
  'POST /v1/clients/{id}/payment-accounts': () => ({ type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 } }),
  'PATCH /v1/clients/{id}/payment-accounts/{paId}': () => ({ expMonth: 11 }),
  'POST /v1/clients/{id}/payments': (attacker) => ({ source: { paymentAccountId: attacker.paymentAccount }, currency: attacker.currency, otherAmount: 100 }),
  'POST /v1/clients/{id}/payments/record': (attacker) => ({ type: 'cash', amount: 100, currency: attacker.currency }),
  'POST /v1/transactions/{id}/refund': () => ({ amount: 1 }),
  'POST /v1/clients/{id}/emails': () => ({ subject: 'Hijacked', html: '<p>Hijacked</p>' }),
  'PATCH /v1/packages/{id}': () => ({ name: 'Hijacked' }),
  'POST /v1/clients/{id}/services': (attacker) => ({ packageId: attacker.package, pricingId: attacker.pricing }),
};

interface Param {
  name: string;
  collection: string | undefined;
}

function pathParams(path: string): Param[] {
  const segments = path.split('/');
  return segments.flatMap((s, i) =>
    /^\{\w+\}$/.test(s) ? [{ name: s.slice(1, -1), collection: /^\{/.test(segments[i - 1] ?? '{') ? undefined : segments[i - 1] }] : [],
  );
}

function missingFixture(route: AnyRoute): string | undefined {
  for (const p of pathParams(route.path)) {
    if (!p.collection || !(p.collection in FIXTURES)) {
      return `${routeKey(route)}: no isolation fixture for path parameter {${p.name}} (collection "${p.collection ?? '?'}"). Add an entry to FIXTURES in test/http/isolation.e2e.test.ts and create such an object in buildWorld.`;
    }
  }
  return undefined;
}

const randomLike = (id: string) => {
  const prefix = /^[a-z]+_/.exec(id)?.[0] ?? '';
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return prefix + [...randomBytes(26)].map((b) => alphabet[b % 32]).join('');
};

/** Fills a route's path: `worlds[i]` supplies parameter i (the last world repeats); `random` swaps in non-existent ids. */
function fillPath(route: AnyRoute, worlds: World[], random = false): string {
  let i = 0;
  return route.path.replace(/\{(\w+)\}/g, () => {
    const p = pathParams(route.path)[i];
    const world = worlds[Math.min(i, worlds.length - 1)];
    i++;
    const fixture = FIXTURES[p.collection!];
    const id = 'id' in fixture ? fixture.id(world) : fixture.value;
    return encodeURIComponent(random && 'id' in fixture ? randomLike(id) : id);
  });
}

let api: TestApi;
let worldA: World; // the victim: objects of a client X in company A (the seeded company)
let worldB: World; // company B's own objects
let worldY: World; // another client Y of company A: its own objects
let tokenB: string;
let tokenY: string;

async function buildWorld(token: string, clientId?: string): Promise<World> {
  const staff = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });
  const expectCreated = (res: ApiResponse, what: string) => {
    if (res.status !== 201) throw new Error(`fixture ${what}: ${res.status} ${res.text}`);
    return res.body.id as string;
  };
  const currency = (await staff('GET', '/v1/settings')).body.defaultCurrency as string;
  const group = expectCreated(
    await staff('POST', '/v1/client-groups', { name: `Fixture group ${randomBytes(2).toString('hex')}`, settings: { autoDebitAttempts: 2 } }),
    'group',
  );
  const client =
    clientId ??
    expectCreated(
      await staff('POST', '/v1/clients', {
        firstName: 'Victor',
        lastName: 'Victim',
        email: `victim-${randomBytes(4).toString('hex')}@example.com`,
        groupId: group,
      }),
      'client',
    );
  const contact = expectCreated(
    await staff('POST', `/v1/clients/${client}/contacts`, {
      type: 'billing',
      firstName: 'Bill',
      lastName: 'Payer',
      email: `bill-${randomBytes(4).toString('hex')}@example.com`,
    }),
    'contact',
  );
  const note = expectCreated(await staff('POST', `/v1/clients/${client}/notes`, { summary: 'Fixture note', sticky: true }), 'note');
  const invoice = expectCreated(
    await staff('POST', `/v1/clients/${client}/invoices`, { status: 'open', lines: LINES, recurring: { term: 1, period: 'month' } }),
    'invoice',
  );
  const series = await staff('GET', `/v1/clients/${client}/recurring-invoices`);
  const recurring = series.body?.data?.[0]?.id as string;
  if (!recurring) throw new Error(`fixture recurring invoice: ${series.status} ${series.text}`);
  const paymentAccount = expectCreated(
    await staff('POST', `/v1/clients/${client}/payment-accounts`, { type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 } }),
    'payment account',
  );
  const transaction = expectCreated(
    await staff('POST', `/v1/clients/${client}/payments/record`, {
      type: 'check',
      reference: 'Fixture',
      amount: 500,
      currency,
      apply: [{ invoiceId: invoice, amount: 500 }],
    }),
    'transaction',
  );
  const email = expectCreated(await staff('POST', `/v1/clients/${client}/emails`, { subject: 'Fixture', html: '<p>Fixture</p>' }), 'email');
  const created = await staff('POST', '/v1/packages', { name: 'Fixture package', pricing: [{ term: 1, period: 'month', price: 900, currency }] });
  const pkg = expectCreated(created, 'package');
  const pricing = created.body.pricing[0].id as string;
  const service = expectCreated(await staff('POST', `/v1/clients/${client}/services`, { packageId: pkg, pricingId: pricing, status: 'pending' }), 'service');
  const run = await finishedRun(staff);
  // An import awaiting its upload: enough for its routes to find it (or, for another company, not).
  const imported = expectCreated(await staff('POST', '/v1/imports', { filename: 'fixture.csv' }), 'import');
  return {
    currency,
    group,
    client,
    contact,
    note,
    invoice,
    recurring,
    paymentAccount,
    transaction,
    email,
    package: pkg,
    pricing,
    service,
    run,
    import: imported,
  };
}

/** A dry automation run of the company, waited for (the company's next run would be refused while it runs). */
async function finishedRun(staff: (method: string, path: string, body?: unknown) => Promise<ApiResponse>): Promise<string> {
  const started = await staff('POST', '/v1/automation/runs', { dryRun: true });
  if (started.status !== 202) throw new Error(`fixture run: ${started.status} ${started.text}`);
  for (let i = 0; i < 200; i++) {
    const run = await staff('GET', `/v1/automation/runs/${started.body.id}`);
    if (run.body.finishedAt) return started.body.id as string;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('fixture run: it did not finish');
}

/** What company A's staff sees of every fixture object (and the lists a stray create would grow). */
async function snapshotA(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const w of [worldA, worldY]) {
    for (const path of [
      `/v1/client-groups/${w.group}`,
      `/v1/clients/${w.client}`,
      `/v1/clients/${w.client}/contacts/${w.contact}`,
      `/v1/clients/${w.client}/notes/${w.note}`,
      `/v1/invoices/${w.invoice}`,
      `/v1/recurring-invoices/${w.recurring}`,
      `/v1/clients/${w.client}/payment-accounts/${w.paymentAccount}`,
      `/v1/transactions/${w.transaction}`,
      `/v1/emails/${w.email}`,
      `/v1/packages/${w.package}`,
      `/v1/services/${w.service}`,
      `/v1/imports/${w.import}`,
      `/v1/clients/${w.client}/services?limit=100`,
      `/v1/clients/${w.client}/contacts?limit=100`,
      `/v1/clients/${w.client}/notes?limit=100`,
      `/v1/clients/${w.client}/payment-accounts?limit=100`,
      `/v1/clients/${w.client}/transactions?limit=100`,
      `/v1/clients/${w.client}/credits`,
      `/v1/clients/${w.client}/emails?limit=100`,
      `/v1/clients/${w.client}/recurring-invoices?limit=100`,
    ]) {
      const res = await api.call('GET', path, { token: api.facts.staffToken });
      out[path] = { status: res.status, body: withoutDeliveryState(res.body) };
    }
  }
  const template = await api.call('GET', '/v1/email-templates/invoice_delivery', { token: api.facts.staffToken });
  out.template = { status: template.status, body: template.body };
  return out;
}

/** Mail delivery moves on by itself (queued → sent → delivered); that is not a change made by anyone. */
function withoutDeliveryState(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDeliveryState);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const isMail = typeof obj.id === 'string' && obj.id.startsWith('mail_');
    return Object.fromEntries(
      Object.entries(obj)
        .filter(([k]) => !(isMail && ['status', 'statusReason', 'messageId', 'updatedAt', 'version'].includes(k)))
        .map(([k, v]) => [k, withoutDeliveryState(v)]),
    );
  }
  return value;
}

let before: Record<string, unknown>;

beforeAll(async () => {
  api = await startTestApi();
  worldA = await buildWorld(api.facts.staffToken);
  const b = await createCompany(api, 'Company B', 'EUR');
  tokenB = b.staffToken;
  worldB = await buildWorld(tokenB);
  const y = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
  tokenY = y.clientToken;
  worldY = await buildWorld(api.facts.staffToken, y.clientId);
  const custom = await api.call('PUT', '/v1/email-templates/invoice_delivery', {
    token: api.facts.staffToken,
    body: { subject: 'A: invoice {{invoice.number}}', html: '<p>Company A</p>', text: 'Company A' },
  });
  if (custom.status !== 200) throw new Error(`fixture template: ${custom.status} ${custom.text}`);
  before = await snapshotA();
});
afterAll(async () => {
  await api.stack.stop();
});

const withParams = allRoutes.filter((r) => pathParams(r.path).length > 0);
/** Routes whose parameters name no object (e.g. template names): not in the 404 matrix. */
const namesNoObject = (r: AnyRoute) => pathParams(r.path).some((p) => p.collection && p.collection in FIXTURES && 'notAnObjectId' in FIXTURES[p.collection]);
// Reads first, then changes, deletions last: a cross-tenant delete that wrongly worked must not hide other leaks.
const order = { GET: 0, PATCH: 1, PUT: 1, POST: 2, DELETE: 3 } as const;
const depth = (r: AnyRoute) => pathParams(r.path).length;
const sorted = [...withParams]
  .filter((r) => !namesNoObject(r))
  .sort((a, b) => order[a.method] - order[b.method] || (a.method === 'DELETE' ? depth(b) - depth(a) : 0));
const clientRoutes = sorted.filter((r) => r.access !== 'public' && r.access.includes('client'));

interface Attack {
  route: AnyRoute;
  token: () => string;
  attacker: () => World;
  /** The worlds supplying the path ids, parameter by parameter. */
  worlds: () => World[];
}

async function attack(a: Attack): Promise<void> {
  const problem = missingFixture(a.route);
  if (problem) throw new Error(problem);
  const sample = SAMPLE_BODIES[routeKey(a.route)];
  const body = a.route.body ? (sample ? sample(a.attacker()) : {}) : undefined;
  const call = (path: string) => api.call(a.route.method, path, { token: a.token(), body });
  const path = fillPath(a.route, a.worlds());
  const res = await call(path);
  const label = `${a.route.method} ${path} → ${res.status} ${res.text.slice(0, 200)}`;
  expect(res.status, label).not.toBeLessThan(300);
  expect(res.status, label).not.toBe(403);
  if (res.status === 404) return;
  // Only a validation failure that a call with non-existent ids gets identically is acceptable: it reveals nothing.
  const control = await call(fillPath(a.route, a.worlds(), true));
  expect(res.status, label).toBe(400);
  expect(control.status, `control for ${label}`).toBe(res.status);
  expect(res.body?.errors, label).toEqual(control.body?.errors);
}

describe('tenant isolation matrix', () => {
  it('has a fixture for every path collection of the route table', () => {
    const missing = withParams.map(missingFixture).filter(Boolean);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('uses real fixtures: the owners can read every object the matrix aims at', async () => {
    for (const route of sorted.filter((r) => r.method === 'GET' && !missingFixture(r))) {
      if (route.access === 'public') continue;
      if (route.access.includes('staff')) {
        const res = await api.call('GET', fillPath(route, [worldA]), { token: api.facts.staffToken });
        expect(res.status, `${routeKey(route)} ${res.text.slice(0, 200)}`).toBe(200);
        expect((await api.call('GET', fillPath(route, [worldB]), { token: tokenB })).status, routeKey(route)).toBe(200);
      }
      if (route.access.includes('client')) {
        const res = await api.call('GET', fillPath(route, [worldY]), { token: tokenY });
        expect(res.status, `${routeKey(route)} as client Y ${res.text.slice(0, 200)}`).toBe(200);
      }
    }
  });

  describe("another company's staff", () => {
    it.each(sorted.map((r) => [routeKey(r), r] as const))("%s with company A's ids → 404", async (_k, route) => {
      await attack({ route, token: () => tokenB, attacker: () => worldB, worlds: () => [worldA] });
    });

    const nested = sorted.filter((r) => pathParams(r.path).length > 1);
    it.each(nested.map((r) => [routeKey(r), r] as const))("%s with its own parent and company A's child ids → 404", async (_k, route) => {
      await attack({ route, token: () => tokenB, attacker: () => worldB, worlds: () => [worldB, worldA] });
    });
  });

  describe('another client of the same company', () => {
    it.each(clientRoutes.map((r) => [routeKey(r), r] as const))("%s with client X's ids → 404", async (_k, route) => {
      await attack({ route, token: () => tokenY, attacker: () => worldY, worlds: () => [worldA] });
    });

    const nested = clientRoutes.filter((r) => pathParams(r.path).length > 1);
    it.each(nested.map((r) => [routeKey(r), r] as const))("%s with its own client id and client X's child ids → 404", async (_k, route) => {
      await attack({ route, token: () => tokenY, attacker: () => worldY, worlds: () => [worldY, worldA] });
    });
  });

  describe('ids in bodies and queries', () => {
    it("another company cannot file a client into company A's group", async () => {
      const res = await api.call('POST', '/v1/clients', { token: tokenB, body: { company: 'Sneaky', groupId: worldA.group } });
      const control = await api.call('POST', '/v1/clients', { token: tokenB, body: { company: 'Sneaky', groupId: randomLike(worldA.group) } });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status).toBe(control.status);
    });

    it("another company cannot move its client into company A's group", async () => {
      const res = await api.call('PATCH', `/v1/clients/${worldB.client}`, { token: tokenB, body: { groupId: worldA.group } });
      const control = await api.call('PATCH', `/v1/clients/${worldB.client}`, { token: tokenB, body: { groupId: randomLike(worldA.group) } });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status).toBe(control.status);
    });

    it("another company cannot merge its client into company A's client", async () => {
      const res = await api.call('POST', `/v1/clients/${worldB.client}/merge`, { token: tokenB, body: { intoClientId: worldA.client } });
      const control = await api.call('POST', `/v1/clients/${worldB.client}/merge`, { token: tokenB, body: { intoClientId: randomLike(worldA.client) } });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status).toBe(control.status);
      expect((await api.call('GET', `/v1/clients/${worldB.client}`, { token: tokenB })).status).toBe(200);
    });

    it("another company's bulk actions on company A's clients fail per id as not found", async () => {
      for (const action of ['deactivate', 'delete']) {
        const res = await api.call('POST', '/v1/clients/bulk', { token: tokenB, body: { action, ids: [worldA.client, worldY.client] } });
        expect(res.status).toBe(200);
        for (const r of res.body.results) expect(r).toMatchObject({ ok: false, error: { status: 404 } });
      }
    });

    /** Sends the same request with A's id and with a made-up one: neither may succeed, and they must look alike. */
    async function sameAsRandom(method: string, path: string, token: string, body: (id: string) => unknown, id: string) {
      const res = await api.call(method, path, { token, body: body(id) });
      const control = await api.call(method, path, { token, body: body(randomLike(id)) });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status, res.text).toBeLessThan(500);
      expect(res.status, `${res.text}\nvs\n${control.text}`).toBe(control.status);
      expect(res.body?.errors).toEqual(control.body?.errors);
    }

    it('another company cannot pay with, apply to, or email objects of company A named in the body', async () => {
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldB.client}/payments`,
        tokenB,
        (id) => ({ source: { paymentAccountId: id }, currency: worldB.currency, otherAmount: 100 }),
        worldA.paymentAccount,
      );
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldB.client}/payments/record`,
        tokenB,
        (id) => ({ type: 'cash', amount: 100, currency: worldB.currency, apply: [{ invoiceId: id, amount: 100 }] }),
        worldA.invoice,
      );
      await sameAsRandom('POST', `/v1/clients/${worldB.client}/credits/apply`, tokenB, (id) => ({ invoiceId: id }), worldA.invoice);
      await sameAsRandom('POST', `/v1/clients/${worldB.client}/emails`, tokenB, (id) => ({ subject: 'x', html: '<p>x</p>', contactIds: [id] }), worldA.contact);
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldB.client}/payment-accounts`,
        tokenB,
        (id) => ({ type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 }, copyFromContactId: id }),
        worldA.contact,
      );
    });

    it("another client cannot pay with, or apply to, client X's objects named in the body", async () => {
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldY.client}/payments`,
        tokenY,
        (id) => ({ source: { paymentAccountId: id }, currency: worldY.currency, otherAmount: 100 }),
        worldA.paymentAccount,
      );
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldY.client}/payments`,
        tokenY,
        (id) => ({ source: { paymentAccountId: worldY.paymentAccount }, currency: worldY.currency, apply: [{ invoiceId: id, amount: 1 }] }),
        worldA.invoice,
      );
      await sameAsRandom(
        'POST',
        `/v1/clients/${worldY.client}/payment-accounts`,
        tokenY,
        (id) => ({ type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 }, copyFromContactId: id }),
        worldA.contact,
      );
    });

    it("lists filtered by another tenant's or client's id show nothing of theirs", async () => {
      for (const [token, path, foreign] of [
        [tokenB, `/v1/invoices?clientId=${worldA.client}`, worldA.invoice],
        [tokenY, `/v1/invoices?clientId=${worldA.client}`, worldA.invoice],
        [tokenY, '/v1/invoices', worldA.invoice],
      ] as const) {
        const res = await api.call('GET', path, { token });
        expect(res.status, res.text).toBeLessThan(500);
        if (res.status === 200) expect(res.text).not.toContain(foreign);
        else expect(res.status).toBeGreaterThanOrEqual(400);
      }
    });

    it("another company's template changes leave company A's template alone", async () => {
      const put = await api.call('PUT', '/v1/email-templates/invoice_delivery', { token: tokenB, body: { subject: 'B subject', html: '<p>B</p>', text: 'B' } });
      expect(put.status).toBe(200);
      expect((await api.call('GET', '/v1/email-templates/invoice_delivery', { token: tokenB })).body.subject).toBe('B subject');
      expect((await api.call('DELETE', '/v1/email-templates/invoice_delivery', { token: tokenB })).status).toBe(204);
      const a = await api.call('GET', '/v1/email-templates/invoice_delivery', { token: api.facts.staffToken });
      expect(a.body.subject).toBe('A: invoice {{invoice.number}}');
    });

    it("another company's client list filtered by company A's group is empty", async () => {
      const res = await api.call('GET', `/v1/clients?groupId=${worldA.group}`, { token: tokenB });
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) expect(res.body.data).toEqual([]);
    });
  });

  it("leaves every one of company A's objects in place and unchanged", async () => {
    expect(await snapshotA()).toEqual(before);
    // Client Y still logs in and sees itself.
    expect((await api.call('GET', `/v1/clients/${worldY.client}`, { token: tokenY })).status).toBe(200);
  });
});
