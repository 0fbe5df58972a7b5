import { assertValidContact, contactFieldsFrom, type Contact, type ContactFields } from '../domain/contact.js';
import { newId } from '../domain/ids.js';
import { putNewContact } from '../store/client-records.js';
import { readClientContext } from '../store/client-context.js';
import { nowIso } from '../store/items.js';
import { contactRulesFor } from './group-settings.js';

export interface AddContactInput {
  companyId: string;
  clientId: string;
  fields: Partial<ContactFields>;
}

export async function addContact(input: AddContactInput): Promise<Contact> {
  // The company and the client in one BatchGet, then the client's group: two reads before the write.
  const { company, client } = await readClientContext(input.companyId, input.clientId);
  const fields = contactFieldsFrom(input.fields);
  assertValidContact(fields, await contactRulesFor(company, client.groupId));
  const now = nowIso();
  const contact: Contact = { id: newId('ct'), clientId: client.id, ...fields, createdAt: now, updatedAt: now, version: 1 };
  await putNewContact(input.companyId, contact);
  return contact;
}
