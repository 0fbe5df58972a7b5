import { json, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { loadLedger } from '../store/ledger.js';
import { requireInvoice } from '../store/invoices.js';
import { actorOf } from '../clients/service.js';
import { invoiceView } from '../domain/invoice.js';
import { sendInvoiceEmail, sendStatementEmail } from '../email/notify.js';
import { assertCurrency, companyOf, today } from './common.js';
import { renderInvoiceDocument, renderStatementDocument } from './documents.js';
import { buildStatement, defaultPeriod } from './statement.js';
import { statementQuery } from './schemas.js';
import { ValidationError } from '../domain/errors.js';
import type { Principal } from '../http/route.js';
import type { z } from 'zod';

async function statementFor(principal: Principal | null, clientId: string, query: z.infer<typeof statementQuery>) {
  const companyId = companyOf(principal);
  const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, clientId)]);
  const currency = query.currency ?? client.currency;
  const period = defaultPeriod(today(company));
  const from = query.from ?? (query.to && query.to < period.from ? query.to : period.from);
  const to = query.to ?? period.to;
  if (from > to) throw ValidationError.field('from', 'from must not be after to.');
  const loaded = await loadLedger(companyId, client.id);
  // A currency the company has since removed still has a statement while the client has history in it.
  const hasHistory = [...loaded.invoices.values(), ...loaded.transactions.values()].some((o) => o.currency === currency);
  if (!hasHistory && currency !== client.currency) assertCurrency(company, currency);
  return { company, client, statement: buildStatement(currency, from, to, loaded.invoices.values(), loaded.transactions.values()) };
}


export const statementRoutes = [
  route({
    method: 'GET',
    path: '/v1/clients/{id}/statement',
    area: 'billing',
    access: ['staff', 'client'],
    summary: 'Statement for a period: opening balance, dated lines with running balance, closing balance (JSON or PDF)',
    tags: ['Statements'],
    params: idParam,
    query: statementQuery,
    produces: ['application/pdf'],
    handle: async ({ principal, params, query, headers }) => {
      const { company, client, statement } = await statementFor(principal, params.id, query);
      const wantsPdf = query.format === 'pdf' || (query.format === undefined && (headers.accept ?? '').includes('application/pdf'));
      if (wantsPdf) {
        const pdf = await renderStatementDocument(company, client, statement);
        return { status: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="statement-${statement.from}-${statement.to}.pdf"` }, body: pdf };
      }
      return json(200, statement);
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/statement/send',
    area: 'billing',
    access: ['staff'],
    summary: 'Email the statement with its PDF attached',
    tags: ['Statements'],
    params: idParam,
    query: statementQuery,
    successStatus: 202,
    handle: async ({ principal, params, query }) => {
      const { company, client, statement } = await statementFor(principal, params.id, query);
      const pdf = await renderStatementDocument(company, client, statement);
      const mail = await sendStatementEmail(company.id, client, statement, pdf, actorOf(principal));
      return json(202, { status: 'accepted', mailId: mail?.id ?? null });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/invoices/{id}/deliver',
    area: 'billing',
    access: ['staff'],
    summary: 'Email the invoice with its PDF to the billing contacts (or the client)',
    tags: ['Invoices'],
    params: idParam,
    successStatus: 202,
    handle: async ({ principal, params }) => {
      const companyId = companyOf(principal);
      const invoice = await requireInvoice(companyId, params.id);
      if (invoice.status === 'draft') throw ValidationError.field('id', 'A draft cannot be delivered; open it first.');
      const client = await requireClient(companyId, invoice.clientId);
      const pdf = await renderInvoiceDocument(companyId, invoice);
      const mail = await sendInvoiceEmail(companyId, client, invoiceView(invoice), pdf, actorOf(principal), { automatic: false });
      return json(202, { status: 'accepted', mailId: mail?.id ?? null });
    },
  }),
];
