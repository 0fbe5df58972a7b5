import { z } from 'zod';
import { companyView, normaliseCurrencies, settingsView, type Company } from '../domain/company.js';
import { groupView, type Group } from '../domain/group.js';
import { newId } from '../domain/ids.js';
import { DEFAULT_GROUP_SETTINGS, mergeOverrides, type GroupSettings } from '../domain/settings.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { json, noContent, route, type CompanyPrincipal, type Principal } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { getServices } from '../services.js';
import { deleteNewCompany, listCompanies, putNewCompany, requireCompany, saveCompany } from '../store/companies.js';
import { deleteGroupItem, listGroups, putNewGroup, requireGroup, saveGroup } from '../store/groups.js';
import { moveGroupMembers } from '../store/clients.js';
import { assertVersion, nowIso, parseIfMatch } from '../store/items.js';
import { createCompanyBody, createGroupBody, settingsPatchBody, updateGroupBody } from './schemas.js';

const STAFF = ['staff'] as const;
const company = (p: Principal | null) => p as CompanyPrincipal;

export const companyRoutes = [
  route({
    method: 'POST',
    path: '/v1/companies',
    area: 'companies',
    access: ['operator'],
    summary: 'Create a company with its default client group and first staff login',
    tags: ['Companies'],
    body: createCompanyBody,
    successStatus: 201,
    handle: async ({ body }) => {
      const now = nowIso();
      const id = newId('co');
      const defaultGroup: Group = { id: newId('grp'), name: 'General', description: null, color: null, isDefault: true, settings: {}, version: 1, createdAt: now, updatedAt: now };
      const created: Company = {
        id,
        name: body.name,
        defaultGroupId: defaultGroup.id,
        own: { defaultCurrency: body.defaultCurrency, currencies: [body.defaultCurrency], timeZone: body.timeZone, language: 'en', taxRates: [], contactTypes: [] },
        groupSettings: DEFAULT_GROUP_SETTINGS,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await putNewCompany(created, defaultGroup);
      try {
        const staff = await getServices().identity.createUser({ username: body.staff.username, password: body.staff.password, email: body.staff.email, role: 'staff', companyId: id });
        created.staffUserId = staff.userId;
        await saveCompany(created, { ...created, version: created.version });
      } catch (error) {
        await deleteNewCompany(id, defaultGroup.id);
        throw error;
      }
      return json(201, { ...companyView(created), defaultGroup: { id: defaultGroup.id, name: defaultGroup.name } });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/companies',
    area: 'companies',
    access: ['operator'],
    summary: 'List companies',
    tags: ['Companies'],
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
    handle: async ({ principal }) => json(200, settingsView(await requireCompany(company(principal).companyId))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/settings',
    area: 'companies',
    access: STAFF,
    summary: 'Change company settings (group settings are the values groups inherit)',
    tags: ['Company settings'],
    body: settingsPatchBody,
    handle: async ({ principal, body, headers }) => {
      const current = await requireCompany(company(principal).companyId);
      assertVersion(current, parseIfMatch(headers['if-match']));
      const { defaultCurrency, currencies, timeZone, language, taxRates, contactTypes, paymentDueNotices, ...groupKeys } = body as z.infer<typeof settingsPatchBody> & Record<string, unknown>;
      const nextDefault = (defaultCurrency as string | undefined) ?? current.own.defaultCurrency;
      const nextCurrencies = currencies ? normaliseCurrencies(nextDefault, currencies as string[]) : normaliseCurrencies(nextDefault, current.own.currencies);
      const rates = (taxRates as Array<{ id?: string; name: string; percent: string; country?: string; state?: string }> | undefined)?.map((r) => ({ ...r, id: r.id ?? newId('prc').replace('prc_', 'tax_') }));
      if (rates && new Set(rates.map((r) => r.id)).size !== rates.length) throw ValidationError.field('taxRates', 'Tax rate ids must be unique.');
      if (rates?.some((r) => r.state && !r.country)) throw ValidationError.field('taxRates', 'A rate with a state needs a country.');
      const groupSettings: GroupSettings = {
        ...current.groupSettings,
        ...(Object.fromEntries(Object.entries(groupKeys).filter(([, v]) => v !== undefined)) as Partial<GroupSettings>),
        paymentDueNotices: { ...current.groupSettings.paymentDueNotices, ...((paymentDueNotices as object | undefined) ?? {}) },
      };
      const next: Company = {
        ...current,
        own: {
          defaultCurrency: nextDefault,
          currencies: nextCurrencies,
          timeZone: (timeZone as string | undefined) ?? current.own.timeZone,
          language: (language as string | undefined) ?? current.own.language,
          taxRates: rates ?? current.own.taxRates,
          contactTypes: (contactTypes as string[] | undefined) ?? current.own.contactTypes,
        },
        groupSettings,
        version: current.version + 1,
        updatedAt: nowIso(),
      };
      await saveCompany(current, next);
      return json(200, settingsView(next));
    },
  }),
  route({
    method: 'POST',
    path: '/v1/client-groups',
    area: 'companies',
    access: STAFF,
    summary: 'Create a client group',
    tags: ['Client groups'],
    body: createGroupBody,
    successStatus: 201,
    handle: async ({ principal, body }) => {
      const companyId = company(principal).companyId;
      const owner = await requireCompany(companyId);
      const now = nowIso();
      const group: Group = {
        id: newId('grp'),
        name: body.name,
        description: body.description ?? null,
        color: body.color ?? null,
        isDefault: false,
        settings: mergeOverrides({}, body.settings ?? {}),
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await putNewGroup(companyId, group);
      return json(201, groupView(group, owner.groupSettings));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/client-groups',
    area: 'companies',
    access: STAFF,
    summary: 'List client groups',
    tags: ['Client groups'],
    query: listQuery,
    handle: async ({ principal, query }) => {
      const companyId = company(principal).companyId;
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
    params: idParam,
    handle: async ({ principal, params }) => {
      const companyId = company(principal).companyId;
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
    params: idParam,
    body: updateGroupBody,
    handle: async ({ principal, params, body, headers }) => {
      const companyId = company(principal).companyId;
      const [owner, current] = await Promise.all([requireCompany(companyId), requireGroup(companyId, params.id)]);
      assertVersion(current, parseIfMatch(headers['if-match']));
      const next: Group = {
        ...current,
        name: body.name ?? current.name,
        description: body.description !== undefined ? body.description : current.description,
        color: body.color !== undefined ? body.color : current.color,
        settings: body.settings ? mergeOverrides(current.settings, body.settings) : current.settings,
        version: current.version + 1,
        updatedAt: nowIso(),
      };
      await saveGroup(companyId, current, next);
      return json(200, groupView(next, owner.groupSettings));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/client-groups/{id}',
    area: 'companies',
    access: STAFF,
    summary: "Delete a client group; its clients move to the default group",
    tags: ['Client groups'],
    params: idParam,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      const companyId = company(principal).companyId;
      const [owner, group] = await Promise.all([requireCompany(companyId), requireGroup(companyId, params.id)]);
      if (group.isDefault) throw new ConflictError('The default client group cannot be deleted.', { code: 'default_group' });
      // Move the members first: a crash leaves the group in place and the delete can simply be repeated.
      await moveGroupMembers(companyId, group.id, owner.defaultGroupId);
      await deleteGroupItem(companyId, group);
      // A client write that checked the group just before it went is committed by now: sweep it out too.
      await moveGroupMembers(companyId, group.id, owner.defaultGroupId);
      return noContent();
    },
  }),
];
