import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

/**
 * Browse and search over ~40 clients with overlapping names: `q` is a case- and accent-insensitive prefix over
 * first name, last name, company, email and number; every client shows exactly once across pages; filters
 * combine with `q`; each sort is exact across pages.
 */
interface Row {
  id: string;
  number: number;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  email: string | null;
  status: 'active' | 'inactive' | 'fraud';
  groupId: string;
  createdAt: string;
}

let api: TestApi;
let groupId: string;
let defaultGroupId: string;
let rows: Row[] = [];

const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();

const FIRST = ['Anna', 'Annabel', 'Andrew', 'Émile', 'Emil', 'emily', 'Bob', 'Ann'];
const LAST = ['Andersen', 'Anderson', 'Smith', 'Annan', 'Émery', 'Smithers', 'anders'];
const COMPANY = ['Anchor Ltd', 'Annex Corp', 'Smithy Works', null, 'Émeraude SA', 'Bobcat Inc'];

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

function matches(r: Row, q: string): boolean {
  const wanted = fold(q);
  return [r.firstName, r.lastName, r.company, r.email, String(r.number)].some((v) => v !== null && fold(v).startsWith(wanted));
}

/** Every page of a list at the given limit; checks page sizes and that no client repeats. */
async function walk(query: string, limit = 5): Promise<Row[]> {
  const out: Row[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const sep = query ? '&' : '';
    const res: ApiResponse = await api.staff('GET', `/v1/clients?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expectStatus(res, 200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    if (res.body.nextCursor) expect(res.body.data.length).toBe(limit);
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  expect(cursor).toBeNull();
  const ids = out.map((r) => r.id);
  expect(new Set(ids).size, `a client repeats in ${query}`).toBe(ids.length);
  return out;
}

const idsOf = (list: Row[]) => list.map((r) => r.id).sort();

beforeAll(async () => {
  api = await startTestApi();
  const groups = await api.staff('GET', '/v1/client-groups');
  defaultGroupId = groups.body.data.find((g: { isDefault: boolean }) => g.isDefault).id;
  const group = await api.staff('POST', '/v1/client-groups', { name: 'Search Group' });
  groupId = group.body.id;

  for (let i = 0; i < 40; i++) {
    const companyOnly = i % 9 === 0;
    const first = companyOnly ? null : FIRST[i % FIRST.length];
    const last = companyOnly ? null : LAST[(i * 3) % LAST.length];
    const company = companyOnly ? 'Anvil Partners' : COMPANY[(i * 5) % COMPANY.length];
    const local = i % 5 === 0 ? `an${i}` : `${fold(first ?? company!).replace(/[^a-z]/g, '')}.${fold(last ?? 'co').replace(/[^a-z]/g, '')}${i}`;
    const email = i % 11 === 4 ? null : `${local}@${i % 2 ? 'annmail' : 'mail'}.example`;
    const res = await api.staff('POST', '/v1/clients', { firstName: first, lastName: last, company, email, groupId: i % 3 === 0 ? groupId : undefined });
    expectStatus(res, 201);
    rows.push(res.body);
  }
  for (const [i, r] of rows.entries()) {
    const status = i % 7 === 3 ? 'fraud' : i % 4 === 1 ? 'inactive' : null;
    if (status) {
      const res = await api.staff('POST', `/v1/clients/${r.id}/status`, { status });
      expectStatus(res, 200);
    }
  }
  const list = await walk('', 100);
  rows = list;
  expect(rows).toHaveLength(40);
}, 120_000);

afterAll(async () => {
  await api?.stack.stop();
});

describe('q: prefix search', () => {
  const queries = [
    'an',
    'AN',
    'Ann',
    'anna',
    'anders',
    'andersen',
    'ANDERSON',
    'smith',
    'Smithy',
    'émi',
    'EMI',
    'emi',
    'Émery',
    'emer',
    'bob',
    'anvil',
    'an0@',
    'anna.annan',
    'mail',
    '1',
    '2',
    '40',
    'zzz',
  ];
  for (const q of queries) {
    it(`q=${q} returns each matching client exactly once across pages of 5`, async () => {
      const expected = rows.filter((r) => matches(r, q));
      const found = await walk(`q=${encodeURIComponent(q)}`);
      expect(idsOf(found)).toEqual(idsOf(expected));
    });
  }

  it('finds clients through several fields at once only once (first, last, company and email all match)', async () => {
    const multi = rows.filter((r) => [r.firstName, r.lastName, r.company, r.email].filter((v) => v && fold(v).startsWith('an')).length >= 3);
    expect(multi.length).toBeGreaterThan(3);
    for (const limit of [1, 2, 5, 7]) {
      const found = await walk('q=an', limit);
      expect(idsOf(found)).toEqual(idsOf(rows.filter((r) => matches(r, 'an'))));
    }
  });

  it('folds case and accents the same way on both sides', async () => {
    const a = idsOf(await walk('q=emi'));
    const b = idsOf(await walk(`q=${encodeURIComponent('ÉMI')}`));
    const c = idsOf(await walk(`q=${encodeURIComponent('Emi')}`));
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(a.length).toBeGreaterThan(5);
    // Both "Émile" and "Emil" are in there.
    const names = new Set(rows.filter((r) => a.includes(r.id)).map((r) => r.firstName));
    expect(names).toContain('Émile');
    expect(names).toContain('Emil');
    expect(names).toContain('emily');
  });

  it('matches the start of a field only, not the middle', async () => {
    const found = await walk('q=ersen');
    expect(found).toEqual([]);
    const corp = await walk('q=corp');
    expect(corp).toEqual([]);
  });

  it('matches a client number by its leading digits', async () => {
    const target = rows.find((r) => r.number >= 10)!;
    const found = await walk(`q=${target.number}`);
    expect(found.map((r) => r.id)).toContain(target.id);
    expect(idsOf(found)).toEqual(idsOf(rows.filter((r) => matches(r, String(target.number)))));
  });

  it('an empty or blank q is a plain browse', async () => {
    expect(idsOf(await walk('q='))).toEqual(idsOf(rows));
    expect(idsOf(await walk('q=%20%20'))).toEqual(idsOf(rows));
    // A q that folds to nothing (a lone combining accent) matches everyone, once.
    expect(idsOf(await walk('q=%CC%81'))).toEqual(idsOf(rows));
  });

  it('odd characters are searched for literally, never a 500', async () => {
    for (const q of ['%', '_', '*', '"', "'", '\\', '#', '|', '\u0001', '😀', 'an%00']) {
      const res = await api.staff('GET', `/v1/clients?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(200);
      expect(res.body.data, q).toEqual([]);
    }
  });

  it('rejects a q over 200 characters', async () => {
    expectStatus(await api.staff('GET', `/v1/clients?q=${'a'.repeat(201)}`), 400);
  });
});

describe('group embedded in each item', () => {
  it('every listed and searched client carries its group as { id, name }', async () => {
    const names = new Map([
      [groupId, 'Search Group'],
      [defaultGroupId, (await api.staff('GET', `/v1/client-groups/${defaultGroupId}`)).body.name],
    ]);
    for (const query of ['', 'q=an']) {
      const listed = await walk(query, 100);
      expect(listed.length).toBeGreaterThan(0);
      for (const row of listed as Array<Row & { group: unknown }>) expect(row.group).toEqual({ id: row.groupId, name: names.get(row.groupId) });
    }
    expect(rows.some((r) => r.groupId === groupId)).toBe(true);
  });
});

describe('filters', () => {
  it('status and groupId filter a browse', async () => {
    for (const status of ['active', 'inactive', 'fraud'] as const) {
      const found = await walk(`status=${status}`);
      expect(idsOf(found)).toEqual(idsOf(rows.filter((r) => r.status === status)));
      expect(found.every((r) => r.status === status)).toBe(true);
    }
    expect(idsOf(await walk(`groupId=${groupId}`))).toEqual(idsOf(rows.filter((r) => r.groupId === groupId)));
    expect(idsOf(await walk(`groupId=${defaultGroupId}&status=inactive`))).toEqual(
      idsOf(rows.filter((r) => r.groupId === defaultGroupId && r.status === 'inactive')),
    );
    expect(await walk('groupId=grp_unknown')).toEqual([]);
  });

  it('combine with q', async () => {
    for (const q of ['an', 'emi', 'smith']) {
      for (const status of ['active', 'inactive', 'fraud'] as const) {
        const found = await walk(`q=${q}&status=${status}`);
        expect(idsOf(found), `${q} ${status}`).toEqual(idsOf(rows.filter((r) => matches(r, q) && r.status === status)));
      }
      expect(idsOf(await walk(`q=${q}&groupId=${groupId}`))).toEqual(idsOf(rows.filter((r) => matches(r, q) && r.groupId === groupId)));
      expect(idsOf(await walk(`q=${q}&groupId=${groupId}&status=active`))).toEqual(
        idsOf(rows.filter((r) => matches(r, q) && r.groupId === groupId && r.status === 'active')),
      );
    }
    // Sanity: the combinations are not trivially empty.
    expect(rows.filter((r) => matches(r, 'an') && r.groupId === groupId && r.status === 'active').length).toBeGreaterThan(0);
    expect(rows.filter((r) => matches(r, 'an') && r.status === 'inactive').length).toBeGreaterThan(0);
  });

  it('a cursor belongs to its filters: reusing it with other filters → 400', async () => {
    const page = await api.staff('GET', '/v1/clients?q=an&limit=5');
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const cursor = encodeURIComponent(page.body.nextCursor);
    expectStatus(await api.staff('GET', `/v1/clients?q=an&limit=5&cursor=${cursor}`), 200);
    expectStatus(await api.staff('GET', `/v1/clients?q=ann&limit=5&cursor=${cursor}`), 400);
    expectStatus(await api.staff('GET', `/v1/clients?q=an&status=active&limit=5&cursor=${cursor}`), 400);
    expectStatus(await api.staff('GET', `/v1/clients?limit=5&cursor=${cursor}`), 400);
  });
});

describe('sorts', () => {
  const byKey = (key: (r: Row) => string) => (a: Row, b: Row) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
  const expectedOrder: Record<string, (list: Row[]) => Row[]> = {
    number: (l) => [...l].sort((a, b) => a.number - b.number),
    '-number': (l) => [...l].sort((a, b) => b.number - a.number),
    lastName: (l) => [...l].sort(byKey((r) => fold(r.lastName ?? ''))),
    company: (l) => [...l].sort(byKey((r) => fold(r.company ?? ''))),
    createdAt: (l) => [...l].sort(byKey((r) => r.createdAt)),
    '-createdAt': (l) => [...l].sort(byKey((r) => r.createdAt)).reverse(),
  };

  for (const sort of Object.keys(expectedOrder)) {
    it(`sort=${sort} is exact across pages of 5`, async () => {
      const found = await walk(`sort=${encodeURIComponent(sort)}`);
      expect(found.map((r) => r.id)).toEqual(expectedOrder[sort](rows).map((r) => r.id));
    });

    it(`sort=${sort} combines with status and groupId`, async () => {
      const found = await walk(`sort=${encodeURIComponent(sort)}&status=active&groupId=${groupId}`);
      expect(found.map((r) => r.id)).toEqual(expectedOrder[sort](rows.filter((r) => r.status === 'active' && r.groupId === groupId)).map((r) => r.id));
    });
  }

  it('number is the default sort', async () => {
    const found = await walk('');
    expect(found.map((r) => r.number)).toEqual([...rows].map((r) => r.number).sort((a, b) => a - b));
  });
});

describe('the indexes follow changes', () => {
  it('a rename, a status change, a group move and a delete show at once in search, filters and sorts', async () => {
    const target = rows.find((r) => r.lastName === 'Smith')!;
    expect(target).toBeDefined();
    const patched = await api.staff('PATCH', `/v1/clients/${target.id}`, { lastName: 'Zuñiga', groupId });
    expectStatus(patched, 200);
    expect((await walk('q=smith')).map((r) => r.id)).not.toContain(target.id);
    expect((await walk('q=zun')).map((r) => r.id)).toEqual([target.id]);
    const byLast = await walk('sort=lastName');
    expect(byLast[byLast.length - 1].id).toBe(target.id);
    expect((await walk(`groupId=${groupId}`)).map((r) => r.id)).toContain(target.id);

    expectStatus(await api.staff('POST', `/v1/clients/${target.id}/status`, { status: 'fraud' }), 200);
    expect((await walk('q=zun&status=fraud')).map((r) => r.id)).toEqual([target.id]);
    expect(await walk('q=zun&status=active')).toEqual([]);

    expectStatus(await api.staff('DELETE', `/v1/clients/${target.id}`), 204);
    expect(await walk('q=zun')).toEqual([]);
    for (const sort of ['number', 'lastName', 'company', 'createdAt']) expect((await walk(`sort=${sort}`, 100)).map((r) => r.id)).not.toContain(target.id);
    rows = rows.filter((r) => r.id !== target.id);
  });
});
