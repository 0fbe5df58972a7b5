import type { Client } from '../../functions/domain/client.js';
import { newId } from '../../functions/domain/ids.js';

/**
 * A client as the store takes it, every field blank but what the caller gives: fixtures and benchmarks name only
 * what their case is about (a name, a status, a group), not the thirty fields of a profile.
 */
export function blankClient(fields: Partial<Client> & Pick<Client, 'groupId'>): Omit<Client, 'number'> & { number?: number } {
  const at = fields.createdAt ?? '2025-01-01T00:00:00.000Z';
  return {
    id: newId('cl'),
    status: 'active',
    firstName: null,
    lastName: null,
    company: null,
    title: null,
    address1: null,
    address2: null,
    city: null,
    country: null,
    state: null,
    zip: null,
    email: null,
    phones: [],
    taxExempt: false,
    taxId: null,
    currency: 'USD',
    username: null,
    userId: null,
    language: 'en',
    marketingOptIn: false,
    customFields: {},
    autoDebitAccountId: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}
