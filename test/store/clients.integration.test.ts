import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { readProfile } from '../../functions/clients/client-view.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { ownerOfUnique, readProfileView } from '../../functions/store/clients.js';
import { clientListPk, clientPk, clientSearchPk, groupMemberPk, profileViewBalance, uniquePk, uniqueSk } from '../../functions/store/keys.js';
import type { Principal } from '../../functions/http/route.js';
import { useTestClockForThisTest } from '../support/clock.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

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
