import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { billingRoutes } from '../../functions/billing/routes.js';
import { invoiceSchema, transactionSchema } from '../../functions/billing/response-schemas.js';
import { clientProfileSchema } from '../../functions/clients/response-schemas.js';
import { buildOpenApi, declaredResponses, TAG_DESCRIPTIONS } from '../../functions/http/openapi.js';
import { allRoutes } from '../../functions/http/route-table.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: Record<string, unknown> }>; headers?: Record<string, unknown> }>;
}

const document = buildOpenApi(allRoutes);
const components = document.components as {
  securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
  responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
  schemas: Record<string, unknown>;
};
const operations: Array<{ method: string; path: string; op: Operation; publicRoute: boolean }> = allRoutes.map((r) => ({
  method: r.method,
  path: r.path,
  op: document.paths[r.path][r.method.toLowerCase()] as unknown as Operation,
  publicRoute: r.access === 'public',
}));
const successOf = (op: Operation) => Object.entries(op.responses).filter(([status]) => status.startsWith('2'));

/** A schema that says something about the body: properties, items, a choice or a reference, not a bare `{type: object}`. */
function isTyped(schema: Record<string, unknown> | undefined): boolean {
  if (!schema) return false;
  const properties = schema.properties as Record<string, unknown> | undefined;
  return (properties !== undefined && Object.keys(properties).length > 0) || ['items', 'anyOf', 'oneOf', 'allOf', '$ref'].some((k) => k in schema);
}

describe('the OpenAPI document built from the route table', () => {
  it('has one operation per route, each with a unique operationId', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(allRoutes.length);
  });

  it('gives every JSON success response a typed schema, and every success but a 204 a body', () => {
    for (const { method, path, op } of operations) {
      const success = successOf(op);
      expect(success, `${method} ${path}`).toHaveLength(1);
      const [status, response] = success[0];
      if (status === '204') {
        expect(response.content, `${method} ${path}`).toBeUndefined();
        continue;
      }
      expect(Object.keys(response.content ?? {}).length, `${method} ${path} has no media type`).toBeGreaterThan(0);
      const json = response.content?.['application/json'];
      if (json) expect(isTyped(json.schema), `${method} ${path}: ${JSON.stringify(json.schema)}`).toBe(true);
    }
  });

  it('declares downloads and pages with their own media type, not JSON', () => {
    const media = (path: string) => Object.keys(successOf(operations.find((o) => o.method === 'GET' && o.path === path)?.op as Operation)[0][1].content ?? {});
    expect(media('/v1/invoices/{id}/pdf')).toEqual(['application/pdf']);
    expect(media('/docs')).toEqual(['text/html']);
    expect(media('/v1/clients/{id}/statement').sort()).toEqual(['application/json', 'application/pdf']);
  });

  it('puts every protected operation behind the bearer scheme and every public one behind none', () => {
    expect(components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const { method, path, op, publicRoute } of operations) {
      expect(op.security, `${method} ${path}`).toEqual(publicRoute ? [] : [{ bearerAuth: [] }]);
    }
  });

  it('declares each tag an operation uses, with a description', () => {
    const declared = new Map((document.tags as Array<{ name: string; description?: string }>).map((t) => [t.name, t.description]));
    for (const { method, path, op } of operations) {
      for (const tag of op.tags ?? []) expect(declared.get(tag), `${method} ${path}: tag ${tag}`).toBeTruthy();
    }
    expect([...declared.keys()]).toEqual(Object.keys(TAG_DESCRIPTIONS));
  });

  it('answers problems with the Problem schema: a 4xx on every operation, each status a declared response', () => {
    for (const { method, path, op } of operations) {
      const problems = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      expect(
        problems.some(([status]) => status.startsWith('4')),
        `${method} ${path}`,
      ).toBe(true);
      for (const [status, response] of problems) {
        expect(response.$ref, `${method} ${path} ${status}`).toBe(`#/components/responses/Problem${status}`);
        expect(components.responses[`Problem${status}`].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      }
    }
    expect(components.schemas.Problem).toMatchObject({ required: expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']) });
  });

  it('declares a redirect with its Location header and no body, only on the routes that redirect', () => {
    const redirects = operations.flatMap(({ method, path, op }) =>
      Object.entries(op.responses)
        .filter(([status]) => status.startsWith('3'))
        .map(([status, response]) => ({ at: `${method} ${path} ${status}`, response })),
    );
    expect(redirects.map((r) => r.at)).toEqual(['GET /v1/clients/export 303', 'GET /v1/imports/{id}/errors 303']);
    for (const { response } of redirects) {
      expect(response.headers?.Location).toMatchObject({ required: true, schema: { type: 'string', format: 'uri' } });
      expect(response.content).toBeUndefined();
    }
  });

  it('lists the problems a route derives from its shape and those it names', () => {
    const payment = billingRoutes.find((r) => r.method === 'POST' && r.path === '/v1/clients/{id}/payments');
    expect(payment && declaredResponses(payment).problems).toEqual(expect.arrayContaining([400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 502]));
    const health = allRoutes.find((r) => r.path === '/v1/health');
    expect(health && declaredResponses(health).problems).not.toContain(401);
  });

  it('declares Idempotency-Key on every POST and If-Match on every PATCH and PUT', () => {
    for (const { method, path, op } of operations) {
      const headers = (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
      if (method === 'POST') expect(headers, `${method} ${path}`).toContain('Idempotency-Key');
      if (method === 'PATCH' || method === 'PUT') expect(headers, `${method} ${path}`).toContain('If-Match');
    }
  });

  it('shows a client, an invoice and a transaction by an example its own schema accepts', () => {
    const examplesOf = (schema: z.ZodType) => (schema.meta()?.examples as unknown[] | undefined) ?? [];
    for (const schema of [clientProfileSchema, invoiceSchema, transactionSchema]) {
      const examples = examplesOf(schema);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) expect(schema.safeParse(example).error).toBeUndefined();
    }
    const client = operations.find((o) => o.method === 'GET' && o.path === '/v1/clients/{id}')?.op as Operation;
    expect(successOf(client)[0][1].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/ClientProfile' });
    expect((components.schemas.ClientProfile as { examples?: unknown[] }).examples).toEqual(examplesOf(clientProfileSchema));
  });

  it('names the main objects once, in components, for a generated client to type them', () => {
    for (const name of ['Client', 'ClientProfile', 'Invoice', 'Transaction', 'PaymentAccount', 'Contact', 'Note', 'Company', 'ClientGroup', 'MailEntry']) {
      expect(isTyped(components.schemas[name] as Record<string, unknown>), name).toBe(true);
    }
    const text = JSON.stringify(document);
    for (const [, target] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
      const [, section, name] = target.match(/^#\/components\/(\w+)\/(\w+)$/) ?? [];
      expect((document.components as Record<string, Record<string, unknown>>)[section]?.[name], target).toBeDefined();
    }
  });
});
