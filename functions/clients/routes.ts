import { companyOf } from '../domain/principal.js';
import { clientListRoute } from './list-route.js';
import { actorOf, type ActivityEntry } from '../domain/activity.js';
import { summaryRows, type ClientStatus } from '../domain/client.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { BillowError, NotFoundError } from '../domain/errors.js';
import { problemResponse } from '../http/problem.js';
import { json, noContent, route, type HttpResponse } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { listActivity } from '../store/client-records.js';
import { listClients, readProfileView, requireClient, searchClients } from '../store/clients.js';
import { parseIfMatch } from '../store/items.js';
import { contactRoutes } from './contact-routes.js';
import { noteRoutes } from './note-routes.js';
import { sendLoginDetailsEmail, sendRegistrationEmail } from '../email/notify.js';
import { changeStatus } from './change-status.js';
import { clientListViews, createdProfile, readProfile } from './client-view.js';
import { createClient } from './create-client.js';
import { deleteClient } from './delete-client.js';
import { CSV_CONTENT_TYPE, exportClients } from './export-clients.js';
import { loginAs } from './login-as.js';
import { createSetPasswordLink, usePasswordToken } from './login-details.js';
import { mergeClients } from './merge-clients.js';
import { bulkBody, createClientBody, exportClientsQuery, listClientsQuery, mergeBody, setPasswordBody, statusBody, updateClientBody } from './schemas.js';
import { patchClientProfile } from './update-client.js';
import {
  activityEntrySchema,
  bulkResultSchema,
  clientListSchema,
  clientProfileSchema,
  clientSummarySchema,
  createdClientSchema,
  loginDetailsSentSchema,
} from './response-schemas.js';
import { issuedTokenSchema } from '../http/schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

export const clientCoreRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients',
    area: 'clients',
    access: STAFF,
    summary: 'Create a client (and its login when it has a username or email)',
    tags: ['Clients'],
    response: createdClientSchema,
    body: createClientBody,
    successStatus: 201,
    handle: async ({ principal, body, logger }) => {
      const companyId = companyOf(principal);
      const { client, generatedPassword, group } = await createClient(companyId, body, principal);
      if (body.sendRegistrationEmail) {
        // The client exists now: a mail that cannot even be logged must not turn its creation into an error.
        await sendRegistrationEmail(companyId, client, actorOf(principal)).catch((error: unknown) =>
          logger.error('registration email not sent', { clientId: client.id, error: error as Error }),
        );
      }
      // From what the create wrote (a new client has no balance nor note), not read back.
      const profile = await createdProfile(companyId, client, group, principal);
      // The generated password is shown once: an idempotent replay returns the profile without it.
      return generatedPassword ? { ...json(201, { ...profile, generatedPassword }), notStored: ['generatedPassword'] } : json(201, profile);
    },
  }),
  route({
    method: 'GET',
    path: '/v1/clients',
    area: 'clients',
    access: STAFF,
    summary: 'Browse and search clients (q matches the start of names, company, email or number)',
    tags: ['Clients'],
    response: clientListSchema,
    query: listClientsQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|clients|${query.q ?? ''}|${query.status ?? ''}|${query.groupId ?? ''}|${query.q ? '' : query.sort}`;
      const startKey = await decodeCursor(scope, query.cursor);
      const filters = { status: query.status as ClientStatus | undefined, groupId: query.groupId, limit: query.limit, startKey };
      const page = query.q
        ? await searchClients(companyId, query.q, filters)
        : await listClients(companyId, { ...filters, sort: query.sort.replace(/^-/, '') as 'number', descending: query.sort.startsWith('-') });
      return json(200, { data: await clientListViews(companyId, page.items), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/bulk',
    area: 'clients',
    access: STAFF,
    summary: 'Delete, activate or deactivate up to 100 clients; one result per id',
    tags: ['Clients'],
    response: bulkResultSchema,
    body: bulkBody,
    successStatus: 200,
    handle: async ({ principal, body, requestId }) => {
      const companyId = companyOf(principal);
      const results = [];
      for (const id of body.ids) {
        try {
          const client = await requireClient(companyId, id);
          if (body.action === 'delete') await deleteClient(companyId, client);
          else await changeStatus(companyId, client, body.action === 'activate' ? 'active' : 'inactive', principal);
          results.push({ id, ok: true });
        } catch (error) {
          if (!(error instanceof BillowError)) throw error;
          const problem = problemResponse(error, requestId).body as { status: number; code: string; detail: string };
          results.push({ id, ok: false, error: { status: problem.status, code: problem.code, detail: problem.detail } });
        }
      }
      return json(200, { results });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/clients/export',
    area: 'clients',
    access: STAFF,
    summary:
      'Every client as CSV (the headers the import maps back by itself; formula cells neutralised). A file over 5 MiB is a 303 to a link to it, valid 15 minutes',
    tags: ['Clients'],
    query: exportClientsQuery,
    produces: ['text/csv'],
    redirects: { 303: 'The export is too large to answer inline: `Location` is a link to the CSV file, valid 15 minutes.' },
    handle: async ({ principal, query }) => {
      const result = await exportClients(companyOf(principal), { status: query.status as ClientStatus | undefined, groupId: query.groupId });
      const response: HttpResponse =
        result.kind === 'file'
          ? { status: 303, headers: { location: result.url, 'cache-control': 'no-store' } }
          : {
              status: 200,
              headers: { 'content-type': CSV_CONTENT_TYPE, 'content-disposition': `attachment; filename="${result.filename}"`, 'cache-control': 'no-store' },
              body: result.csv,
            };
      return response;
    },
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Read a client profile with its summary (and sticky notes, for staff)',
    tags: ['Clients'],
    response: clientProfileSchema,
    params: idParam,
    handle: async ({ principal, params }) => {
      return json(200, await readProfile(companyOf(principal), params.id, principal));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Change a client profile (a client may change its address, phones, language, marketing opt-in and password)',
    tags: ['Clients'],
    response: clientProfileSchema,
    params: idParam,
    body: updateClientBody,
    handle: async ({ principal, params, body, headers }) => {
      const companyId = companyOf(principal);
      const expectedVersion = parseIfMatch(headers['if-match']);
      return json(200, await patchClientProfile({ companyId, clientId: params.id, expectedVersion, patch: body, principal }));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/clients/{id}',
    area: 'clients',
    access: STAFF,
    summary: 'Permanently delete a client and everything it owns, including its login (409 while one of its payments is still pending)',
    tags: ['Clients'],
    params: idParam,
    successStatus: 204,
    errors: [409],
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      await deleteClient(companyId, await requireClient(companyId, params.id));
      return noContent();
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/status',
    area: 'clients',
    access: STAFF,
    summary: 'Set a client active, inactive or fraud (inactive and fraud cannot log in)',
    tags: ['Clients'],
    response: clientProfileSchema,
    params: idParam,
    body: statusBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      await changeStatus(companyId, await requireClient(companyId, params.id), body.status, principal);
      return json(200, await readProfile(companyId, params.id, principal));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/merge',
    area: 'clients',
    access: STAFF,
    summary: 'Merge this client into another: everything moves, then this client is deleted',
    tags: ['Clients'],
    response: clientProfileSchema,
    params: idParam,
    body: mergeBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      await mergeClients(companyId, params.id, body.intoClientId, principal);
      return json(200, await readProfile(companyId, body.intoClientId, principal));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/login-as',
    area: 'clients',
    access: STAFF,
    summary: 'Get a client token for this client (recorded in its activity)',
    tags: ['Clients'],
    response: issuedTokenSchema,
    params: idParam,
    successStatus: 200,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      return json(200, await loginAs(companyId, await requireClient(companyId, params.id), principal));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/send-login-details',
    area: 'clients',
    access: STAFF,
    summary: 'Email the username and a one-time set-password link (valid 72 h)',
    tags: ['Clients'],
    response: loginDetailsSentSchema,
    params: idParam,
    successStatus: 202,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      const link = await createSetPasswordLink(companyId, client, principal);
      await sendLoginDetailsEmail(companyId, client, link.url, actorOf(principal));
      return json(202, { status: 'accepted', expiresAt: link.expiresAt });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/summary',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Per-currency invoiced, paid, due and credit',
    tags: ['Clients'],
    response: clientSummarySchema,
    params: idParam,
    handle: async ({ principal, params }) => {
      const view = await readProfileView(companyOf(principal), params.id);
      if (!view) throw new NotFoundError('No such client.');
      return json(200, { data: summaryRows(view.client, view.balances) });
    },
  }),
  clientListRoute<ActivityEntry>({
    path: '/v1/clients/{id}/activity',
    area: 'clients',
    access: STAFF,
    summary: 'The client activity log, newest first',
    tags: ['Clients'],
    itemSchema: activityEntrySchema,
    read: listActivity,
    view: ({ at, actor, action, details }) => ({ at, actor, action, details }),
  }),
  route({
    method: 'POST',
    path: '/v1/auth/set-password',
    area: 'clients',
    access: 'public',
    summary: 'Set a password with a one-time token from a login-details email',
    tags: ['Auth'],
    body: setPasswordBody,
    successStatus: 204,
    handle: async ({ body }) => {
      await usePasswordToken(body.token, body.password);
      return noContent();
    },
  }),
];

export const clientRoutes = [...clientCoreRoutes, ...contactRoutes, ...noteRoutes];
