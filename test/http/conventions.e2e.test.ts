import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimIdempotencyKey, requestFingerprint } from '../../functions/http/idempotency.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { createCompany, startTestApi, type TestApi } from '../support/stack.js';
import { errorPaths, expectProblem } from '../support/platform.js';

let api: TestApi;
let other: Awaited<ReturnType<typeof createCompany>>;

beforeAll(async () => {
  api = await startTestApi();
  other = await createCompany(api, 'Other Co', 'EUR');
});
afterAll(async () => {
  await api.stack.stop();
});

const key = () => `key-${randomBytes(8).toString('hex')}`;

async function listAll(path: string, token = api.facts.staffToken): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await api.call('GET', `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

describe('problem documents', () => {
  it('are application/problem+json with errors[].path naming each bad field', async () => {
    const res = await api.staff('POST', '/v1/client-groups', { color: 'red', description: 5 });
    expectProblem(res, 400);
    expect(res.body.type).toMatch(/^https?:\/\//);
    expect(errorPaths(res)).toEqual(expect.arrayContaining(['name', 'color', 'description']));
    for (const e of res.body.errors) expect(e.message).toEqual(expect.any(String));
  });

  it('name nested fields with dotted paths', async () => {
    const res = await api.staff('POST', '/v1/client-groups', {
      name: 'Nested',
      settings: { paymentDueNotices: { firstNoticeDays: 'soon' }, autoDebitAttempts: 0 },
    });
    expectProblem(res, 400);
    expect(errorPaths(res)).toEqual(expect.arrayContaining(['settings.paymentDueNotices.firstNoticeDays', 'settings.autoDebitAttempts']));
  });

  it('reject unknown JSON fields with 400 naming the field, also nested', async () => {
    const top = await api.staff('POST', '/v1/client-groups', { name: 'X', colour: '#ffffff' });
    expectProblem(top, 400);
    expect(errorPaths(top)).toContain('colour');
    const nested = await api.staff('PATCH', '/v1/settings', { paymentDueNotices: { enabled: true, fourthNoticeDays: 3 } });
    expectProblem(nested, 400);
    expect(errorPaths(nested)).toContain('paymentDueNotices.fourthNoticeDays');
    const bodyless = await api.staff('DELETE', `/v1/client-groups/${other.defaultGroupId}`, { force: true });
    expectProblem(bodyless, 400);
  });

  it('reject malformed JSON with 400', async () => {
    for (const rawBody of ['{"name": ', '{name: "x"}', "{'name':'x'}", '{"name":"x",}', 'NaN']) {
      const res = await api.call('POST', '/v1/client-groups', { token: api.facts.staffToken, rawBody, headers: { 'content-type': 'application/json' } });
      expectProblem(res, 400);
    }
  });

  it('reject a JSON body that is not an object with 400', async () => {
    for (const rawBody of ['[]', '"name"', '42', 'null', 'true']) {
      const res = await api.call('POST', '/v1/client-groups', { token: api.facts.staffToken, rawBody, headers: { 'content-type': 'application/json' } });
      expectProblem(res, 400);
    }
  });

  it('reject strings over 1,000 characters with 400 naming the field', async () => {
    const res = await api.staff('POST', '/v1/client-groups', { name: 'Long', description: 'x'.repeat(1001) });
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('description');
  });

  it('answer a body over 1 MiB with 413', async () => {
    const res = await api.staff('POST', '/v1/client-groups', { name: 'Big', description: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(res, 413);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    // The server is still healthy for the next request.
    expect((await api.call('GET', '/v1/health')).status).toBe(200);
  });

  it('answer a body of exactly 1 MiB with something other than 413 (the limit is "over")', async () => {
    const prefix = '{"name":"Edge","description":"';
    const suffix = '"}';
    const rawBody = prefix + 'x'.repeat(1024 * 1024 - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(rawBody)).toBe(1024 * 1024);
    const res = await api.call('POST', '/v1/client-groups', { token: api.facts.staffToken, rawBody, headers: { 'content-type': 'application/json' } });
    expectProblem(res, 400);
  });

  it('answer an unknown path with a 404 problem and a wrong method with a 405 problem', async () => {
    expectProblem(await api.staff('GET', '/v1/nothing-here'), 404);
    expectProblem(await api.staff('PUT', '/v1/client-groups'), 405);
  });
});

describe('x-request-id', () => {
  it('is on every response: success, 400, 401, 403, 404, 405, 409, 413 and OPTIONS', async () => {
    const responses = await Promise.all([
      api.call('GET', '/v1/health'),
      api.call('GET', '/openapi.json'),
      api.call('GET', '/docs'),
      api.staff('GET', '/v1/settings'),
      api.staff('POST', '/v1/client-groups', { bogus: 1 }),
      api.call('GET', '/v1/settings'),
      api.call('GET', '/v1/companies', { token: api.facts.staffToken }),
      api.staff('GET', '/v1/client-groups/grp_NOPE'),
      api.staff('DELETE', '/v1/settings'),
      api.staff('PATCH', '/v1/settings', { language: 'en' }, { 'if-match': '999999' }),
      api.staff('POST', '/v1/client-groups', { name: 'x'.repeat(1024 * 1024 + 1) }),
      api.call('OPTIONS', '/v1/settings'),
    ]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const [i, id] of ids.entries()) expect(id, `response ${i} (${responses[i].status})`).toBeTruthy();
    expect(new Set(ids).size).toBe(ids.length);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 400, 401, 403, 404, 405, 409, 413, 204]);
  });
});

describe('versions and If-Match', () => {
  it('PATCH /v1/settings: version grows by one; bare and quoted If-Match work; a stale one → 409 and changes nothing', async () => {
    const start = await api.staff('GET', '/v1/settings');
    const v = start.body.version as number;
    expect(v).toBeGreaterThanOrEqual(1);

    const bare = await api.staff('PATCH', '/v1/settings', { language: 'fr' }, { 'if-match': String(v) });
    expect(bare.status).toBe(200);
    expect(bare.body.version).toBe(v + 1);

    const quoted = await api.staff('PATCH', '/v1/settings', { language: 'de' }, { 'if-match': `"${v + 1}"` });
    expect(quoted.status).toBe(200);
    expect(quoted.body.version).toBe(v + 2);

    const stale = await api.staff('PATCH', '/v1/settings', { language: 'es' }, { 'if-match': String(v) });
    expectProblem(stale, 409);
    const staleQuoted = await api.staff('PATCH', '/v1/settings', { language: 'es' }, { 'if-match': `"${v + 1}"` });
    expectProblem(staleQuoted, 409);

    const now = await api.staff('GET', '/v1/settings');
    expect(now.body).toMatchObject({ language: 'de', version: v + 2 });

    const without = await api.staff('PATCH', '/v1/settings', { language: 'en' });
    expect(without.status).toBe(200);
    expect(without.body.version).toBe(v + 3);
  });

  it('PATCH /v1/client-groups/{id}: version starts at 1 and grows by one; bare and quoted If-Match; stale → 409', async () => {
    const created = await api.staff('POST', '/v1/client-groups', { name: 'Versioned' });
    expect(created.status).toBe(201);
    expect(created.body.version).toBe(1);
    const id = created.body.id as string;

    const bare = await api.staff('PATCH', `/v1/client-groups/${id}`, { name: 'V2' }, { 'if-match': '1' });
    expect(bare.status).toBe(200);
    expect(bare.body.version).toBe(2);

    const quoted = await api.staff('PATCH', `/v1/client-groups/${id}`, { name: 'V3' }, { 'if-match': '"2"' });
    expect(quoted.status).toBe(200);
    expect(quoted.body.version).toBe(3);

    expectProblem(await api.staff('PATCH', `/v1/client-groups/${id}`, { name: 'stale' }, { 'if-match': '2' }), 409);
    expectProblem(await api.staff('PATCH', `/v1/client-groups/${id}`, { name: 'stale' }, { 'if-match': '"1"' }), 409);
    expectProblem(await api.staff('PATCH', `/v1/client-groups/${id}`, { name: 'future' }, { 'if-match': '4' }), 409);

    const read = await api.staff('GET', `/v1/client-groups/${id}`);
    expect(read.body).toMatchObject({ name: 'V3', version: 3 });
  });

  it('grows the version by exactly one per change even for many sequential changes', async () => {
    const created = await api.staff('POST', '/v1/client-groups', { name: 'Counter' });
    for (let i = 1; i <= 5; i++) {
      const res = await api.staff('PATCH', `/v1/client-groups/${created.body.id}`, { description: `change ${i}` }, { 'if-match': String(i) });
      expect(res.body.version).toBe(i + 1);
    }
  });

  it('lets only one of two PATCHes with the same If-Match win', async () => {
    const created = await api.staff('POST', '/v1/client-groups', { name: 'Race' });
    const [a, b] = await Promise.all([
      api.staff('PATCH', `/v1/client-groups/${created.body.id}`, { name: 'A' }, { 'if-match': '1' }),
      api.staff('PATCH', `/v1/client-groups/${created.body.id}`, { name: 'B' }, { 'if-match': '1' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const read = await api.staff('GET', `/v1/client-groups/${created.body.id}`);
    expect(read.body.version).toBe(2);
  });
});

describe('cursor pagination', () => {
  let allIds: string[];
  let firstCursor: string;

  beforeAll(async () => {
    for (let i = 0; i < 30; i++) {
      const res = await api.staff('POST', '/v1/client-groups', { name: `Page group ${i}` });
      expect(res.status).toBe(201);
    }
    allIds = (await listAll('/v1/client-groups')).map((g) => g.id);
    expect(allIds.length).toBeGreaterThanOrEqual(31);
    // Two clients, so the client lists below have a second page whichever test runs first.
    for (let i = 0; i < 2; i++) expect((await api.staff('POST', '/v1/clients', { company: `Cursor client ${i}` })).status).toBe(201);
    // The cursor the tests below alter or move to other lists, made here so each of them runs on its own.
    firstCursor = (await api.staff('GET', '/v1/client-groups?limit=7')).body.nextCursor;
  });

  it('pages through every group exactly once with limit=7', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let firstPageCursor: string | null = null;
    do {
      const res: any = await api.staff('GET', `/v1/client-groups?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(7);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
      seen.push(...res.body.data.map((g: { id: string }) => g.id));
      if (pages === 0) firstPageCursor = res.body.nextCursor;
      cursor = res.body.nextCursor;
      pages++;
      expect(pages).toBeLessThan(50);
    } while (cursor);
    expect(seen.length).toBe(new Set(seen).size);
    expect(new Set(seen)).toEqual(new Set(allIds));
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(allIds.length / 7));
    expect(firstPageCursor).toEqual(expect.any(String));
  });

  it('uses the default limit of 25', async () => {
    const res = await api.staff('GET', '/v1/client-groups');
    expect(res.body.data.length).toBe(25);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it('rejects an altered cursor with 400 naming cursor', async () => {
    const [payload, signature] = firstCursor.split('.');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const rewritten = Buffer.from(JSON.stringify({ ...decoded, SK: 'GROUP#' })).toString('base64url');
    for (const altered of [
      `${flip(payload, 3)}.${signature}`,
      `${payload}.${flip(signature, 5)}`,
      `${rewritten}.${signature}`,
      payload,
      `${firstCursor}.x`,
      'garbage',
      `${payload}.`,
    ]) {
      const res = await api.staff('GET', `/v1/client-groups?limit=7&cursor=${encodeURIComponent(altered)}`);
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('cursor');
    }
  });

  it('rejects a cursor from another list with 400', async () => {
    const clients = await api.staff('GET', '/v1/clients?limit=1');
    expect(clients.body.nextCursor).toEqual(expect.any(String));
    const res = await api.staff('GET', `/v1/client-groups?limit=7&cursor=${encodeURIComponent(clients.body.nextCursor)}`);
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('cursor');
    // …and the other way round.
    expectProblem(await api.staff('GET', `/v1/clients?limit=1&cursor=${encodeURIComponent(firstCursor)}`), 400);
  });

  it('rejects a cursor of the same list with other filters with 400', async () => {
    const sorted = await api.staff('GET', '/v1/clients?limit=1&sort=-number');
    expect(sorted.body.nextCursor).toEqual(expect.any(String));
    expectProblem(await api.staff('GET', `/v1/clients?limit=1&cursor=${encodeURIComponent(sorted.body.nextCursor)}`), 400);
  });

  it("rejects another company's cursor with 400", async () => {
    for (let i = 0; i < 2; i++)
      expect((await api.call('POST', '/v1/client-groups', { token: other.staffToken, body: { name: `B group ${i}` } })).status).toBe(201);
    const theirs = await api.call('GET', '/v1/client-groups?limit=1', { token: other.staffToken });
    expect(theirs.body.nextCursor).toEqual(expect.any(String));
    const res = await api.staff('GET', `/v1/client-groups?limit=1&cursor=${encodeURIComponent(theirs.body.nextCursor)}`);
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('cursor');
    // Ours is refused in their company too.
    expectProblem(await api.call('GET', `/v1/client-groups?limit=7&cursor=${encodeURIComponent(firstCursor)}`, { token: other.staffToken }), 400);
  });

  it.each(['0', '101', 'abc', '-1', '1.5', ''])('rejects limit=%s with 400 naming limit', async (limit) => {
    const res = await api.staff('GET', `/v1/client-groups?limit=${encodeURIComponent(limit)}`);
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('limit');
  });

  it('accepts limit 1 and 100', async () => {
    expect((await api.staff('GET', '/v1/client-groups?limit=1')).body.data.length).toBe(1);
    expect((await api.staff('GET', '/v1/client-groups?limit=100')).status).toBe(200);
  });

  it('rejects unknown query parameters or accepts them without effect, never 5xx', async () => {
    const res = await api.staff('GET', '/v1/client-groups?limit=2&bogus=1');
    if (res.status === 200) expect(res.body).toEqual((await api.staff('GET', '/v1/client-groups?limit=2')).body);
    else expectProblem(res, 400);
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and body, with idempotent-replayed, creating nothing twice', async () => {
    const k = key();
    const before = (await listAll('/v1/client-groups')).length;
    const first = await api.staff('POST', '/v1/client-groups', { name: 'Idem', color: '#112233' }, { 'idempotency-key': k });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The same body with keys in another order is the same request.
    const second = await api.staff('POST', '/v1/client-groups', { color: '#112233', name: 'Idem' }, { 'idempotency-key': k });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('x-request-id')).toBeTruthy();
    const third = await api.staff('POST', '/v1/client-groups', { name: 'Idem', color: '#112233' }, { 'idempotency-key': k });
    expect(third.body).toEqual(first.body);
    expect((await listAll('/v1/client-groups')).length).toBe(before + 1);
  });

  it('replays without acting again: a second run would now conflict on the client number, the replay does not', async () => {
    const k = key();
    const number = 900_000 + Math.floor(Math.random() * 1000);
    const first = await api.staff('POST', '/v1/clients', { company: 'Numbered', number }, { 'idempotency-key': k });
    expect(first.status).toBe(201);
    const dup = await api.staff('POST', '/v1/clients', { company: 'Numbered again', number }, { 'idempotency-key': key() });
    expectProblem(dup, 409);
    const replay = await api.staff('POST', '/v1/clients', { company: 'Numbered', number }, { 'idempotency-key': k });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
  });

  it('answers the same key with a different body with 422', async () => {
    const k = key();
    expect((await api.staff('POST', '/v1/client-groups', { name: 'Body A' }, { 'idempotency-key': k })).status).toBe(201);
    const res = await api.staff('POST', '/v1/client-groups', { name: 'Body B' }, { 'idempotency-key': k });
    expectProblem(res, 422);
  });

  it('answers the same key on a different path with 422', async () => {
    const k = key();
    expect((await api.staff('POST', '/v1/client-groups', { name: 'Path A' }, { 'idempotency-key': k })).status).toBe(201);
    const res = await api.staff('POST', '/v1/clients', { name: 'Path A' }, { 'idempotency-key': k });
    // An invalid body is a 400 before any key is looked at; a valid one on another path is a 422.
    expectProblem(res, 400);
    expectProblem(await api.staff('POST', '/v1/clients', { company: 'Path A' }, { 'idempotency-key': k }), 422);
  });

  it('scopes keys to the company: the same key and body in two companies acts in each', async () => {
    const k = key();
    const a = await api.staff('POST', '/v1/client-groups', { name: 'Scoped' }, { 'idempotency-key': k });
    const b = await api.call('POST', '/v1/client-groups', { token: other.staffToken, body: { name: 'Scoped' }, headers: { 'idempotency-key': k } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    expect((await api.call('GET', `/v1/client-groups/${b.body.id}`, { token: other.staffToken })).status).toBe(200);
    expect((await api.staff('GET', `/v1/client-groups/${b.body.id}`)).status).toBe(404);
  });

  it('answers a key whose first request is still in flight with 409, and acts once it is released', async () => {
    const k = key();
    const body = { name: 'In flight' };
    const claim = await claimIdempotencyKey(api.facts.companyId, k, await requestFingerprint('POST', '/v1/client-groups', body));
    expect(claim.kind).toBe('acquired');
    const res = await api.staff('POST', '/v1/client-groups', body, { 'idempotency-key': k });
    expectProblem(res, 409);
    // Not a conflict of data: the caller is told when to ask again for the first request's answer.
    expect(res.body.code).toBe('idempotency_in_progress');
    expect(res.headers.get('retry-after')).toBe('1');
    if (claim.kind === 'acquired') await claim.release();
    expect((await api.staff('POST', '/v1/client-groups', body, { 'idempotency-key': k })).status).toBe(201);
  });

  it('lets only one of two concurrent requests with the same key act', async () => {
    const k = key();
    const before = (await listAll('/v1/client-groups')).length;
    const results = await Promise.all([0, 1, 2].map(() => api.staff('POST', '/v1/client-groups', { name: 'Concurrent' }, { 'idempotency-key': k })));
    for (const r of results) expect([201, 409]).toContain(r.status);
    const created = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(created.size).toBe(1);
    expect((await listAll('/v1/client-groups')).length).toBe(before + 1);
  });

  it('rejects a key over 255 characters with 400', async () => {
    expectProblem(await api.staff('POST', '/v1/client-groups', { name: 'Long key' }, { 'idempotency-key': 'k'.repeat(256) }), 400);
    expect(
      (
        await api.staff(
          'POST',
          '/v1/client-groups',
          { name: 'Max key' },
          { 'idempotency-key': `${'k'.repeat(240)}${randomBytes(7).toString('hex').slice(0, 15)}` },
        )
      ).status,
    ).toBe(201);
  });
});

describe('OpenAPI and docs', () => {
  it('GET /openapi.json is an OpenAPI 3.1 document with every route of the route table', async () => {
    const res = await api.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const missing = allRoutes.filter((r) => !res.body.paths?.[r.path]?.[r.method.toLowerCase()]);
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const documented = Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.length).toBe(allRoutes.length);
    const ids = documented.map((d) => {
      const [m, p] = d.split(' ');
      return res.body.paths[p][m.toLowerCase()].operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents path parameters, request bodies and bearer security from the same schemas', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body;
    for (const r of allRoutes) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      for (const name of (r.path.match(/\{(\w+)\}/g) ?? []).map((n) => n.slice(1, -1))) {
        expect(op.parameters, `${r.method} ${r.path}`).toEqual(expect.arrayContaining([expect.objectContaining({ name, in: 'path', required: true })]));
      }
      if (r.body) expect(op.requestBody?.content?.['application/json']?.schema, `${r.method} ${r.path}`).toBeTruthy();
      expect(op.security, `${r.method} ${r.path}`).toEqual(r.access === 'public' ? [] : [{ bearerAuth: [] }]);
    }
    expect(doc.paths['/v1/client-groups'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('name');
  });

  it('GET /docs is an HTML page that renders /openapi.json with a script of this API and nothing from elsewhere', async () => {
    const res = await api.call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toMatch(/^<!doctype html>/i);
    expect(res.text).toContain('spec-url="openapi.json"');
    expect(res.text).toContain('<script src="docs/redoc.standalone.js"></script>');
    expect(res.text).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});
