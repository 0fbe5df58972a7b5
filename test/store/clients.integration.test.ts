import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { readProfile } from '../../functions/clients/client-view.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { getClient, insertClient, listClients, ownerOfUnique, readProfileView, updateClient } from '../../functions/store/clients.js';
import {
  clientIndexByStatusPk,
  clientListPk,
  clientPk,
  clientSearchPk,
  groupMemberPk,
  profileViewBalance,
  uniquePk,
  uniqueSk,
} from '../../functions/store/keys.js';
import { searchFold, type Client } from '../../functions/domain/client.js';
import { newId } from '../../functions/domain/ids.js';
import type { Principal } from '../../functions/http/route.js';
import { useTestClockForThisTest } from '../support/clock.js';
import { recordDynamoCalls, type DynamoCall } from '../support/dynamo-calls.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

/** Store-level guarantees of the clients store: the one-Query profile, unique markers under races, numbers. */
let api: TestApi;
let companyId: string;
let staff: Principal;

beforeAll(async () => {
  api = await startTestApi();
  companyId = api.facts.companyId;
  staff = { role: 'staff', userId: 'usr_test', username: 'admin', companyId };
});
afterAll(async () => {
  await api?.stack.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

async function create(body: Record<string, unknown>): Promise<any> {
  const res = await api.staff('POST', '/v1/clients', body);
  expectStatus(res, 201);
  return res.body;
}

async function partition(pk: string): Promise<Array<Record<string, unknown>>> {
  const out = await db().send(
    new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

async function indexEntriesOf(clientId: string): Promise<Array<Record<string, unknown>>> {
  const pks = [...['number', 'lastName', 'company', 'createdAt'].map((s) => clientListPk(companyId, s)), clientSearchPk(companyId)];
  const all = (await Promise.all(pks.map(partition))).flat();
  return all.filter((i) => i.clientId === clientId);
}

describe('the profile view', () => {
  it('comes from ONE Query: client, balances and sticky notes newest first (no contacts, plain notes or activity)', async () => {
    const clock = useTestClockForThisTest('2025-05-01T09:00:00Z');
    const c = await create({ company: 'One Query Ltd', email: 'onequery@example.com', password: 'correct horse battery' });
    const stickies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const n = await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: `Sticky ${i}`, sticky: true });
      stickies.unshift(n.body.id);
      await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: `Plain ${i}` });
      await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'billing', firstName: 'C', lastName: `${i}`, email: `c${i}@example.com` });
      clock.advance();
    }
    await api.staff('PATCH', `/v1/clients/${c.id}`, { city: 'Leeds' });

    const send = vi.spyOn(db(), 'send');
    try {
      const view = await readProfileView(companyId, c.id);
      const queries = send.mock.calls.filter(([command]) => command instanceof QueryCommand);
      expect(queries).toHaveLength(1);
      expect(send).toHaveBeenCalledTimes(1);
      expect(view!.client.id).toBe(c.id);
      expect(view!.client.city).toBe('Leeds');
      expect(view!.stickyNotes.map((n) => n.id)).toEqual(stickies);
      expect(view!.balances).toEqual([]);

      send.mockClear();
      const profile = await readProfile(companyId, c.id, staff);
      expect(send.mock.calls.filter(([command]) => command instanceof QueryCommand)).toHaveLength(1);
      expect((profile.stickyNotes as Array<{ id: string }>).map((n) => n.id)).toEqual(stickies);

      // And over HTTP: a staff GET of the profile runs one Query in total.
      send.mockClear();
      const res = await api.staff('GET', `/v1/clients/${c.id}`);
      expectStatus(res, 200);
      expect(send.mock.calls.filter(([command]) => command instanceof QueryCommand)).toHaveLength(1);
      expect(res.body.stickyNotes.map((n: { id: string }) => n.id)).toEqual(stickies);
    } finally {
      send.mockRestore();
    }
  });

  it('includes per-currency balance items in the same Query, and a merge adds them up', async () => {
    const a = await create({ company: 'Balance A', currency: 'USD' });
    const b = await create({ company: 'Balance B' });
    const balance = (clientId: string, currency: string, amounts: { invoiced: number; paid: number; due: number; credit: number }) =>
      db().send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            PK: clientPk(companyId, clientId),
            SK: `BAL#${currency}`,
            LSI1SK: profileViewBalance(currency),
            entity: 'balance',
            clientId,
            currency,
            ...amounts,
            mergeAs: 'sum',
            sumFields: ['invoiced', 'paid', 'due', 'credit'],
          },
        }),
      );
    await balance(a.id, 'USD', { invoiced: 1000, paid: 400, due: 600, credit: 50 });
    await balance(b.id, 'USD', { invoiced: 300, paid: 300, due: 0, credit: 25 });
    await balance(b.id, 'EUR', { invoiced: 700, paid: 0, due: 700, credit: 0 });

    const send = vi.spyOn(db(), 'send');
    try {
      const view = await readProfileView(companyId, a.id);
      expect(send).toHaveBeenCalledTimes(1);
      expect(view!.balances).toHaveLength(1);
    } finally {
      send.mockRestore();
    }

    const merged = await api.staff('POST', `/v1/clients/${b.id}/merge`, { intoClientId: a.id });
    expectStatus(merged, 200);
    expect(merged.body.summary.data).toEqual([
      { currency: 'USD', invoiced: 1300, paid: 700, due: 600, credit: 75 },
      { currency: 'EUR', invoiced: 700, paid: 0, due: 700, credit: 0 },
    ]);
    expect((await partition(clientPk(companyId, b.id))).length).toBe(0);
  });
});

describe('uniqueness under races', () => {
  it('10 concurrent creates with the same email: exactly one 201, the rest 409 naming email', async () => {
    const email = 'race@example.com';
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.staff('POST', '/v1/clients', { firstName: 'Race', lastName: `No${i}`, email, password: 'correct horse battery' }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['email']);
    const winner = results.find((r) => r.status === 201)!.body;
    expect(await ownerOfUnique(companyId, 'email', email)).toBe(winner.id);
    expect(await ownerOfUnique(companyId, 'username', email)).toBe(winner.id);
    const found = await api.staff('GET', `/v1/clients?q=${encodeURIComponent(email)}`);
    expect(found.body.data.map((c: { id: string }) => c.id)).toEqual([winner.id]);
    expectStatus(await api.call('POST', '/v1/auth/token', { body: { companyId, username: email, password: 'correct horse battery' } }), 200);
  });

  it('10 concurrent creates with the same username (different emails): exactly one 201', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.staff('POST', '/v1/clients', { company: `User Race ${i}`, email: `userrace${i}@example.com`, username: 'same-user' }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 201);
    expect(losers.every((r) => r.status === 409 && r.body.errors[0].path === 'username')).toBe(true);
  });

  it('10 concurrent creates with the same given number: exactly one 201, the rest 409 naming number', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api.staff('POST', '/v1/clients', { company: `Number Race ${i}`, number: 777_000 })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 201);
    expect(losers.every((r) => r.status === 409 && r.body.errors[0].path === 'number')).toBe(true);
  });

  it('two concurrent PATCHes to the same new email: one wins, the other 409', async () => {
    const a = await create({ company: 'Patch A', email: 'patcha@example.com' });
    const b = await create({ company: 'Patch B', email: 'patchb@example.com' });
    const results = await Promise.all([a, b].map((c) => api.staff('PATCH', `/v1/clients/${c.id}`, { email: 'contested@example.com' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results[0].status === 200 ? a : b;
    expect(await ownerOfUnique(companyId, 'email', 'contested@example.com')).toBe(winner.id);
    // The loser still owns its old email; the winner's old one is free.
    const loser = winner === a ? b : a;
    expect(await ownerOfUnique(companyId, 'email', loser.email)).toBe(loser.id);
    expect(await ownerOfUnique(companyId, 'email', winner.email)).toBeUndefined();
  });
});

describe('client numbers', () => {
  it('20 concurrent creates without numbers get 20 distinct consecutive numbers', async () => {
    const before = await create({ company: 'Before Burst' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => api.staff('POST', '/v1/clients', { company: `Burst ${i}` })));
    for (const r of results) expectStatus(r, 201);
    const numbers = results.map((r) => r.body.number as number).sort((x, y) => x - y);
    expect(new Set(numbers).size).toBe(20);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => before.number + 1 + i));
    const after = await create({ company: 'After Burst' });
    expect(after.number).toBe(before.number + 21);
  });

  it('never reuses a number after a delete (nor lets one be given again)', async () => {
    const a = await create({ company: 'Keep' });
    const b = await create({ company: 'Drop' });
    expect(b.number).toBe(a.number + 1);
    expectStatus(await api.staff('DELETE', `/v1/clients/${b.id}`), 204);
    const c = await create({ company: 'Next' });
    expect(c.number).toBe(b.number + 1);
    const given = await api.staff('POST', '/v1/clients', { company: 'Given', number: b.number });
    expectStatus(given, 409);
    expect(given.body.errors.map((e: { path: string }) => e.path)).toEqual(['number']);
    // Bulk delete and merge do not free numbers either.
    const d = await create({ company: 'Bulk Drop' });
    await api.staff('POST', '/v1/clients/bulk', { action: 'delete', ids: [d.id] });
    const e = await create({ company: 'Merge Drop' });
    await api.staff('POST', `/v1/clients/${e.id}/merge`, { intoClientId: a.id });
    for (const n of [d.number, e.number]) expectStatus(await api.staff('POST', '/v1/clients', { company: 'Again', number: n }), 409);
    const f = await create({ company: 'Last' });
    expect(f.number).toBe(e.number + 1);
  });

  it('a given number below the counter is accepted and does not move the counter back', async () => {
    const top = await create({ company: 'Top', number: 900_000 });
    const low = await create({ company: 'Low', number: 42 });
    expect(low.number).toBe(42);
    const next = await create({ company: 'Next After Top' });
    expect(next.number).toBe(top.number + 1);
  });
});

describe('deleting a client at store level', () => {
  it('removes the partition, list and search index entries, group membership and email/username markers; keeps the number marker', async () => {
    const c = await create({
      firstName: 'Del',
      lastName: 'Eted',
      company: 'Deleted Co',
      email: 'deleted@example.com',
      username: 'deleted-user',
      password: 'correct horse battery',
    });
    await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'n', sticky: true });
    await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'billing', firstName: 'A', lastName: 'B', email: 'ab@example.com' });
    expect((await indexEntriesOf(c.id)).length).toBeGreaterThan(4);
    expect((await partition(groupMemberPk(companyId, c.groupId))).some((i) => i.clientId === c.id)).toBe(true);

    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}`), 204);
    expect(await partition(clientPk(companyId, c.id))).toEqual([]);
    expect(await indexEntriesOf(c.id)).toEqual([]);
    expect((await partition(groupMemberPk(companyId, c.groupId))).some((i) => i.clientId === c.id)).toBe(false);
    expect(await ownerOfUnique(companyId, 'email', 'deleted@example.com')).toBeUndefined();
    expect(await ownerOfUnique(companyId, 'username', 'deleted-user')).toBeUndefined();
    const marker = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: uniquePk(companyId, 'number', String(c.number)), SK: uniqueSk } }));
    expect(marker.Item).toBeDefined();
  });

  it('status and group changes move every index entry along (filters read the index)', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: 'Index Group' });
    const c = await create({ firstName: 'Idx', lastName: 'Moves', company: 'Index Moves', email: 'idx@example.com' });
    await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'fraud' });
    await api.staff('PATCH', `/v1/clients/${c.id}`, { groupId: group.body.id, lastName: 'Moved' });
    const entries = await indexEntriesOf(c.id);
    expect(entries.length).toBeGreaterThan(4);
    expect(entries.every((e) => e.status === 'fraud' && e.groupId === group.body.id)).toBe(true);
    expect(entries.some((e) => e.term === 'moves')).toBe(false);
    expect(entries.some((e) => e.term === 'moved')).toBe(true);
    expect((await partition(groupMemberPk(companyId, group.body.id))).map((i) => i.clientId)).toEqual([c.id]);
    expect((await partition(groupMemberPk(companyId, c.groupId))).some((i) => i.clientId === c.id)).toBe(false);
  });
});

/**
 * Budget 1 of issue 13 on the client list: a page costs the same in a company of 30 and of 300 clients, with any
 * filter. Both companies hold the same 15 "special" clients (a few inactive or fraud, two groups, all named Sam
 * Smith…), spread through the number and date orders among fillers (active, default group, last name Smithfield…:
 * they match `q=smi` too, so a filter over a search has entries to pass over).
 */
describe('lists and searches read the page, not the company', () => {
  interface Fixture {
    companyId: string;
    token: string;
    groupB: string;
    clients: Client[];
  }
  const LIMIT = 2;
  const fixtures: Record<number, Fixture> = {};

  const specialStatus = (j: number): Client['status'] => (j % 3 === 1 ? 'inactive' : j % 5 === 2 ? 'fraud' : 'active');

  function draftFor(i: number, size: number, companyId: string, groups: { a: string; b: string }): Client {
    const step = size / 15;
    const j = i % step === 0 ? i / step : -1;
    const at = new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
    return {
      id: newId('cl'),
      number: i + 1,
      status: j >= 0 ? specialStatus(j) : 'active',
      groupId: j >= 0 && j % 2 === 0 ? groups.b : groups.a,
      firstName: j >= 0 ? 'Sam' : 'Filler',
      lastName: j >= 0 ? `Smith ${String(j).padStart(2, '0')}` : `Smithfield ${String(i).padStart(3, '0')}`,
      company: j >= 0 ? `Special ${j}` : null,
      title: null,
      address1: null,
      address2: null,
      city: null,
      country: 'GB',
      state: null,
      zip: null,
      email: `${j >= 0 ? `s${j}` : `f${i}`}@${companyId.toLowerCase()}.test`,
      phones: [],
      taxExempt: false,
      taxId: null,
      currency: 'GBP',
      username: null,
      userId: null,
      language: 'en',
      marketingOptIn: false,
      customFields: {},
      autoDebitAccountId: null,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
  }

  async function seed(size: number): Promise<Fixture> {
    const company = await createCompany(api, `Scale ${size}`);
    const group = await api.call('POST', '/v1/client-groups', { token: company.staffToken, body: { name: 'Group B' } });
    expectStatus(group, 201);
    const groups = { a: company.defaultGroupId, b: group.body.id as string };
    const clients: Client[] = [];
    for (let i = 0; i < size; i += 25) {
      const batch = Array.from({ length: Math.min(25, size - i) }, (_, k) => draftFor(i + k, size, company.companyId, groups));
      clients.push(...(await Promise.all(batch.map((c) => insertClient(company.companyId, c)))));
    }
    return { companyId: company.companyId, token: company.staffToken, groupB: groups.b, clients };
  }

  beforeAll(async () => {
    const [small, large] = await Promise.all([seed(30), seed(300)]);
    fixtures[30] = small;
    fixtures[300] = large;
  }, 120_000);

  /** Pages of a list (all of them, or the first `maxPages`), each checked: at most LIMIT rows, a full page before a cursor. */
  async function walk(f: Fixture, query: string, maxPages = 1000): Promise<Array<{ id: string }>> {
    const rows: Array<{ id: string }> = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page++) {
      const res: ApiResponse = await api.call('GET', `/v1/clients?${query}&limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        token: f.token,
      });
      expectStatus(res, 200);
      expect(res.body.data.length).toBeLessThanOrEqual(LIMIT);
      if (res.body.nextCursor) expect(res.body.data).toHaveLength(LIMIT);
      rows.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return rows;
  }

  const reads = (calls: DynamoCall[]) => ({ calls: calls.length, itemsRead: calls.reduce((n, c) => n + c.itemsRead, 0) });

  /** Calls and items read for the first three pages of a list. */
  async function cost(f: Fixture, query: string): Promise<{ calls: number; itemsRead: number }> {
    const recorder = recordDynamoCalls();
    try {
      await walk(f, query, 3);
      return reads(recorder.calls);
    } finally {
      recorder.stop();
    }
  }

  const matches = (c: Client, q: string) =>
    [c.firstName, c.lastName, c.company, c.email, String(c.number)].some((v) => v !== null && searchFold(v).startsWith(searchFold(q)));
  const ids = (list: Array<{ id: string }>) => list.map((c) => c.id);

  const cases: Array<{ name: string; query: (f: Fixture) => string; keep: (c: Client, f: Fixture) => boolean }> = [
    { name: 'unfiltered', query: () => 'sort=number', keep: () => true },
    { name: 'status=inactive', query: () => 'status=inactive', keep: (c) => c.status === 'inactive' },
    { name: 'groupId', query: (f) => `groupId=${f.groupB}`, keep: (c, f) => c.groupId === f.groupB },
    { name: 'groupId+status', query: (f) => `groupId=${f.groupB}&status=fraud`, keep: (c, f) => c.groupId === f.groupB && c.status === 'fraud' },
    { name: 'q', query: () => 'q=smi', keep: (c) => matches(c, 'smi') },
    { name: 'q+status', query: () => 'q=smi&status=inactive', keep: (c) => matches(c, 'smi') && c.status === 'inactive' },
    { name: 'q+groupId', query: (f) => `q=SMI&groupId=${f.groupB}`, keep: (c, f) => matches(c, 'smi') && c.groupId === f.groupB },
  ];

  for (const c of cases) {
    it(`${c.name}: the same calls and items read (±10%) in a company of 30 and of 300 clients, and the right clients across pages`, async () => {
      const small = await cost(fixtures[30], c.query(fixtures[30]));
      const large = await cost(fixtures[300], c.query(fixtures[300]));
      expect(small.calls).toBeGreaterThan(0);
      expect(Math.abs(large.calls - small.calls), JSON.stringify({ small, large })).toBeLessThanOrEqual(small.calls * 0.1);
      expect(Math.abs(large.itemsRead - small.itemsRead), JSON.stringify({ small, large })).toBeLessThanOrEqual(small.itemsRead * 0.1);
      for (const f of [fixtures[30], fixtures[300]]) {
        const expected = f.clients.filter((x) => c.keep(x, f));
        expect(expected.length).toBeGreaterThan(c.name.includes('+') ? 1 : LIMIT);
        const found = await walk(f, c.query(f));
        const inOrder = c.name.startsWith('q') ? ids(found).sort() : ids(found);
        const wanted = c.name.startsWith('q') ? ids(expected).sort() : ids([...expected].sort((a, b) => a.number - b.number));
        expect(inOrder).toEqual(wanted);
      }
    });
  }

  it('a filtered page reads only entries that pass the filter (one Query of the filtered index)', async () => {
    const f = fixtures[300];
    const recorder = recordDynamoCalls();
    try {
      await walk(f, 'status=inactive', 1);
      const queries = recorder.calls.filter((call) => call.command === 'QueryCommand');
      expect(queries).toHaveLength(1);
      expect(queries[0].index).toBe('GSI3');
      expect(queries[0].itemsRead).toBe(LIMIT + 1);
    } finally {
      recorder.stop();
    }
  });

  it('filtered lists in every sort order, descending ones too, are exact across pages', async () => {
    const f = fixtures[300];
    const byText = (key: (c: Client) => string) => (a: Client, b: Client) => {
      const [ka, kb] = [key(a), key(b)];
      return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : 1;
    };
    const orders: Record<string, (a: Client, b: Client) => number> = {
      number: (a, b) => a.number - b.number,
      '-number': (a, b) => b.number - a.number,
      lastName: byText((c) => searchFold(c.lastName ?? '')),
      company: byText((c) => searchFold(c.company ?? '')),
      createdAt: byText((c) => c.createdAt),
      '-createdAt': (a, b) => -byText((c) => c.createdAt)(a, b),
    };
    const filters: Array<[string, (c: Client) => boolean]> = [
      ['status=inactive', (c) => c.status === 'inactive'],
      [`groupId=${f.groupB}`, (c) => c.groupId === f.groupB],
      [`groupId=${f.groupB}&status=active`, (c) => c.groupId === f.groupB && c.status === 'active'],
    ];
    for (const [sort, order] of Object.entries(orders)) {
      for (const [filter, keep] of filters) {
        const found = await walk(f, `sort=${encodeURIComponent(sort)}&${filter}`);
        expect(ids(found), `${sort} ${filter}`).toEqual(ids(f.clients.filter(keep).sort(order)));
      }
    }
  });

  it('an entry a filtered index still holds under an old status (GSIs are eventually consistent in AWS) does not list its client', async () => {
    const f = fixtures[30];
    const target = f.clients.find((c) => c.status === 'active' && c.groupId !== f.groupB)!;
    const listPk = clientListPk(f.companyId, 'number');
    const entry = (await partition(listPk)).find((e) => e.clientId === target.id)!;
    const setStatusKey = (status: string) =>
      db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { PK: entry.PK, SK: entry.SK },
          UpdateExpression: 'SET GSI3PK = :pk',
          ExpressionAttributeValues: { ':pk': clientIndexByStatusPk(listPk, status) },
        }),
      );
    await setStatusKey('inactive');
    try {
      const page = await listClients(f.companyId, { sort: 'number', descending: false, status: 'inactive', limit: 50 });
      expect(page.items.map((c) => c.id)).toEqual(f.clients.filter((c) => c.status === 'inactive').map((c) => c.id));
    } finally {
      await setStatusKey('active');
    }
  });

  it('a cursor of a filtered list, altered or used with another filter or sort → 400', async () => {
    const f = fixtures[30];
    const page = await api.call('GET', '/v1/clients?status=inactive&sort=-number&limit=2', { token: f.token });
    expectStatus(page, 200);
    const cursor: string = page.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const get = (query: string, c = cursor) => api.call('GET', `/v1/clients?${query}&limit=2&cursor=${encodeURIComponent(c)}`, { token: f.token });
    expectStatus(await get('status=inactive&sort=-number'), 200);
    expectStatus(await get('status=fraud&sort=-number'), 400);
    expectStatus(await get('status=inactive&sort=number'), 400);
    expectStatus(await get(`status=inactive&sort=-number&groupId=${f.groupB}`), 400);
    expectStatus(await get('sort=-number'), 400);
    const [payload, signature] = cursor.split('.');
    const key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const altered = Buffer.from(JSON.stringify({ ...key, SK: `${key.SK}x` })).toString('base64url');
    expectStatus(await get('status=inactive&sort=-number', `${altered}.${signature}`), 400);
  });
});

describe('a PATCH writes only the index entries it changes', () => {
  it('a city-only change writes one transaction: the client item (and the extra item the caller passes), nothing else', async () => {
    const c = await create({ firstName: 'City', lastName: 'Only', company: 'City Only Ltd', email: 'cityonly@example.com', username: 'city-only' });
    const current = (await getClient(companyId, c.id))!;
    const recorder = recordDynamoCalls();
    try {
      await updateClient(companyId, current, { ...current, city: 'York', version: current.version + 1 });
      expect(recorder.calls.map((call) => [call.command, call.itemsWritten, call.partitions])).toEqual([
        ['TransactWriteItemsCommand', 1, [clientPk(companyId, c.id)]],
      ]);
      recorder.reset();
      // Through the API: the same transaction plus its activity entry (in the client's partition).
      expectStatus(await api.staff('PATCH', `/v1/clients/${c.id}`, { city: 'Leeds' }), 200);
      const writes = recorder.calls.filter((call) => call.itemsWritten > 0);
      expect(writes.map((call) => [call.command, call.partitions])).toEqual([
        ['TransactWriteItemsCommand', [clientPk(companyId, c.id), clientPk(companyId, c.id)]],
      ]);
    } finally {
      recorder.stop();
    }
    expect((await getClient(companyId, c.id))!.city).toBe('Leeds');
  });

  it('a new last name deletes and writes only the entries of the lastName order and the lastName term; the rest are untouched', async () => {
    const c = await create({ firstName: 'Lena', lastName: 'Olsen', company: 'Acme Lena', email: 'lena@example.com' });
    const entriesBefore = await indexEntriesOf(c.id);
    const current = (await getClient(companyId, c.id))!;
    const recorder = recordDynamoCalls();
    try {
      await updateClient(companyId, current, { ...current, lastName: 'Olsson', version: current.version + 1 });
      expect(recorder.calls).toHaveLength(1);
      expect(recorder.calls[0].command).toBe('TransactWriteItemsCommand');
      expect([...recorder.calls[0].partitions].sort()).toEqual(
        [
          clientPk(companyId, c.id),
          clientListPk(companyId, 'lastName'),
          clientListPk(companyId, 'lastName'),
          clientSearchPk(companyId),
          clientSearchPk(companyId),
        ].sort(),
      );
    } finally {
      recorder.stop();
    }
    const entriesAfter = await indexEntriesOf(c.id);
    const key = (e: Record<string, unknown>) => `${e.PK}|${e.SK}`;
    const kept = entriesAfter.filter((e) => entriesBefore.some((b) => key(b) === key(e)));
    expect(kept).toHaveLength(entriesBefore.length - 2);
    for (const e of kept) expect(e).toEqual(entriesBefore.find((b) => key(b) === key(e)));
    expect(entriesAfter.some((e) => e.term === 'olsson' && e.field === 'lastName')).toBe(true);
    expect(entriesAfter.some((e) => e.term === 'olsen')).toBe(false);
    // The search still lists the client once, through either of the terms "ol" starts.
    const found = await api.staff('GET', '/v1/clients?q=ol');
    expect(found.body.data.map((x: { id: string }) => x.id).filter((id: string) => id === c.id)).toHaveLength(1);
  });

  it('a unique conflict on a changed email still names the field (the failure index maps to the right item)', async () => {
    const a = await create({ company: 'Owner A', email: 'owner-a@example.com' });
    const b = await create({ company: 'Owner B', email: 'owner-b@example.com' });
    const res = await api.staff('PATCH', `/v1/clients/${b.id}`, { email: 'owner-a@example.com', lastName: 'Zed', firstName: 'Zoe' });
    expectStatus(res, 409);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['email']);
    expect(await ownerOfUnique(companyId, 'email', 'owner-a@example.com')).toBe(a.id);
  });
});
