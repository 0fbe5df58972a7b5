import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/http/route-table.js';
import { routeKey, type AnyRoute } from '../../functions/http/route.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
import { createClientWithLogin, errorPaths, rawRequest } from '../support/platform.js';

/**
 * Every route of the route table (generated) gets malformed input of every kind; no response may be a 5xx, and
 * every error must be a problem document.
 */

let api: TestApi;
interface Fixtures {
  ids: Record<string, string>;
  clientAuth: { clientId: string; clientToken: string };
}
/** The objects the probes name: shared by the routes that cannot remove them, made afresh for those that can. */
let shared: Fixtures;
let ids: Record<string, string>;
let clientAuth: { clientId: string; clientToken: string };

async function makeFixtures(): Promise<Fixtures> {
  const staff = (method: string, path: string, body: unknown) => api.call(method, path, { token: api.facts.staffToken, body });
  const group = (await staff('POST', '/v1/client-groups', { name: `Malformed group ${randomBytes(3).toString('hex')}` })).body.id;
  const auth = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken, { groupId: group });
  const client = auth.clientId;
  const contact = (await staff('POST', `/v1/clients/${client}/contacts`, { type: 'billing', firstName: 'A', lastName: 'B', email: 'ab@example.com' })).body.id;
  const note = (await staff('POST', `/v1/clients/${client}/notes`, { summary: 'n' })).body.id;
  return { ids: { 'client-groups': group, clients: client, contacts: contact, notes: note }, clientAuth: auth };
}

/** A delete, or a merge (which deletes its source), may remove what it names. */
const mayRemove = (route: AnyRoute) => route.method === 'DELETE' || route.path.endsWith('/merge');

beforeAll(async () => {
  api = await startTestApi();
  shared = await makeFixtures();
});
afterAll(async () => {
  await api.stack.stop();
});

/** Real ids where the collection is known (so handlers are reached), else a made-up one. */
function fillPath(route: AnyRoute, override?: string): string {
  const segments = route.path.split('/');
  return segments
    .map((s, i) => (/^\{\w+\}$/.test(s) ? (override ?? encodeURIComponent(ids[segments[i - 1]] ?? `x_${randomBytes(6).toString('hex')}`)) : s))
    .join('/');
}

function tokensFor(route: AnyRoute): Array<{ who: string; token?: string }> {
  if (route.access === 'public') return [{ who: 'anonymous' }];
  const out: Array<{ who: string; token?: string }> = [];
  if (route.access.includes('staff')) out.push({ who: 'staff', token: api.facts.staffToken });
  if (route.access.includes('operator')) out.push({ who: 'operator', token: api.facts.operatorToken });
  if (route.access.includes('client')) out.push({ who: 'client', token: clientAuth.clientToken });
  return out;
}

interface Probe {
  label: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  /** When set, the response must be exactly this status with an error naming the field. */
  expect?: { status: number; field?: string };
}

function jsonTypes(schema: any): Set<string> | 'any' {
  if (!schema || typeof schema !== 'object') return 'any';
  const types = new Set<string>();
  const add = (t: string) => types.add(t === 'integer' ? 'number' : t);
  if (typeof schema.type === 'string') add(schema.type);
  if (Array.isArray(schema.type)) schema.type.forEach(add);
  if ('const' in schema) add(schema.const === null ? 'null' : typeof schema.const);
  if (Array.isArray(schema.enum)) for (const v of schema.enum) add(v === null ? 'null' : typeof v);
  for (const k of ['anyOf', 'oneOf']) {
    if (!Array.isArray(schema[k])) continue;
    for (const sub of schema[k]) {
      const t = jsonTypes(sub);
      if (t === 'any') return 'any';
      t.forEach(add);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) return jsonTypes(schema.allOf[0]);
  return types.size ? types : 'any';
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const WRONG_VALUES: unknown[] = [12345, 'wrong type', true, [1, 'x', { y: null }], { junk: { deeper: [1] } }, null];
const LONG = 'x'.repeat(10_000);
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

function bodyProbes(route: AnyRoute): Probe[] {
  const probes: Probe[] = [
    { label: 'invalid JSON', body: '{"a": ', expect: { status: 400 } },
    { label: 'truncated JSON', body: '{"name":"x"', expect: { status: 400 } },
    { label: 'a JSON array', body: '[1, "two", {"three": 3}]', expect: { status: 400 } },
    { label: 'a JSON string', body: '"just a string"', expect: { status: 400 } },
    { label: 'a JSON number', body: '42', expect: { status: 400 } },
    { label: 'JSON null', body: 'null' },
    { label: 'deeply nested arrays', body: deepArray(100_000), expect: { status: 400 } },
    { label: 'deeply nested objects', body: deepObject(20_000), expect: { status: 400 } },
    { label: 'binary junk', body: '\u0000\u0001\uFFFD\uD800', expect: { status: 400 } },
    { label: 'an unknown field', body: JSON.stringify({ [`zz_${randomBytes(3).toString('hex')}`]: 1 }), expect: { status: 400 } },
    { label: '__proto__ pollution', body: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}' },
  ];
  if (!route.body) return probes;
  const schema = z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
  for (const [prop, propSchema] of Object.entries(schema.properties ?? {})) {
    const allowed = jsonTypes(propSchema);
    if (allowed !== 'any') {
      for (const value of WRONG_VALUES.filter((v) => !allowed.has(typeOf(v)))) {
        probes.push({ label: `${prop} = ${JSON.stringify(value)}`, body: JSON.stringify({ [prop]: value }), expect: { status: 400, field: prop } });
      }
    }
    probes.push({ label: `${prop} = 10,000 characters`, body: JSON.stringify({ [prop]: LONG }) });
    probes.push({ label: `${prop} = deep nesting`, body: `{${JSON.stringify(prop)}: ${deepArray(5_000)}}` });
    probes.push({
      label: `${prop} = a 2,000-key object`,
      body: JSON.stringify({ [prop]: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i])) }),
    });
  }
  return probes;
}

function otherProbes(route: AnyRoute): Probe[] {
  const base = fillPath(route);
  const probes: Probe[] = [
    {
      label: 'limit=-1',
      path: `${base}?limit=-1`,
      ...(route.query && 'shape' in route.query && 'limit' in (route.query as z.ZodObject).shape ? { expect: { status: 400, field: 'limit' } } : {}),
    },
    { label: 'cursor=%00%ff', path: `${base}?cursor=%00%ff` },
    { label: 'limit=abc&limit=2', path: `${base}?limit=abc&limit=2` },
    // One long value per request: a URL over Node's 16 KiB header limit is refused by the HTTP parser itself.
    ...['q', 'cursor', 'status', 'sort', 'limit', 'groupId'].map((name) => ({ label: `${name} = 10,000 characters`, path: `${base}?${name}=${LONG}` })),
    { label: 'an invalid percent-escape in the query', path: `${base}?cursor=%E0%A4%A&limit=%zz` },
    { label: 'a 10,000-character Idempotency-Key', headers: { 'idempotency-key': LONG } },
    { label: 'a 10,000-character If-Match', headers: { 'if-match': LONG } },
    { label: 'a junk If-Match', headers: { 'if-match': '"abc", W/"1"' } },
    { label: 'a non-JSON content type', headers: { 'content-type': 'application/octet-stream' }, body: '\u00ff\u00fe\u0000' },
  ];
  if (/\{\w+\}/.test(route.path)) {
    const weird = [
      '%2e%2e',
      '..',
      '%2E%2E%2F%2E%2E',
      'x'.repeat(300),
      '%CE%A9%F0%9F%92%A5%E2%80%AE',
      '%ff',
      '%00',
      '%C0%AF',
      '%25',
      '%20',
      '%2F',
      encodeURIComponent('💥'.repeat(60)),
      'cl_%27%20OR%201%3D1--',
      '__proto__',
      'constructor',
    ];
    for (const id of weird) probes.push({ label: `path id ${id.length > 40 ? `${id.slice(0, 20)}… (${id.length} chars)` : id}`, path: fillPath(route, id) });
  }
  return probes;
}

async function send(route: AnyRoute, probe: Probe, token?: string): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...probe.headers };
  return rawRequest(api.url, route.method, probe.path ?? fillPath(route), { headers, body: probe.body });
}

function check(route: AnyRoute, who: string, probe: Probe, res: ApiResponse): string[] {
  const label = `${routeKey(route)} as ${who}, ${probe.label}: ${res.status} ${res.text.slice(0, 160)}`;
  const failures: string[] = [];
  if (res.status >= 500) failures.push(`5xx — ${label}`);
  if (!res.headers.get('x-request-id')) failures.push(`no x-request-id — ${label}`);
  if (res.status >= 400) {
    if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) failures.push(`not a problem document — ${label}`);
    else if (res.body?.status !== res.status || typeof res.body?.title !== 'string' || typeof res.body?.type !== 'string')
      failures.push(`bad problem body — ${label}`);
  }
  if (probe.expect) {
    if (res.status !== probe.expect.status) failures.push(`expected ${probe.expect.status} — ${label}`);
    else if (probe.expect.field && !errorPaths(res).some((p) => p === probe.expect!.field || p.startsWith(`${probe.expect!.field}.`)))
      failures.push(`errors do not name ${probe.expect.field} — ${label}`);
  }
  return failures;
}

describe('malformed input never gets a 5xx', () => {
  // In any order: a route that may remove the objects it names gets objects of its own.
  it.each(allRoutes.map((r) => [routeKey(r), r] as const))('%s', async (_key, route) => {
    ({ ids, clientAuth } = mayRemove(route) ? await makeFixtures() : shared);
    const failures: string[] = [];
    for (const { who, token } of tokensFor(route)) {
      const probes = [...bodyProbes(route), ...otherProbes(route)];
      for (let i = 0; i < probes.length; i += 8) {
        const batch = probes.slice(i, i + 8);
        const responses = await Promise.all(batch.map((p) => send(route, p, token)));
        batch.forEach((p, j) => {
          failures.push(...check(route, who, p, responses[j]));
        });
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // Still serving.
    expect((await api.call('GET', '/v1/health')).status).toBe(200);
  });
});
