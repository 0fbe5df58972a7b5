import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { GETTING_STARTED } from './getting-started.js';
import type { AnyRoute } from './route.js';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

/**
 * A response schema with the objects it names (`.meta({ id })`: Client, Invoice, Transaction…) moved to
 * `components.schemas` and referenced, so a generated client has one named type per object.
 */
function responseSchema(schema: z.ZodType, components: Record<string, unknown>): Record<string, unknown> {
  const { $defs, ...rest } = jsonSchema(schema, 'output') as Record<string, unknown> & { $defs?: Record<string, unknown> };
  const relocate = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as T;
  for (const [id, definition] of Object.entries($defs ?? {})) {
    const moved = relocate(definition);
    if (id in components && JSON.stringify(components[id]) !== JSON.stringify(moved)) throw new Error(`Two different response schemas are named ${id}.`);
    components[id] = moved;
  }
  return relocate(rest);
}

/** An RFC 9457 problem document, Billow's answer to every request that did not succeed. */
export const problemSchema = z
  .looseObject({
    type: z.string().meta({ description: 'A URI naming the kind of problem.' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'What went wrong, for a person.' }),
    code: z.string().meta({ description: 'What went wrong, for a program: `not_found`, `stale_version`, `payment_declined`…' }),
    requestId: z.string().optional().meta({ description: 'On 5xx and 429: quote it when reporting the problem.' }),
    errors: z
      .array(z.strictObject({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'On 400: each field that is wrong, by its dotted path in the request.' }),
  })
  .meta({ description: 'A problem document (RFC 9457). Some codes add members, e.g. `transactionId` on a declined payment.' });

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid: malformed JSON, a field that is wrong (`errors` names each) or an unknown field.',
  401: 'No valid bearer token (or the login behind it is gone or not active).',
  402: 'The payment was declined (`payment_declined`); the attempt is recorded.',
  403: 'The token is valid but its role may not use this operation.',
  404: 'No such object for this token (objects of other companies or clients do not exist for it).',
  409: 'A conflict: a stale `If-Match` (`stale_version`), a lost race (`concurrent_change`), a duplicate, or an object in the wrong state.',
  413: 'The request body is over 1 MiB.',
  415: 'The request body is not `application/json`.',
  422: 'The request is well-formed but a business rule refuses it (`code` says which), or an `Idempotency-Key` was reused for another request.',
  429: 'Too many requests: wait `Retry-After` seconds.',
  500: 'A fault of ours: quote `requestId`.',
  502: 'An upstream service (the payment gateway) failed; nothing was changed. Retry.',
  503: 'The database is unavailable (`service_unavailable`): retry after `Retry-After` seconds. Or the outcome is not known yet (a payment left pending): read the object named in the problem after `Retry-After` seconds.',
};

const PROBLEM_HEADERS: Record<number, Record<string, unknown>> = {
  401: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } },
  503: { 'Retry-After': { description: 'Seconds to wait before trying again, or after which the outcome is worth reading.', schema: { type: 'integer' } } },
};

/** The tags operations are grouped by, in the order a reader meets them. */
export const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  Platform: 'Liveness, this document and its reference page.',
  Auth: 'Getting a bearer token: exchange a username and password, or set a password from a login-details email.',
  Companies: 'Operator only: the companies Billow serves, each with its first staff login.',
  'Company settings': "The company's currencies, time zone, tax rates and the group settings every client group inherits.",
  'Client groups': 'Groups of clients that override some of the company settings.',
  Clients: 'Client profiles, their status, login and activity.',
  Contacts: "A client's additional contacts; billing contacts receive invoices and billing notices.",
  Notes: 'Staff notes on a client; sticky notes show at the top of the profile.',
  Invoices: 'Invoices: drafts, opening (numbering), voiding, PDFs and delivery by email.',
  'Recurring invoices': 'Series that create an invoice every term.',
  'Payment accounts': 'Cards and bank accounts kept (tokenised) for a client, and its auto-debit account.',
  Payments: 'Payments and payment attempts, offline payments, voids and refunds.',
  Credits: 'Money kept as credit and applying it to open invoices.',
  Statements: 'Account statements for a period, as JSON or PDF, and by email.',
  Email: "A client's mail log, sending and resending mail, and the company's email templates.",
  Packages: "The company's catalogue: what it sells, at a price per term in each currency.",
  Services: 'Packages sold to clients: invoiced per term, renewed, suspended and canceled.',
  Automation: 'The daily run (renewals, credits, auto-debit, notices, suspensions, voids): runs by date, dry runs, what each did.',
  Imports: 'Clients from CSV: an upload through a presigned URL (or a file dropped into the imports bucket), its progress and counts, and its rejected rows.',
};

export interface DeclaredResponses {
  success: number;
  /** Where the success response has a body: its JSON schema (if JSON) and other media types. */
  json?: z.ZodType;
  produces: string[];
  problems: number[];
}

/**
 * What a route answers, as the document declares it: its success status and body, and each problem status it can
 * answer with. Every route checks a body, even one it takes none of (a body sent to a GET is refused, not ignored), so
 * every route can be a 400/413/415; every protected route a 401/403; a path naming an object a 404; a POST (its
 * `Idempotency-Key`) a 409/422; a PATCH or PUT (its `If-Match`) a 409; a DELETE a 409 (the object's client being
 * merged or deleted at that moment); anything a 429 (throttling), a 500 or a 503 (the database unavailable).
 */
export function declaredResponses(r: AnyRoute): DeclaredResponses {
  const problems = new Set<number>(r.errors ?? []);
  problems.add(400);
  if (r.access !== 'public') {
    problems.add(401);
    problems.add(403);
  }
  if (r.path.includes('{')) problems.add(404);
  if (r.method === 'POST') {
    problems.add(409);
    problems.add(422);
  }
  if (r.method === 'PATCH' || r.method === 'PUT' || r.method === 'DELETE') problems.add(409);
  problems.add(413);
  problems.add(415);
  problems.add(429);
  problems.add(500);
  // The database throttling (429) or unavailable (503) can meet any route.
  problems.add(503);
  return {
    success: r.successStatus ?? (r.method === 'POST' ? 201 : 200),
    json: r.response,
    produces: r.produces ?? [],
    problems: [...problems].sort((a, b) => a - b),
  };
}

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes the POST safe to retry: the same key with the same request replays the first answer for 24 hours.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'The `version` the change is based on (as read); a stale one is a 409 `stale_version`. Without it the change applies to the latest version.',
  schema: { type: 'string' },
};

function mediaSchema(type: string): Record<string, unknown> {
  if (type.startsWith('text/')) return { type: 'string' };
  return { type: 'string', contentMediaType: type };
}

const operationIdOf = (r: AnyRoute) =>
  `${r.method.toLowerCase()}${r.path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;

/** The document's outline, for `GET /openapi.json`'s own response. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** The OpenAPI 3.1 document: what `/openapi.json` serves and `/docs` renders. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string; license?: { name: string; identifier?: string } };
  /** Operations by path, then by lower-case method. */
  paths: Record<string, Record<string, Record<string, unknown>>>;
  [member: string]: unknown;
}

/** The OpenAPI 3.1 document, generated from the same route table and zod schemas that validate requests. */
export function buildOpenApi(routes: readonly AnyRoute[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const usedProblems = new Set<number>();
  const schemas: Record<string, unknown> = { Problem: jsonSchema(problemSchema, 'output') };
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const name of r.path.match(/\{(\w+)\}/g) ?? []) {
      parameters.push({ name: name.slice(1, -1), in: 'path', required: true, schema: { type: 'string' } });
    }
    if (r.query) {
      const schema = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s });
      }
    }
    if (r.method === 'POST') parameters.push(IDEMPOTENCY_KEY);
    if (r.method === 'PATCH' || r.method === 'PUT') parameters.push(IF_MATCH);
    const declared = declaredResponses(r);
    const success: Record<string, unknown> = { description: successDescription(declared.success) };
    const content: Record<string, unknown> = {};
    if (declared.json) content['application/json'] = { schema: responseSchema(declared.json, schemas) };
    for (const type of declared.produces) content[type] = { schema: mediaSchema(type) };
    if (declared.success !== 204 && Object.keys(content).length) success.content = content;
    const responses: Record<string, unknown> = { [String(declared.success)]: success };
    for (const [status, description] of Object.entries(r.redirects ?? {})) {
      responses[status] = { description, headers: { Location: { required: true, schema: { type: 'string', format: 'uri' } } } };
    }
    for (const status of declared.problems) {
      usedProblems.add(status);
      responses[String(status)] = { $ref: `#/components/responses/Problem${status}` };
    }
    const operation: Record<string, unknown> = {
      operationId: operationIdOf(r),
      summary: r.summary,
      tags: r.tags ?? [r.area],
      'x-billow-area': r.area,
      'x-billow-roles': r.access === 'public' ? [] : r.access,
      security: r.access === 'public' ? [] : [{ bearerAuth: [] }],
      parameters,
      responses,
    };
    if (r.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = operation;
  }
  const problemResponses = Object.fromEntries(
    [...usedProblems]
      .sort((a, b) => a - b)
      .map((status) => [
        `Problem${status}`,
        {
          description: PROBLEM_DESCRIPTIONS[status] ?? 'A problem.',
          ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Billow API',
      version: '1.0.0',
      description: GETTING_STARTED,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: Object.entries(TAG_DESCRIPTIONS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A token from `POST /v1/auth/token` (or `POST /v1/clients/{id}/login-as`); it expires after an hour.',
        },
      },
      responses: problemResponses,
      schemas,
    },
  };
}

function successDescription(status: number): string {
  if (status === 201) return 'Created.';
  if (status === 202) return 'Accepted: the work is queued.';
  if (status === 204) return 'Done; no content.';
  return 'OK.';
}

/**
 * Where the platform function finds the document it serves. `buildOpenApi` needs the route table, which imports every
 * area's routes and all they use (pdfkit included), and the platform function must not: the CDK app builds the
 * document at synth time and ships it next to the bundle under this name (lib/api.ts). The local stack, which runs the
 * route table in-process, hands its own builder to `serveOpenApiDocument` instead.
 */
export const OPENAPI_FILE = 'openapi.json';

type DocumentSource = () => OpenApiDocument | Promise<OpenApiDocument>;

async function shippedDocument(): Promise<OpenApiDocument> {
  // Relative to the running module: in a deployed function that is the bundle, next to which the file lies.
  const location = new URL(OPENAPI_FILE, import.meta.url);
  try {
    return JSON.parse(await readFile(location, 'utf8')) as OpenApiDocument;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`No OpenAPI document at ${location.pathname}: the CDK app ships one with the platform bundle; elsewhere call serveOpenApiDocument first.`);
  }
}

let source: DocumentSource = shippedDocument;
let document: Promise<OpenApiDocument> | undefined;

/** Serves the document `source` returns (read once, on the first request) instead of the shipped file. */
export function serveOpenApiDocument(from: DocumentSource): void {
  source = from;
  document = undefined;
}

/** The document, read once per container. */
export function openApiDocument(): Promise<OpenApiDocument> {
  if (!document) {
    const reading = (async () => source())();
    document = reading;
    // A failed read is not kept: the next request tries again.
    reading.catch(() => {
      if (document === reading) document = undefined;
    });
  }
  return document;
}
