import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { blankClient } from '../../support/blank-client.js';
import type { Client } from '../../../functions/domain/client.js';
import { newCompany, type Company, type TaxRate } from '../../../functions/domain/company.js';
import { newDefaultGroup } from '../../../functions/domain/group.js';
import { ValidationError } from '../../../functions/domain/errors.js';
import { newId } from '../../../functions/domain/ids.js';
import { insertClient } from '../../../functions/store/clients.js';
import { putNewCompany } from '../../../functions/store/companies.js';
import { db, tableName } from '../../../functions/store/dynamo.js';
import { balanceSk, clientPk, invoiceSk, recurringInvoiceSk } from '../../../functions/store/keys.js';

const NOW = '2030-01-01T00:00:00.000Z';

/** A company written straight to the store (no login): New York time, USD and EUR, one tax rate for the US. */
export async function seedCompany(taxRates: TaxRate[] = [{ id: 'tax_us', name: 'US sales tax', percent: '8', country: 'US' }]): Promise<Company> {
  const group = newDefaultGroup(newId('grp'), NOW);
  const base = newCompany({ id: newId('co'), name: 'Invoice Test Co', defaultCurrency: 'USD', timeZone: 'America/New_York', defaultGroupId: group.id }, NOW);
  const company: Company = { ...base, own: { ...base.own, currencies: ['USD', 'EUR'], taxRates } };
  await putNewCompany(company, group);
  return company;
}

export async function seedClient(company: Company, fields: Partial<Client> = {}): Promise<Client> {
  return insertClient(company.id, blankClient({ groupId: company.defaultGroupId, firstName: 'Ada', lastName: 'Lovelace', createdAt: NOW, ...fields }));
}

async function item(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await db().send(new GetCommand({ TableName: tableName(), Key: { PK: pk, SK: sk }, ConsistentRead: true }))).Item;
}

/** The stored invoice item, keys and all. */
export const invoiceItem = (companyId: string, clientId: string, invoiceId: string) => item(clientPk(companyId, clientId), invoiceSk(invoiceId));
export const recurringItem = (companyId: string, clientId: string, seriesId: string) => item(clientPk(companyId, clientId), recurringInvoiceSk(seriesId));

/** The client's balance in one currency (all zero when nothing was ever billed in it). */
export async function balanceOf(companyId: string, clientId: string, currency: string) {
  const b = await item(clientPk(companyId, clientId), balanceSk(currency));
  return { invoiced: b?.invoiced ?? 0, paid: b?.paid ?? 0, due: b?.due ?? 0, credit: b?.credit ?? 0 };
}

/** One untaxed line of `unitAmount`. */
export const work = (unitAmount: number) => [{ description: 'Work', quantity: 1, unitAmount, taxable: false }];

/** The field paths a `ValidationError` names (anything else is rethrown). */
export function fieldPaths(error: unknown): string[] {
  if (!(error instanceof ValidationError)) throw error;
  return error.errors.map((e) => e.path);
}
