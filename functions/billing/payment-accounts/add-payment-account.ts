import type { PaymentDetails, TokenizedPaymentMethod } from '../../adapters/gateway/port.js';
import type { Client } from '../../domain/client.js';
import { ValidationError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { contactOf, newPaymentAccount, type PaymentAccount, type PaymentAccountContact } from '../../domain/payment-account.js';
import type { Principal } from '../../domain/principal.js';
import { getServices } from '../../services.js';
import { getContact } from '../../store/client-records.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import { nowIso } from '../../store/items.js';
import { insertPaymentAccount, requirePaymentAccount, setAutoDebitAccount } from '../../store/payment-accounts.js';
import { today } from '../common.js';
import { assertPaymentDetails, sealPaymentSecret, tokenize } from './payment-methods.js';

export interface AddPaymentAccountInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
  details: PaymentDetails;
  /** The account's billing contact; without it (and without `copyFromContactId`) the client's own details. */
  contact?: PaymentAccountContact;
  copyFromContactId?: string;
  /** Also make it the client's auto-debit account. */
  autoDebit?: boolean;
}

/** Adds a card or bank account: checked, tokenised at the gateway, and kept with its token sealed. */
export async function addPaymentAccount(input: AddPaymentAccountInput): Promise<PaymentAccount> {
  const { companyId, details } = input;
  const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, input.clientId)]);
  if (input.contact && input.copyFromContactId) throw ValidationError.field('copyFromContactId', 'Give a contact or a contact to copy, not both.');
  const contact = input.copyFromContactId ? await copiedContact(companyId, client.id, input.copyFromContactId) : input.contact;
  assertPaymentDetails(details, today(company), details.type);
  const method = await tokenize(details);
  const account = await keepPaymentMethod(companyId, client, details, method, contact);
  if (!input.autoDebit) return account;
  // Read again: the client may have changed while the gateway was tokenising.
  await setAutoDebitAccount(companyId, await requireClient(companyId, client.id), account.id);
  return requirePaymentAccount(companyId, client.id, account.id);
}

/**
 * Keeps details the gateway has tokenised as a new account of the client: the token sealed, and only brand, last4
 * and expiry (and the ACH account type) in clear. Also used by a payment with new details asked to be saved.
 */
export async function keepPaymentMethod(
  companyId: string,
  client: Client,
  details: PaymentDetails,
  method: TokenizedPaymentMethod,
  contact?: PaymentAccountContact,
): Promise<PaymentAccount> {
  const id = newId('pa');
  const secret = await sealPaymentSecret(companyId, id, method.token, details.type === 'ach' ? details.ach.routingNumber : undefined);
  const account = newPaymentAccount({
    id,
    clientId: client.id,
    type: details.type,
    method,
    accountType: details.type === 'ach' ? details.ach.accountType : undefined,
    contact: contact ?? contactOf(client),
    gateway: getServices().gateway.name,
    secret,
    now: nowIso(),
  });
  await insertPaymentAccount(companyId, account);
  return account;
}

async function copiedContact(companyId: string, clientId: string, contactId: string): Promise<PaymentAccountContact> {
  const source = await getContact(companyId, clientId, contactId);
  if (!source) throw ValidationError.field('copyFromContactId', 'No such contact.');
  return contactOf(source);
}
