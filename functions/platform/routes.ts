import * as z from 'zod';
import { openApiDocument, openApiDocumentSchema } from '../http/openapi.js';
import { json, route } from '../http/route.js';
import { DOCS_PAGE, DOCS_PAGE_POLICY, redocBundle } from './docs-page.js';
import { issueToken } from './issue-token.js';

const tokenBody = z.strictObject({
  companyId: z.string().min(1).max(100).optional(),
  username: z.string().min(1).max(254),
  password: z.string().min(1).max(128),
});

export const platformRoutes = [
  route({
    method: 'GET',
    path: '/v1/health',
    area: 'platform',
    access: 'public',
    summary: 'Liveness',
    tags: ['Platform'],
    response: z.object({ status: z.literal('ok') }),
    handle: async () => json(200, { status: 'ok' }),
  }),
  route({
    method: 'GET',
    path: '/openapi.json',
    area: 'platform',
    access: 'public',
    summary: 'The OpenAPI 3.1 document of every route',
    tags: ['Platform'],
    response: openApiDocumentSchema,
    handle: async () => json(200, await openApiDocument()),
  }),
  route({
    method: 'GET',
    path: '/docs',
    area: 'platform',
    access: 'public',
    summary: 'HTML API reference: Redoc renders /openapi.json, starting with how to get a token and make a first call',
    tags: ['Platform'],
    produces: ['text/html'],
    handle: async () => ({
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_PAGE_POLICY },
      body: DOCS_PAGE,
    }),
  }),
  route({
    method: 'GET',
    path: '/docs/redoc.standalone.js',
    area: 'platform',
    access: 'public',
    summary: 'The script of the reference page (Redoc), served here so the page loads nothing from elsewhere',
    tags: ['Platform'],
    produces: ['text/javascript'],
    handle: async () => ({
      status: 200,
      // The script changes only with a deployment that upgrades Redoc; a day's staleness after one is harmless.
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
      body: await redocBundle(),
    }),
  }),
  route({
    method: 'POST',
    path: '/v1/auth/token',
    area: 'platform',
    access: 'public',
    summary: 'Exchange a username and password for a bearer token (operators omit companyId)',
    tags: ['Auth'],
    errors: [401, 429],
    body: tokenBody,
    successStatus: 200,
    response: z.object({ token: z.string(), expiresIn: z.number() }),
    handle: async ({ body, sourceIp }) => json(200, await issueToken({ ...body, sourceIp: sourceIp ?? undefined })),
  }),
];
