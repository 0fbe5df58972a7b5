import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { API_AREAS, type AnyRoute } from './route.js';

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

/** The OpenAPI 3.1 document: what `/openapi.json` serves and `/docs` renders. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  /** Operations by path, then by lower-case method. */
  paths: Record<string, Record<string, Record<string, unknown>>>;
  [member: string]: unknown;
}

/** The OpenAPI 3.1 document, generated from the same route table and zod schemas that validate requests. */
export function buildOpenApi(routes: readonly AnyRoute[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
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
    if (r.method === 'POST')
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255 } });
    if (r.method === 'PATCH') parameters.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } });
    const status = String(r.successStatus ?? (r.method === 'POST' ? 201 : 200));
    const success: Record<string, unknown> = { description: 'Success' };
    if (status !== '204') {
      const content: Record<string, unknown> = { 'application/json': { schema: r.response ? jsonSchema(r.response) : { type: 'object' } } };
      for (const type of r.produces ?? []) content[type] = { schema: { type: 'string', format: 'binary' } };
      success.content = content;
    }
    const operation: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      tags: r.tags ?? [r.area],
      'x-billow-area': r.area,
      'x-billow-roles': r.access === 'public' ? [] : r.access,
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      parameters,
      responses: {
        [status]: success,
        default: { description: 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    };
    if (r.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Billow API',
      version: '1.0.0',
      description: 'Client management and billing. Money is in integer minor units next to an ISO 4217 currency. Errors are RFC 9457 problem documents.',
    },
    servers: [{ url: '/' }],
    tags: API_AREAS.map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: problemSchema },
    },
  };
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
