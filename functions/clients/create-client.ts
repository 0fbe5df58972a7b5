import { actorOf } from '../domain/activity.js';
import { assertRequiredName, type Client, type ContactDetails } from '../domain/client.js';
import { assertCompanyCurrency, type Company } from '../domain/company.js';
import { ValidationError, type FieldError } from '../domain/errors.js';
import type { Group } from '../domain/group.js';
import { newId } from '../domain/ids.js';
import type { Principal } from '../domain/principal.js';
import type { LoginUser } from '../adapters/identity/port.js';
import { getServices } from '../services.js';
import { deleteClientPartition } from '../store/client-partition.js';
import { activityPut } from '../store/client-records.js';
import type { TransactItem } from '../store/dynamo.js';
import { insertClient, releaseClientNumber, setClientUserId } from '../store/clients.js';
import { readCompanyAndGroup } from '../store/client-context.js';
import { nowIso } from '../store/items.js';
import { generatePassword, unusablePassword } from './passwords.js';

export type CreateClientInput = Partial<ContactDetails> & {
  taxExempt?: boolean;
  taxId?: string | null;
  /** The company's default currency when absent. */
  currency?: string;
  /** A login is made when the client has a username, or else an email (which then serves as the username). */
  username?: string;
  password?: string;
  /** Make up a password for the login and return it, once. */
  generatePassword?: boolean;
  language?: string;
  /** The company's default group when absent. */
  groupId?: string;
  marketingOptIn?: boolean;
  customFields?: Record<string, string>;
  /** The next free number when absent. */
  number?: number;
};

export interface CreateClientOptions {
  /**
   * Items to commit in the same transaction as the client (an import's per-row marker, so a row run again cannot
   * create a second client). Given the client, with its id and number.
   */
  alsoWrite?: (client: Client) => TransactItem[];
  /** The company, already read by a caller creating many clients (an import); read here otherwise. */
  company?: Company;
}

export interface CreatedClient {
  client: Client;
  generatedPassword?: string;
  /** The client's group when the create read it (a group was given), so the answer need not read it again. */
  group?: Group;
}

/**
 * Creates a client: the client item with its index entries, unique markers, number and "created" activity entry
 * in one transaction, then its login at the identity provider (it needs the client's id). When the login cannot
 * be made or linked, the creation is undone.
 */
export async function createClient(
  companyId: string,
  input: CreateClientInput,
  principal: Principal | null,
  options: CreateClientOptions = {},
): Promise<CreatedClient> {
  // The company and a given group in one BatchGet (neither when an import passes the company and names no group).
  const { company, group } = await readCompanyAndGroup(companyId, input.groupId, options.company?.id === companyId ? options.company : undefined);
  const loginErrors: FieldError[] = [];
  if (input.password && input.generatePassword)
    loginErrors.push({ path: 'generatePassword', message: 'Give a password or ask for one to be generated, not both.' });
  const username = input.username ?? input.email ?? null;
  if ((input.password || input.generatePassword) && !username) loginErrors.push({ path: 'username', message: 'A login needs a username or an email.' });
  assertRequiredName({ company: input.company ?? null, firstName: input.firstName ?? null, lastName: input.lastName ?? null }, loginErrors);
  const currency = input.currency ?? company.own.defaultCurrency;
  assertCompanyCurrency(company, currency);
  const groupId = input.groupId ?? company.defaultGroupId;
  if (input.groupId && !group) throw ValidationError.field('groupId', 'No such client group.');

  const now = nowIso();
  const draft: Omit<Client, 'number'> & { number?: number } = {
    id: newId('cl'),
    number: input.number,
    status: 'active',
    groupId,
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    company: input.company ?? null,
    title: input.title ?? null,
    address1: input.address1 ?? null,
    address2: input.address2 ?? null,
    city: input.city ?? null,
    country: input.country ?? null,
    state: input.state ?? null,
    zip: input.zip ?? null,
    email: input.email ?? null,
    phones: input.phones ?? [],
    taxExempt: input.taxExempt ?? false,
    taxId: input.taxId ?? null,
    currency,
    username,
    userId: null,
    language: input.language ?? company.own.language,
    marketingOptIn: input.marketingOptIn ?? false,
    customFields: input.customFields ?? {},
    autoDebitAccountId: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const client = await insertClient(companyId, draft, (c) => [
    activityPut(companyId, c.id, actorOf(principal), 'client.created', { number: c.number }),
    ...(options.alsoWrite?.(c) ?? []),
  ]);
  const generatedPassword = input.generatePassword ? generatePassword() : undefined;
  if (username) {
    let login: LoginUser | undefined;
    try {
      login = await getServices().identity.createUser({
        username,
        password: input.password ?? generatedPassword ?? unusablePassword(),
        role: 'client',
        companyId,
        clientId: client.id,
        email: client.email ?? undefined,
      });
      client.userId = login.userId;
      await setClientUserId(companyId, client.id, login.userId);
    } catch (error) {
      await undoClientCreation(companyId, client, login);
      throw error;
    }
  }
  return { client, generatedPassword, ...(group ? { group } : {}) };
}

/**
 * Compensation of `createClient` once the client is written but its login could not be made (the identity provider
 * refused the username, or failed) or linked to it. The caller asked for a client with a login and was told no, so
 * no client may remain: its partition, index entries and email/username markers are deleted (else the retry would
 * be refused as a duplicate of a client the caller never got), and its number is freed so the same number can be
 * asked for again. A login already made for it is deleted too (its username would otherwise stay taken in the
 * company); if that delete fails the login is left behind rather than hiding the failure being undone: it opens
 * nothing, as a client token only works while its client exists.
 */
async function undoClientCreation(companyId: string, client: Client, login: LoginUser | undefined): Promise<void> {
  if (login)
    await getServices()
      .identity.deleteUser(companyId, login.username)
      .catch(() => undefined);
  await deleteClientPartition(companyId, client.id);
  await releaseClientNumber(companyId, client);
}
