import { companyOf } from '../domain/principal.js';
import { companyView, settingsView } from '../domain/company.js';
import { groupView } from '../domain/group.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { json, noContent, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { listCompanies, requireCompany } from '../store/companies.js';
import { listGroups, requireGroup } from '../store/groups.js';
import { parseIfMatch } from '../store/items.js';
import { createCompany } from './create-company.js';
import { createGroup } from './create-group.js';
import { deleteGroup } from './delete-group.js';
import { createCompanyBody, createGroupBody, settingsPatchBody, updateGroupBody } from './schemas.js';
import { updateGroup } from './update-group.js';
import { updateSettings } from './update-settings.js';
import { companyListSchema, createdCompanySchema, groupListSchema, groupSchema, settingsSchema } from './response-schemas.js';

const STAFF = ['staff'] as const;

export const companyRoutes = [
  route({
    method: 'POST',
    path: '/v1/companies',
    area: 'companies',
    access: ['operator'],
    summary: 'Create a company with its default client group and first staff login',
    tags: ['Companies'],
    response: createdCompanySchema,
    body: createCompanyBody,
    successStatus: 201,
    handle: async ({ body }) => {
      const { company, defaultGroup } = await createCompany(body);
      return json(201, { ...companyView(company), defaultGroup: { id: defaultGroup.id, name: defaultGroup.name } });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/companies',
    area: 'companies',
    access: ['operator'],
    summary: 'List companies',
    tags: ['Companies'],
    response: companyListSchema,
    query: listQuery,
    handle: async ({ query }) => {
      const scope = 'companies';
      const page = await listCompanies(query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(companyView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/settings',
    area: 'companies',
    access: STAFF,
    summary: 'Read the company settings',
    tags: ['Company settings'],
    response: settingsSchema,
    handle: async ({ principal }) => json(200, settingsView(await requireCompany(companyOf(principal)))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/settings',
    area: 'companies',
    access: STAFF,
    summary: 'Change company settings (group settings are the values groups inherit)',
    tags: ['Company settings'],
    response: settingsSchema,
    body: settingsPatchBody,
    handle: async ({ principal, body, headers }) => {
      const company = await updateSettings({ companyId: companyOf(principal), expectedVersion: parseIfMatch(headers['if-match']), patch: body });
      return json(200, settingsView(company));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/client-groups',
    area: 'companies',
    access: STAFF,
    summary: 'Create a client group',
    tags: ['Client groups'],
    response: groupSchema,
    body: createGroupBody,
    successStatus: 201,
    handle: async ({ principal, body }) => {
      const { group, companySettings } = await createGroup({ companyId: companyOf(principal), ...body });
      return json(201, groupView(group, companySettings));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/client-groups',
    area: 'companies',
    access: STAFF,
    summary: 'List client groups',
    tags: ['Client groups'],
    response: groupListSchema,
    query: listQuery,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const owner = await requireCompany(companyId);
      const scope = `${companyId}|groups`;
      const page = await listGroups(companyId, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map((g) => groupView(g, owner.groupSettings)), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/client-groups/{id}',
    area: 'companies',
    access: STAFF,
    summary: 'Read a client group with its effective settings',
    tags: ['Client groups'],
    response: groupSchema,
    params: idParam,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const [owner, group] = await Promise.all([requireCompany(companyId), requireGroup(companyId, params.id)]);
      return json(200, groupView(group, owner.groupSettings));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/client-groups/{id}',
    area: 'companies',
    access: STAFF,
    summary: 'Change a client group; settings merge key by key, null inherits again',
    tags: ['Client groups'],
    response: groupSchema,
    params: idParam,
    body: updateGroupBody,
    handle: async ({ principal, params, body, headers }) => {
      const { group, companySettings } = await updateGroup({
        companyId: companyOf(principal),
        groupId: params.id,
        expectedVersion: parseIfMatch(headers['if-match']),
        patch: body,
      });
      return json(200, groupView(group, companySettings));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/client-groups/{id}',
    area: 'companies',
    access: STAFF,
    summary: 'Delete a client group; its clients move to the default group',
    tags: ['Client groups'],
    errors: [409],
    params: idParam,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deleteGroup({ companyId: companyOf(principal), groupId: params.id });
      return noContent();
    },
  }),
];
