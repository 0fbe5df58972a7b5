import type { Client } from '../../domain/client.js';
import type { Company } from '../../domain/company.js';
import { statementFromEntries, statementPeriod, type Statement } from '../../domain/statement.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import { hasStatementHistory, readStatementPeriod } from '../../store/statements.js';
import { assertCurrency, today } from '../common.js';
import { renderStatementDocument } from '../documents.js';

export interface StatementInput {
  companyId: string;
  clientId: string;
  /** Default: the client's currency. */
  currency?: string;
  /** Default: the last 30 days up to today in the company's time zone. */
  from?: string;
  to?: string;
}

export interface BuiltStatement {
  company: Company;
  client: Client;
  statement: Statement;
}

/** A client's statement in one currency: opening balance, dated lines with a running balance, closing balance. */
export async function buildClientStatement(input: StatementInput): Promise<BuiltStatement> {
  const [company, client] = await Promise.all([requireCompany(input.companyId), requireClient(input.companyId, input.clientId)]);
  const currency = input.currency ?? client.currency;
  const { from, to } = statementPeriod(today(company), input);
  // Only the period is read (and the monthly and yearly sums before it): the cost does not grow with the history.
  const [stored, hasHistory] = await Promise.all([
    readStatementPeriod(input.companyId, client.id, currency, from, to),
    // A currency the company has since removed still has a statement while the client has history in it.
    currency === client.currency || company.own.currencies.includes(currency) ? true : hasStatementHistory(input.companyId, client.id, currency),
  ]);
  if (!hasHistory) assertCurrency(company, currency);
  return { company, client, statement: statementFromEntries(currency, from, to, stored.openingBalance, stored.entries) };
}

/** The statement and its PDF. */
export async function renderClientStatementPdf(input: StatementInput): Promise<{ statement: Statement; pdf: Buffer }> {
  const { company, client, statement } = await buildClientStatement(input);
  return { statement, pdf: await renderStatementDocument(company, client, statement) };
}
