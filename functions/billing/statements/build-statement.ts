import type { Client } from '../../domain/client.js';
import type { Company } from '../../domain/company.js';
import { buildStatement, statementPeriod, type Statement } from '../../domain/statement.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import { loadLedger } from '../../store/ledger.js';
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
  const loaded = await loadLedger(input.companyId, client.id);
  // A currency the company has since removed still has a statement while the client has history in it.
  const hasHistory = [...loaded.invoices.values(), ...loaded.transactions.values()].some((o) => o.currency === currency);
  if (!hasHistory && currency !== client.currency) assertCurrency(company, currency);
  return { company, client, statement: buildStatement(currency, from, to, loaded.invoices.values(), loaded.transactions.values()) };
}

/** The statement and its PDF. */
export async function renderClientStatementPdf(input: StatementInput): Promise<{ statement: Statement; pdf: Buffer }> {
  const { company, client, statement } = await buildClientStatement(input);
  return { statement, pdf: await renderStatementDocument(company, client, statement) };
}
