import { companyOf } from '../domain/principal.js';
import * as z from 'zod';
import type { Contact } from '../domain/contact.js';
import { json, noContent, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { deleteContact, listContacts, requireContact } from '../store/client-records.js';
import { parseIfMatch } from '../store/items.js';
import { addContact } from './add-contact.js';
import { clientListRoute } from './list-route.js';
import { contactBody } from './schemas.js';
import { updateContact } from './update-contact.js';
import { contactSchema } from './response-schemas.js';

const STAFF_AND_CLIENT = ['staff', 'client'] as const;
const contactParams = z.object({ id: z.string().min(1).max(100), contactId: z.string().min(1).max(100) });

function contactView(c: Contact) {
  const { clientId, ...rest } = c;
  return { ...rest, clientId };
}

export const contactRoutes = [
  route({
    method: 'POST',
    path: '/v1/clients/{id}/contacts',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Add a contact (billing contacts receive invoices and billing notices)',
    tags: ['Contacts'],
    response: contactSchema,
    params: idParam,
    body: contactBody,
    successStatus: 201,
    handle: async ({ principal, params, body }) =>
      json(201, contactView(await addContact({ companyId: companyOf(principal), clientId: params.id, fields: body }))),
  }),
  clientListRoute<Contact>({
    path: '/v1/clients/{id}/contacts',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: "List a client's contacts",
    tags: ['Contacts'],
    itemSchema: contactSchema,
    read: listContacts,
    view: contactView,
  }),
  route({
    method: 'GET',
    path: '/v1/clients/{id}/contacts/{contactId}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Read a contact',
    tags: ['Contacts'],
    response: contactSchema,
    params: contactParams,
    handle: async ({ principal, params }) => json(200, contactView(await requireContact(companyOf(principal), params.id, params.contactId))),
  }),
  route({
    method: 'PATCH',
    path: '/v1/clients/{id}/contacts/{contactId}',
    area: 'clients',
    access: STAFF_AND_CLIENT,
    summary: 'Change a contact',
    tags: ['Contacts'],
    response: contactSchema,
    params: contactParams,
    body: contactBody.partial(),
    handle: async ({ principal, params, body, headers }) => {
      const contact = await updateContact({
        companyId: companyOf(principal),
        clientId: params.id,
        contactId: params.contactId,
        expectedVersion: parseIfMatch(headers['if-match']),
        patch: body,
      });
      return json(200, contactView(contact));
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
      await deleteContact(companyOf(principal), params.id, params.contactId);
      return noContent();
    },
  }),
];
