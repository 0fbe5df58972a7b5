import { clientListRoute } from './list-route.js';
import { z } from 'zod';
import type { Phone } from '../domain/client.js';
import { newId } from '../domain/ids.js';
import { ValidationError } from '../domain/errors.js';
import { idParam } from '../http/schemas.js';
import { json, noContent, route, type CompanyPrincipal, type Principal } from '../http/route.js';
import { deleteRecord, putRecord, replaceRecord, requireRecord } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { assertVersion, nowIso, parseIfMatch } from '../store/items.js';
import { CONTACT_SK_PREFIX, contactSk } from '../store/keys.js';
import { contactBody } from './schemas.js';
import { effectiveSettingsFor } from './service.js';

export const BUILT_IN_CONTACT_TYPES = ['billing', 'technical'];

export interface Contact {
  id: string;
  clientId: string;
  type: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  company: string | null;
  title: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  country: string | null;
  state: string | null;
  zip: string | null;
  phones: Phone[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

const FIELDS = ['firstName', 'lastName', 'email', 'company', 'title', 'address1', 'address2', 'city', 'country', 'state', 'zip'] as const;
const companyOf = (p: Principal | null) => (p as CompanyPrincipal).companyId;
const contactParams = z.object({ id: z.string().min(1).max(100), contactId: z.string().min(1).max(100) });

function contactView(c: Contact) {
  const { clientId, ...rest } = c;
  return { ...rest, clientId };
}

/** Checks the contact type and the client group's required contact fields (400 naming each missing one). */
async function validateContact(companyId: string, groupId: string, contact: Omit<Contact, 'id' | 'clientId' | 'createdAt' | 'updatedAt' | 'version'>, currentType?: string): Promise<void> {
  const { company, settings } = await effectiveSettingsFor(companyId, groupId);
  const errors = [];
  // A contact keeps a type the company has since removed until its type is changed.
  if (contact.type !== currentType && ![...BUILT_IN_CONTACT_TYPES, ...company.own.contactTypes].includes(contact.type)) {
    errors.push({ path: 'type', message: `Must be one of: ${[...BUILT_IN_CONTACT_TYPES, ...company.own.contactTypes].join(', ')}.` });
  }
  if (!contact.firstName?.trim()) errors.push({ path: 'firstName', message: 'Required.' });
  if (!contact.lastName?.trim()) errors.push({ path: 'lastName', message: 'Required.' });
  if (!contact.email?.trim()) errors.push({ path: 'email', message: 'Required.' });
  for (const field of settings.requiredContactFields) {
    const value = (contact as Record<string, unknown>)[field];
    const missing = field === 'phones' ? !Array.isArray(value) || value.length === 0 : value === null || value === undefined || String(value).trim() === '';
    if (missing && !errors.some((e) => e.path === field)) errors.push({ path: field, message: 'Required by the client group.' });
  }
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}

function fromBody(body: Partial<z.infer<typeof contactBody>>, base?: Contact) {
  const out: Record<string, unknown> = { type: body.type ?? base?.type, phones: body.phones ?? base?.phones ?? [] };
  for (const f of FIELDS) out[f] = body[f] !== undefined ? body[f] : (base?.[f] ?? null);
  return out as Omit<Contact, 'id' | 'clientId' | 'createdAt' | 'updatedAt' | 'version'>;
}

const STAFF_AND_CLIENT = ['staff', 'client'] as const;

export const contactRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/contacts',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Add a contact (billing contacts receive invoices and billing notices)',
    tags: ['Contacts'],
    params: idParam,
    body: contactBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) => {
      const companyId = companyOf(principal);
      const client = await requireClient(companyId, params.id);
      const fields = fromBody(body);
      await validateContact(companyId, client.groupId, fields);
      const now = nowIso();
      const contact: Contact = { id: newId('ct'), clientId: client.id, ...fields, createdAt: now, updatedAt: now, version: 1 };
      await putRecord({ companyId, clientId: client.id, sk: contactSk(contact.id) }, { entity: 'contact', ...contact });
      return json(201, contactView(contact));
    },
  }),
  clientListRoute<Contact>({
    path: '/v1/clients/{id}/contacts',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: "List a client's contacts",
    tags: ['Contacts'],
    prefix: CONTACT_SK_PREFIX,
    view: contactView,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/contacts/{contactId}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Read a contact',
    tags: ['Contacts'],
    params: contactParams,
    handle: async ({ principal, params }) => {
      const contact = await requireRecord<Contact>({ companyId: companyOf(principal), clientId: params.id, sk: contactSk(params.contactId) }, 'contact');
      return json(200, contactView(contact));
    },
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/contacts/{contactId}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Change a contact',
    tags: ['Contacts'],
    params: contactParams,
    body: contactBody.partial(),
    handle: async ({ principal, params, body, headers }) => {
      const companyId = companyOf(principal);
      const key = { companyId, clientId: params.id, sk: contactSk(params.contactId) };
      const current = await requireRecord<Contact>(key, 'contact');
      assertVersion(current, parseIfMatch(headers['if-match']));
      const client = await requireClient(companyId, params.id);
      const fields = fromBody(body, current);
      await validateContact(companyId, client.groupId, fields, current.type);
      const next: Contact = { ...current, ...fields, updatedAt: nowIso(), version: current.version + 1 };
      await replaceRecord(key, current.version, { entity: 'contact', ...next }, 'contact');
      return json(200, contactView(next));
    },
  }),
  route({
    method: 'DELETE',
    path: '/v1/clients/{id}/contacts/{contactId}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Delete a contact',
    tags: ['Contacts'],
    params: contactParams,
    successStatus: 204,
    handle: async ({ principal, params }) => {
      await deleteRecord({ companyId: companyOf(principal), clientId: params.id, sk: contactSk(params.contactId) }, 'contact');
      return noContent();
    },
  }),
];
