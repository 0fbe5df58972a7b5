import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import { EMAIL_TEMPLATE_NAMES } from '../../functions/domain/email/templates.js';
import { declaredResponses } from '../../functions/http/openapi.js';
import { MAX_BODY_BYTES } from '../../functions/http/pipeline.js';
import { routeKey, type AnyRoute } from '../../functions/http/route.js';
import { allRoutes } from '../../functions/http/route-table.js';

/**
 * The request fuzzer of `test/http/fuzz.e2e.test.ts` and `npm run bench:fuzz`: fast-check generates requests for
 * every route of the route table (its method and path template, its query and body schemas, its access), so a new
 * route is fuzzed as soon as it is in the table. Path ids are the company's real objects as often as junk, so the
 * handlers' deeper paths are reached, not only validation.
 *
 * The property (`judge`): never a 5xx, every 4xx a problem document whose `status` is the HTTP status, and an
 * `x-request-id` on every answer.
 */

export interface FuzzRequest {
  /** The route the request was generated for (`null` for a path outside the table). */
  route: string | null;
  method: string;
  /** Sent byte for byte. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** The objects and tokens requests name: the company's own (several kinds), another company's, and junk. */
export interface FuzzWorld {
  /** Path collection (`clients`, `invoices`, …) → real ids of the seeded company. */
  own: Record<string, string[]>;
  /** The same collections in another company. */
  foreign: Record<string, string[]>;
  tokens: { staff: string; client: string; operator: string; foreignStaff: string; foreignClient: string };
  /** Real cursors of a few lists (another list's cursor is junk to a route). */
  cursors: string[];
  /** routeKey → a body the route took when the objects were made: near-valid bodies are made from it too. */
  samples: Record<string, unknown>;
}

// ───────────────────────────── sending ─────────────────────────────

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One request over node:http (fetch would normalise `%2e%2e` and refuse a GET body). */
export function sendRaw(baseUrl: string, request: FuzzRequest): Promise<FuzzResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        agent,
        headers: { ...request.headers, ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** What is wrong with an answer, or null: a 5xx, a 4xx that is not a problem document of its status, no request id. */
export function judge(res: FuzzResponse): string | null {
  if (res.status >= 500) return `a ${res.status}`;
  if (!res.headers.get('x-request-id')) return 'no x-request-id';
  if (res.status < 400) return null;
  if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) return `a ${res.status} that is not a problem document`;
  let problem: { status?: unknown; title?: unknown; type?: unknown };
  try {
    problem = JSON.parse(res.text);
  } catch {
    return `a ${res.status} whose problem document is not JSON`;
  }
  if (problem?.status !== res.status) return `a ${res.status} whose problem document says status ${JSON.stringify(problem?.status)}`;
  if (typeof problem.title !== 'string' || typeof problem.type !== 'string') return `a ${res.status} whose problem document lacks title or type`;
  return null;
}

export const describeRequest = (r: FuzzRequest): string =>
  `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path}\n  headers ${JSON.stringify(
    Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 80)}… (${v.length} chars)` : v])),
  )}\n  body ${r.body === undefined ? '(none)' : JSON.stringify(r.body.length > 400 ? `${r.body.slice(0, 400)}… (${r.body.length} chars)` : r.body)}`;

export interface FuzzFailure {
  seed: number;
  batch: number;
  index: number;
  request: FuzzRequest;
  problem: string;
  answer: string;
}

/**
 * Runs `count` generated requests against `baseUrl`, `concurrency` at a time, in batches generated from
 * `seed + batch` (so a failure is replayed from its seed and batch); `world()` is asked for before every batch, so a
 * caller can renew the objects the fuzz has deleted or merged away.
 */
export async function runFuzz(options: {
  baseUrl: string;
  seed: number;
  count: number;
  world: (batch: number) => Promise<FuzzWorld>;
  batchSize?: number;
  concurrency?: number;
  onBatch?: (done: number) => void;
  /** Every request with its answer's status (0: none). */
  onAnswer?: (request: FuzzRequest, status: number, text: string) => void;
}): Promise<{
  requests: number;
  failures: FuzzFailure[];
  byRoute: Map<string, number>;
  byStatus: Map<number, number>;
  /** `<route> → <status>` of error answers the OpenAPI document does not declare for the route, with how many. */
  undeclared: Map<string, number>;
}> {
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 6;
  const failures: FuzzFailure[] = [];
  const byRoute = new Map<string, number>();
  const byStatus = new Map<number, number>();
  const undeclared = new Map<string, number>();
  let requests = 0;
  for (let batch = 0; requests < options.count; batch++) {
    const world = await options.world(batch);
    const cases = fc.sample(fuzzRequest(world), { seed: options.seed + batch, numRuns: Math.min(batchSize, options.count - requests) });
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const index = next++;
        const request = cases[index];
        let problem: string | null;
        let answer = '';
        try {
          const res = await sendRaw(options.baseUrl, request);
          byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
          const route = request.route === null ? undefined : ROUTES.get(request.route);
          if (route && res.status >= 400 && !declaredResponses(route).problems.includes(res.status)) {
            // A body sent to a route that takes none is refused (400, 413, 415) though the document lists no body.
            const key = `${request.route} → ${res.status}${!route.body && request.body !== undefined ? ' (with a body it takes none of)' : ''}`;
            undeclared.set(key, (undeclared.get(key) ?? 0) + 1);
          }
          problem = judge(res);
          answer = `${res.status} ${res.text.slice(0, 300)}`;
          options.onAnswer?.(request, res.status, res.text);
        } catch (error) {
          problem = `no answer: ${(error as Error).message}`;
        }
        byRoute.set(request.route ?? '(outside the table)', (byRoute.get(request.route ?? '(outside the table)') ?? 0) + 1);
        if (problem) failures.push({ seed: options.seed, batch, index, request, problem, answer });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    requests += cases.length;
    options.onBatch?.(requests);
  }
  return { requests, failures, byRoute, byStatus, undeclared };
}

const ROUTES = new Map(allRoutes.map((r) => [routeKey(r), r]));

export const formatFailure = (f: FuzzFailure): string =>
  `${f.problem} (seed ${f.seed}, batch ${f.batch}, case ${f.index}): ${describeRequest(f.request)}\n  → ${f.answer}`;

// ───────────────────────────── the world ─────────────────────────────

type Json = { status: number; body: any; text: string; retryAfter: number };

async function jsonCall(baseUrl: string, method: string, path: string, token?: string, body?: unknown): Promise<Json> {
  const res = await sendRaw(baseUrl, {
    route: null,
    method,
    path,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    text: res.text,
    body: res.text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(res.text) : res.text,
    retryAfter: Number(res.headers.get('retry-after') ?? 0),
  };
}

/**
 * A login of the fixtures. The fuzz's own wrong logins all come from this machine's address, and enough of them shut
 * that address for a while (domain/login-throttle.ts): the fixtures wait as the 429's Retry-After says.
 */
async function logIn(baseUrl: string, body: Record<string, string>): Promise<Json> {
  for (let attempt = 1; ; attempt++) {
    const res = await jsonCall(baseUrl, 'POST', '/v1/auth/token', undefined, body);
    if (res.status !== 429 || attempt >= 5) return res;
    await new Promise((r) => setTimeout(r, (res.retryAfter || 61) * 1000));
  }
}

function created(res: Json, what: string): string {
  if (res.status !== 201 && res.status !== 202) throw new Error(`fuzz fixture ${what}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.body.id as string;
}

/** A company of its own, through the operator API; its staff token. */
export async function createFuzzCompany(baseUrl: string, operatorToken: string): Promise<{ companyId: string; staffToken: string }> {
  const username = `fuzz${randomBytes(4).toString('hex')}`;
  const password = 'fuzz password 1';
  const company = await jsonCall(baseUrl, 'POST', '/v1/companies', operatorToken, {
    name: 'Fuzz Other Co',
    defaultCurrency: 'EUR',
    timeZone: 'Europe/London',
    staff: { username, email: `${username}@example.com`, password },
  });
  const companyId = created(company, 'company');
  const login = await logIn(baseUrl, { companyId, username, password });
  if (login.status !== 200) throw new Error(`fuzz fixture login: ${login.status} ${login.text}`);
  return { companyId, staffToken: login.body.token };
}

/**
 * One object of every kind a path names, in the company of `staffToken`, and a client login of that company; the
 * automation run is a dry one, waited for.
 */
export async function buildFuzzObjects(
  baseUrl: string,
  companyId: string,
  staffToken: string,
): Promise<{ ids: Record<string, string[]>; clientToken: string; cursors: string[]; samples: Record<string, unknown> }> {
  const samples: Record<string, unknown> = {};
  const staff = async (method: string, path: string, body?: unknown) => {
    const res = await jsonCall(baseUrl, method, path, staffToken, body);
    const route = routeOf(method, path);
    if (route && body !== undefined && res.status < 300) samples[routeKey(route)] = body;
    return res;
  };
  const currency = (await staff('GET', '/v1/settings')).body.defaultCurrency as string;
  const group = created(
    await staff('POST', '/v1/client-groups', {
      name: `Fuzz group ${randomBytes(3).toString('hex')}`,
      // Its own settings: the fuzz may have made the company require contact fields the objects below do not have.
      settings: { requiredContactFields: [] },
    }),
    'group',
  );
  const username = `fuzzclient${randomBytes(4).toString('hex')}`;
  const password = 'fuzz client password';
  const client = created(
    await staff('POST', '/v1/clients', { firstName: 'Fuzz', lastName: 'Client', email: `${username}@example.com`, username, password, groupId: group }),
    'client',
  );
  const login = await logIn(baseUrl, { companyId, username, password });
  if (login.status !== 200) throw new Error(`fuzz fixture client login: ${login.status} ${login.text}`);
  const second = created(await staff('POST', '/v1/clients', { company: `Fuzz second ${randomBytes(3).toString('hex')}`, groupId: group }), 'second client');
  const contact = created(
    await staff('POST', `/v1/clients/${client}/contacts`, { type: 'billing', firstName: 'Bill', lastName: 'Payer', email: 'bill@example.com' }),
    'contact',
  );
  const note = created(await staff('POST', `/v1/clients/${client}/notes`, { summary: 'Fuzz note' }), 'note');
  const lines = [{ description: 'Hosting', quantity: 1, unitAmount: 1500 }];
  const invoice = created(await staff('POST', `/v1/clients/${client}/invoices`, { status: 'open', lines, recurring: { term: 1, period: 'month' } }), 'invoice');
  const draft = created(await staff('POST', `/v1/clients/${client}/invoices`, { lines }), 'draft invoice');
  const recurring = (await staff('GET', `/v1/clients/${client}/recurring-invoices`)).body.data[0].id as string;
  const paymentAccount = created(
    await staff('POST', `/v1/clients/${client}/payment-accounts`, { type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2099 } }),
    'payment account',
  );
  const transaction = created(
    await staff('POST', `/v1/clients/${client}/payments/record`, { type: 'check', amount: 500, currency, apply: [{ invoiceId: invoice, amount: 500 }] }),
    'transaction',
  );
  const card = created(
    await staff('POST', `/v1/clients/${client}/payments`, { source: { paymentAccountId: paymentAccount }, currency, otherAmount: 700 }),
    'card payment',
  );
  const email = created(await staff('POST', `/v1/clients/${client}/emails`, { subject: 'Fuzz', html: '<p>Fuzz</p>' }), 'email');
  const pkg = await staff('POST', '/v1/packages', { name: 'Fuzz package', pricing: [{ term: 1, period: 'month', price: 900, currency }] });
  const pricing = pkg.body.pricing[0].id as string;
  const service = created(await staff('POST', `/v1/clients/${client}/services`, { packageId: created(pkg, 'package'), pricingId: pricing }), 'service');
  const run = created(await staff('POST', '/v1/automation/runs', { dryRun: true }), 'run');
  for (let i = 0; i < 200 && !(await staff('GET', `/v1/automation/runs/${run}`)).body.finishedAt; i++) await new Promise((r) => setTimeout(r, 50));
  const imported = created(await staff('POST', '/v1/imports', { filename: 'fuzz.csv' }), 'import');
  const cursors: string[] = [];
  for (const list of ['/v1/client-groups?limit=1', '/v1/clients?limit=1', `/v1/clients/${client}/transactions?limit=1`]) {
    const page = await staff('GET', list);
    if (typeof page.body?.nextCursor === 'string') cursors.push(page.body.nextCursor);
  }
  return {
    ids: {
      'client-groups': [group],
      clients: [client, second],
      contacts: [contact],
      notes: [note],
      invoices: [invoice, draft],
      'recurring-invoices': [recurring],
      'payment-accounts': [paymentAccount],
      transactions: [transaction, card],
      emails: [email],
      packages: [pkg.body.id],
      pricing: [pricing],
      services: [service],
      runs: [run],
      imports: [imported],
      'email-templates': [...EMAIL_TEMPLATE_NAMES],
    },
    clientToken: login.body.token,
    cursors,
    samples,
  };
}

// ───────────────────────────── generators ─────────────────────────────

/** Strings a URL, header or JSON can carry: well-formed unicode (a lone surrogate cannot be percent-encoded). */
const text = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }));
const HUGE = ['x'.repeat(10_000), '€'.repeat(5_000), 'a'.repeat(100_000), '\u0000'.repeat(1_000), '💥'.repeat(3_000)];
const OUT_OF_RANGE = [-1, 0, -0.5, 0.000001, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e308, -1e308, 1e-308, 100_000_000_000];

/** Any wrong value: other types, huge and odd strings, numbers out of range, nested junk. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, '', ' ', '0', 'null', '<script>alert(1)</script>', "' OR 1=1 --", '__proto__', '{{constructor}}', '%00'),
  fc.constantFrom(...HUGE),
  fc.constantFrom(...OUT_OF_RANGE),
  fc.integer(),
  fc.double({ noNaN: true }),
  text(40),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(text(8), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
);

type JsonSchema = Record<string, any>;

interface SchemaContext {
  root: JsonSchema;
  /** Real ids any field named `…Id`/`…Ids` may carry. */
  ids: string[];
  /** Wrap every value in a chance of junk. */
  mutate: boolean;
}

/** A value for a JSON schema (from the route's zod schema): valid in shape, with real ids where a field names one. */
function fromSchema(schema: JsonSchema | boolean | undefined, name: string, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const valid = validFromSchema(schema, name, ctx, depth);
  return ctx.mutate ? fc.noBias(fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: junkValue })) : valid;
}

function validFromSchema(schema: JsonSchema | boolean | undefined, name: string, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  if (schema === undefined || typeof schema === 'boolean' || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: any, key: string) => node?.[key], ctx.root);
    return target === ctx.root && depth > 2 ? fc.constant({}) : fromSchema(target, name, ctx, depth + 1);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key]) && schema[key].length) return fc.oneof(...schema[key].map((s: JsonSchema) => fromSchema(s, name, ctx, depth + 1)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) return fromSchema(schema.allOf[0], name, ctx, depth + 1);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema, name, ctx);
    case 'integer':
      return fc.integer(integerRange(schema));
    case 'number':
      return fc.oneof(fc.integer(integerRange(schema)), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = /Ids$/.test(name) ? fc.constantFrom(...ctx.ids) : fromSchema(schema.items, name.replace(/s$/, ''), ctx, depth + 1);
      return fc.array(items, { minLength: Math.min(schema.minItems ?? 0, 3), maxLength: Math.min(schema.maxItems ?? 3, 3) });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set<string>(schema.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [prop, sub] of Object.entries(properties)) model[prop] = fromSchema(sub, prop, ctx, depth + 1);
      if (!Object.keys(model).length) return fc.dictionary(text(8), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => required.has(k)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Whole numbers around the schema's bounds (a little outside them too when it has none), kept to a sane size. */
function integerRange(schema: JsonSchema): { min: number; max: number } {
  const min = Math.ceil(Math.max(schema.minimum ?? -10, -1_000_000));
  const max = Math.floor(Math.min(schema.maximum ?? 100_000, 1_000_000_000));
  return { min: Math.min(min, max), max };
}

function stringFor(schema: JsonSchema, name: string, ctx: SchemaContext): fc.Arbitrary<unknown> {
  if (/Id$/.test(name) || name === 'id') return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ctx.ids) }, { weight: 1, arbitrary: text(30) });
  if (/^(currency|defaultCurrency)$/.test(name)) return fc.constantFrom('USD', 'EUR', 'GBP', 'JPY', 'usd', 'XXX');
  if (schema.format === 'email' || /email$/i.test(name)) return fc.oneof(fc.emailAddress(), fc.constantFrom('a@b', 'not an email'));
  if (schema.format === 'date' || /^date|Date$/.test(name))
    return fc.oneof(fc.constantFrom('2030-01-31', '2024-02-29', '2023-02-29', '1900-01-01', '9999-12-31'), text(12));
  if (schema.format === 'date-time' || /At$/.test(name))
    return fc.constantFrom('2030-01-31T10:00:00Z', '2024-02-29T23:59:59.999+01:00', 'yesterday', '2030-13-01T00:00:00Z');
  const maxLength = Math.min(schema.maxLength ?? 40, 60);
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: Math.min(schema.minLength ?? 0, maxLength), maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: Math.min(schema.minLength ?? 0, maxLength), maxLength }) },
  );
}

const jsonSchemaCache = new Map<AnyRoute, JsonSchema | null>();
function bodySchemaOf(route: AnyRoute): JsonSchema | null {
  if (!jsonSchemaCache.has(route)) {
    let schema: JsonSchema | null = null;
    if (route.body) {
      try {
        schema = z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any', cycles: 'ref' }) as JsonSchema;
      } catch {
        schema = null;
      }
    }
    jsonSchemaCache.set(route, schema);
  }
  return jsonSchemaCache.get(route)!;
}

const querySchemaCache = new Map<AnyRoute, Record<string, JsonSchema>>();
function queryPropertiesOf(route: AnyRoute): Record<string, JsonSchema> {
  if (!querySchemaCache.has(route)) {
    let properties: Record<string, JsonSchema> = {};
    if (route.query) {
      try {
        properties = ((z.toJSONSchema(route.query, { io: 'input', unrepresentable: 'any' }) as JsonSchema).properties ?? {}) as Record<string, JsonSchema>;
      } catch {
        properties = {};
      }
    }
    querySchemaCache.set(route, properties);
  }
  return querySchemaCache.get(route)!;
}

const TOO_LARGE = `{"x":"${'y'.repeat(MAX_BODY_BYTES + 10)}"}`;

/** Raw bodies: not JSON, JSON of the wrong kind, nested too deep, too large. */
const rawBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '{"a": ',
    '[]',
    'null',
    '42',
    '"string"',
    'true',
    '\uFEFF{}',
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"a":1,"a":2}',
    '['.repeat(50_000) + ']'.repeat(50_000),
    `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    'a=1&b=2',
    '<xml/>',
  ),
  text(200),
  fc.json({ maxDepth: 4 }),
  fc.constant(TOO_LARGE),
);

/** A body for a route: valid by its schema, near-valid (junk in places, fields missing or extra), any JSON, or not JSON. */
/** The route a request reaches: a literal segment wins over a `{param}` (`/v1/clients/bulk` is not a client id). */
function routeOf(method: string, path: string): AnyRoute | undefined {
  const segments = path.split('?')[0].split('/');
  let best: { route: AnyRoute; params: number } | undefined;
  for (const route of allRoutes) {
    const template = route.path.split('/');
    if (route.method !== method || template.length !== segments.length) continue;
    if (!template.every((part, i) => part.startsWith('{') || part === segments[i])) continue;
    const params = template.filter((part) => part.startsWith('{')).length;
    if (!best || params < best.params) best = { route, params };
  }
  return best?.route;
}

/** A body the route took, as it was and with one field changed to junk or taken out. */
function fromSample(sample: unknown): fc.Arbitrary<unknown> {
  if (!sample || typeof sample !== 'object' || Array.isArray(sample)) return fc.constant(sample);
  const keys = Object.keys(sample);
  const changed = fc.tuple(fc.nat(), fc.option(junkValue, { freq: 4, nil: undefined })).map(([i, junk]) => {
    const copy: Record<string, unknown> = { ...(sample as Record<string, unknown>) };
    if (junk === undefined) delete copy[keys[i % keys.length]];
    else copy[keys[i % keys.length]] = junk;
    return copy;
  });
  return keys.length ? fc.noBias(fc.oneof({ weight: 1, arbitrary: fc.constant(sample) }, { weight: 2, arbitrary: changed })) : fc.constant(sample);
}

function bodyFor(route: AnyRoute, ids: string[], sample: unknown): fc.Arbitrary<string | undefined> {
  const schema = bodySchemaOf(route);
  const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
  if (!schema)
    return fc.noBias(fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: rawBody }));
  const valid = fromSchema(schema, '', { root: schema, ids, mutate: false }, 0);
  const nearValid = fromSchema(schema, '', { root: schema, ids, mutate: true }, 0);
  const reshaped = fc.tuple(valid, fc.constantFrom('drop', 'extra', 'swap', 'wrap'), text(12), junkValue).map(([value, how, key, junk]) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return junk;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (how === 'drop' && keys.length) delete copy[keys[key.length % keys.length]];
    else if (how === 'extra') copy[key || 'extra'] = junk;
    else if (how === 'swap' && keys.length) copy[keys[key.length % keys.length]] = junk;
    else return [copy];
    return copy;
  });
  return fc.noBias(
    fc.oneof(
      { weight: 4, arbitrary: valid.map((v) => JSON.stringify(v)) },
      { weight: 4, arbitrary: nearValid.map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: reshaped.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: anyJson },
      { weight: 1, arbitrary: rawBody },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: sample === undefined ? 0 : 4, arbitrary: fromSample(sample).map((v) => JSON.stringify(v)) },
    ),
  );
}

/** Values header fields can carry (Node refuses to send others). */
const headerSafe = (s: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s);
const headerJunk = fc
  .oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary-ascii', maxLength: 60 }), fc.constantFrom('x'.repeat(4_000), 'Ã©tÃ©', '\t'))
  .filter(headerSafe);

const WEIRD_PATH_IDS = [
  '%2e%2e',
  '..',
  '.',
  '%2E%2E%2F%2E%2E',
  'x'.repeat(300),
  '%CE%A9%F0%9F%92%A5%E2%80%AE',
  '%ff',
  '%00',
  '%C0%AF',
  '%25',
  '%20',
  '%2F',
  'cl_%27%20OR%201%3D1--',
  '__proto__',
  'constructor',
  'cl_01JUNKJUNKJUNKJUNKJUNKJUNK',
  '%E0%A4%A',
  '*',
];

const junkPathId = fc.oneof(
  fc.constantFrom(...WEIRD_PATH_IDS),
  text(40).map((s) => encodeURIComponent(s) || 'x'),
);

const pathParamNames = (path: string) => path.split('/').flatMap((s, i, all) => (/^\{\w+\}$/.test(s) ? [all[i - 1]] : []));

function idsOf(world: FuzzWorld, owner: 'own' | 'foreign', collection: string): string[] {
  return world[owner][collection] ?? [];
}

function pathFor(route: AnyRoute, world: FuzzWorld): fc.Arbitrary<string> {
  const collections = pathParamNames(route.path);
  if (!collections.length) return fc.constant(route.path);
  const allOwn = Object.values(world.own).flat();
  const params = collections.map((collection) => {
    const own = idsOf(world, 'own', collection);
    const foreign = idsOf(world, 'foreign', collection);
    return fc.noBias(
      fc.oneof(
        { weight: own.length ? 8 : 0, arbitrary: own.length ? fc.constantFrom(...own) : fc.constant('x') },
        { weight: 1, arbitrary: fc.constantFrom(...allOwn) },
        { weight: foreign.length ? 1 : 0, arbitrary: foreign.length ? fc.constantFrom(...foreign) : fc.constant('x') },
        { weight: 2, arbitrary: junkPathId },
      ),
    );
  });
  return fc.tuple(...params).map((values) => {
    let i = 0;
    return route.path.replace(/\{\w+\}/g, () => {
      const v = values[i++];
      return /%|^[.*]+$/.test(v) ? v : encodeURIComponent(v);
    });
  });
}

function queryFor(route: AnyRoute, world: FuzzWorld): fc.Arbitrary<string> {
  const properties = queryPropertiesOf(route);
  const ids = Object.values(world.own).flat();
  const names = Object.keys(properties);
  const valueFor = (name: string): fc.Arbitrary<string> =>
    fc.oneof(
      {
        weight: 4,
        arbitrary:
          name === 'cursor'
            ? fc.constantFrom(...(world.cursors.length ? world.cursors : ['none']))
            : validFromSchema(properties[name], name, { root: properties[name] ?? {}, ids, mutate: false }, 0).map((v) =>
                typeof v === 'string' ? v : JSON.stringify(v),
              ),
      },
      { weight: 1, arbitrary: fc.constantFrom('', '-1', '0', '101', '1e3', 'abc', 'true', 'null', 'x'.repeat(3_000)) },
      { weight: 1, arbitrary: text(30) },
    );
  const known = names.length
    ? fc.subarray(names).chain((chosen) => fc.tuple(...chosen.map((n) => valueFor(n).map((v) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`))))
    : fc.constant([] as string[]);
  const extra = fc.array(
    fc.oneof(
      fc.tuple(text(10), text(20)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
      fc.constantFrom('limit=abc&limit=2', 'cursor=%00%ff', '%zz=%E0%A4%A', '=', '&&', 'a', 'limit', '__proto__[x]=1', 'limit[]=1'),
    ),
    { maxLength: 2 },
  );
  return fc
    .tuple(
      fc.oneof({ weight: 2, arbitrary: known }, { weight: 1, arbitrary: fc.constant([] as string[]) }),
      fc.oneof({ weight: 3, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: extra }),
    )
    .map(([a, b]) => [...a, ...b].join('&'));
}

type Who = keyof FuzzWorld['tokens'];

function authFor(route: AnyRoute, world: FuzzWorld): fc.Arbitrary<string | undefined> {
  const allowed: Who[] =
    route.access === 'public' ? [] : route.access.flatMap((role): Who[] => (role === 'staff' ? ['staff'] : role === 'client' ? ['client'] : ['operator']));
  const right = allowed.length ? fc.constantFrom(...allowed).map((who) => `Bearer ${world.tokens[who]}`) : fc.constant(undefined);
  const anyToken = fc.constantFrom(...(Object.keys(world.tokens) as Who[])).map((who) => world.tokens[who]);
  return fc.noBias(
    fc.oneof(
      { weight: 16, arbitrary: right },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: anyToken.map((t) => `Bearer ${t}`) },
      {
        weight: 1,
        arbitrary: fc.tuple(anyToken, fc.nat(), fc.constantFrom('A', 'z', '-', '_', '.', '')).map(([t, at, c]) => {
          const i = at % t.length;
          return `Bearer ${t.slice(0, i)}${c}${t.slice(i + 1)}`;
        }),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constantFrom(
            'Bearer',
            'Bearer ',
            'Bearer a.b.c',
            'Basic YWRtaW46cHc=',
            'bearer x',
            'Bearer  x.y.z',
            'Bearer eyJhbGciOiJub25lIn0.e30.',
            'Token abc',
          ),
          anyToken.map((t) => `bearer ${t}`),
          anyToken.map((t) => `Bearer ${t} ${t}`),
          headerJunk,
        ),
      },
    ),
  );
}

const headerVariants = {
  'content-type': fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'application/problem+json',
        'text/plain',
        'text/csv',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'APPLICATION/JSON',
        '',
        ';',
      ),
    },
    { weight: 1, arbitrary: headerJunk },
  ),
  accept: fc.constantFrom('*/*', 'application/json', 'application/problem+json', 'text/html', 'text/csv', 'application/pdf', 'image/png', 'x/y;q=0', ''),
  'if-match': fc.oneof(fc.constantFrom('"1"', '"0"', '"2"', 'W/"3"', '*', '"abc", "def"', '"-1"', '"99999999999999999999"', '1', '""'), headerJunk),
  'idempotency-key': fc.oneof(fc.uuid(), fc.constantFrom('', ' ', 'k'.repeat(300), Buffer.from('ключ').toString('latin1')), headerJunk),
  'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'junk', '1.2.3.4, 5.6.7.8'),
  'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
};

function headersFor(route: AnyRoute, world: FuzzWorld, hasBody: boolean): fc.Arbitrary<Record<string, string>> {
  // Mostly a request as a client sends it, so the handlers behind the header checks are reached too.
  const optional = fc.noBias(
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({} as Partial<Record<keyof typeof headerVariants, string>>) },
      { weight: 2, arbitrary: fc.record(headerVariants, { requiredKeys: [] }) },
    ),
  );
  return fc
    .tuple(
      authFor(route, world),
      optional,
      fc.noBias(fc.integer({ min: 0, max: 9 })).map((n) => n > 0),
    )
    .map(([authorization, extra, keepContentType]) => {
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      // Mostly JSON when there is a body, as a client sends it; the variants above replace it now and then.
      if (hasBody && keepContentType) headers['content-type'] = 'application/json';
      for (const [k, v] of Object.entries(extra)) if (v !== undefined && headerSafe(v)) headers[k] = v;
      return headers;
    });
}

/** A request for one route of the table. */
function requestFor(route: AnyRoute, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const ids = Object.values(world.own).flat();
  return fc.tuple(pathFor(route, world), queryFor(route, world), bodyFor(route, ids, world.samples[routeKey(route)])).chain(([path, query, body]) =>
    headersFor(route, world, body !== undefined).map((headers) => ({
      route: routeKey(route),
      method: route.method,
      path: query ? `${path}?${query}` : path,
      headers,
      body,
    })),
  );
}

/** A request off the table: another method on a route's path, a path the table does not have, or a near miss. */
function offTable(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const route = fc.constantFrom(...allRoutes);
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
  const token = fc.constantFrom(world.tokens.staff, world.tokens.client, world.tokens.operator);
  return fc
    .tuple(
      route,
      method,
      token,
      fc.constantFrom('', '/', '//', '/x', '/..', '/%2e%2e', '.json', '?'),
      fc.array(junkPathId, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
    )
    .map(([r, m, t, suffix, segments, near]) => ({
      route: null,
      method: m,
      path: near ? `${r.path.replace(/\{\w+\}/g, 'x')}${suffix}` : `/${segments.join('/')}`,
      headers: { authorization: `Bearer ${t}` },
    }));
}

/** Every route of the table, equally likely, and now and then a request the table has no route for. */
export function fuzzRequest(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc.noBias(
    fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...allRoutes).chain((route) => requestFor(route, world)) }, { weight: 1, arbitrary: offTable(world) }),
  );
}

/**
 * The world the fuzz aims at, renewed every `renewEvery` batches (the fuzz deletes, merges and deactivates what it
 * names, so the handlers' deeper paths would soon only answer 404); another company's objects are made once.
 */
export function fuzzWorlds(
  baseUrl: string,
  facts: { companyId: string; staffToken: string; operatorToken: string },
  renewEvery: number,
): (batch: number) => Promise<FuzzWorld> {
  let foreign: { ids: Record<string, string[]>; staffToken: string; clientToken: string } | undefined;
  let current: FuzzWorld | undefined;
  return async (batch) => {
    if (!foreign) {
      const other = await createFuzzCompany(baseUrl, facts.operatorToken);
      const objects = await buildFuzzObjects(baseUrl, other.companyId, other.staffToken);
      foreign = { ids: objects.ids, staffToken: other.staffToken, clientToken: objects.clientToken };
    }
    if (!current || batch % renewEvery === 0) {
      const own = await buildFuzzObjects(baseUrl, facts.companyId, facts.staffToken);
      current = {
        own: own.ids,
        foreign: foreign.ids,
        tokens: {
          staff: facts.staffToken,
          client: own.clientToken,
          operator: facts.operatorToken,
          foreignStaff: foreign.staffToken,
          foreignClient: foreign.clientToken,
        },
        cursors: own.cursors,
        samples: own.samples,
      };
    }
    return current;
  };
}
