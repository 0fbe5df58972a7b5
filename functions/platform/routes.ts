import { z } from 'zod';
import { NotAuthenticatedError } from '../domain/errors.js';
import { openApiDocument, openApiDocumentSchema } from '../http/openapi.js';
import { json, route } from '../http/route.js';
import { getServices } from '../services.js';
import { getCompany } from '../store/companies.js';
import { clientStatusForUsername } from '../store/clients.js';
import { renderDocsPage } from './docs-page.js';

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
    summary: 'HTML API reference',
    tags: ['Platform'],
    produces: ['text/html'],
    handle: async () => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: renderDocsPage(await openApiDocument()) }),
  }),
  route({
    method: 'POST',
    path: '/v1/auth/token',
    area: 'platform',
    access: 'public',
    summary: 'Exchange a username and password for a bearer token (operators omit companyId)',
    tags: ['Auth'],
    errors: [401],
    body: tokenBody,
    successStatus: 200,
    response: z.object({ token: z.string(), expiresIn: z.number() }),
    handle: async ({ body }) => {
      const wrong = () => new NotAuthenticatedError('The company, username or password is wrong.');
      if (body.companyId !== undefined && !(await getCompany(body.companyId))) throw wrong();
      const issued = await getServices().identity.authenticate(body.companyId, body.username, body.password);
      if (!issued) {
        // A deactivated client's login is disabled at the provider; say why rather than "wrong password".
        if (body.companyId !== undefined) {
          const status = await clientStatusForUsername(body.companyId, body.username);
          if (status === 'inactive' || status === 'fraud') throw new NotAuthenticatedError('This account is not active.');
        }
        throw wrong();
      }
      return json(200, issued);
    },
  }),
];
