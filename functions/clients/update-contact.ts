import { assertValidContact, contactFieldsFrom, type Contact, type ContactFields } from '../domain/contact.js';
import { replaceContact, requireContact } from '../store/client-records.js';
import { readClientContext } from '../store/client-context.js';
import { assertVersion, nowIso } from '../store/items.js';
import { contactRulesFor } from './group-settings.js';
import { applyChange } from '../store/retry.js';

export interface UpdateContactInput {
  companyId: string;
  clientId: string;
  contactId: string;
  /** The version the caller last read; the change is refused when the contact has moved on since. */
  expectedVersion?: number;
  patch: Partial<ContactFields>;
}

export function updateContact(input: UpdateContactInput): Promise<Contact> {
  return applyChange(input.expectedVersion, () => updateContactOnce(input));
}

async function updateContactOnce(input: UpdateContactInput): Promise<Contact> {
  const current = await requireContact(input.companyId, input.clientId, input.contactId);
  assertVersion(current, input.expectedVersion);
  const { company, client } = await readClientContext(input.companyId, input.clientId);
  const fields = contactFieldsFrom(input.patch, current);
  assertValidContact(fields, await contactRulesFor(company, client.groupId, current.type));
  const next: Contact = { ...current, ...fields, updatedAt: nowIso(), version: current.version + 1 };
  await replaceContact(input.companyId, current, next);
  return next;
}
